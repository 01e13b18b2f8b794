"""Which address the phone remote serves on: the computer's address on the local network.

:func:`candidates` lists the IPv4 addresses of the network interfaces (Linux: one
``SIOCGIFADDR`` ioctl per interface; elsewhere the address the default route would use);
:func:`choose` picks one, or the one ``--remote-host`` names (an address or an interface).
The choice is pure and unit-tested; only :func:`candidates` and :func:`route_address` touch
the system (no packet is ever sent).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass

# Interfaces of containers, VMs and VPN bridges: a phone on the Wi-Fi cannot reach them.
_VIRTUAL = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "lxc", "lxd", "cni", "flannel", "podman", "tun")


@dataclass(frozen=True)
class Candidate:
    interface: str  # "wlan0" ("" when unknown)
    address: str  # "192.168.1.23"

    def __str__(self) -> str:
        return f"{self.address} ({self.interface})" if self.interface else self.address


class HostError(ValueError):
    """``--remote-host`` names no address or interface of this computer."""


def _rank(c: Candidate, route: str | None) -> tuple[int, int, int]:
    ip = ipaddress.ip_address(c.address)
    virtual = c.interface.startswith(_VIRTUAL)
    # Lower is better: the default route's address, then private LAN addresses, never loopback.
    return (int(c.address != route), int(virtual or not ip.is_private or ip.is_link_local), int(ip.is_loopback))


def choose(found: Sequence[Candidate], wanted: str | None = None, route: str | None = None) -> Candidate:
    """The address to serve on: ``wanted`` (an address or an interface name) or the best guess.

    The guess prefers the address the default route uses (``route``), then a private LAN
    address of a real interface; with no network at all it is the loopback address.
    Raises :class:`HostError` for a ``wanted`` that is not here.
    """
    if wanted:
        for c in found:
            if wanted in (c.address, c.interface):
                return c
        try:
            ip = ipaddress.ip_address(wanted)
        except ValueError:
            raise HostError(f"no network interface or address {wanted!r} here; {listing(found)}") from None
        if ip.is_loopback or ip.is_unspecified:
            return Candidate("", wanted)  # 127.0.0.1 (this computer only) or 0.0.0.0 (every interface)
        raise HostError(f"{wanted} is not an address of this computer; {listing(found)}")
    usable = [c for c in found if not ipaddress.ip_address(c.address).is_loopback]
    if not usable:
        return Candidate("lo", "127.0.0.1")
    return min(usable, key=lambda c: _rank(c, route))


def listing(found: Sequence[Candidate]) -> str:
    """One line: the addresses --remote-host can choose from."""
    names = ", ".join(str(c) for c in found if not ipaddress.ip_address(c.address).is_loopback)
    return f"choose one with --remote-host: {names}" if names else "this computer has no network address but 127.0.0.1"


def candidates() -> list[Candidate]:
    """The IPv4 addresses of this computer's interfaces (loopback included)."""
    found: list[Candidate] = []
    if sys.platform.startswith("linux"):
        import fcntl

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                try:
                    packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
                except OSError:
                    continue  # no IPv4 address (down, or IPv6 only)
                found.append(Candidate(name, socket.inet_ntoa(packed[20:24])))
    route = route_address()
    if route is not None and all(c.address != route for c in found):
        found.append(Candidate("", route))
    return found


def route_address() -> str | None:
    """The address the default route would use (a UDP socket's connect sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never answered, never even sent to
            address: str = s.getsockname()[0]
            return address
    except OSError:
        return None
