"""Where the phone remote serves (the LAN guess, without touching the network) and its QR code."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest

from voicecoach.control.remote import hosts, qr
from voicecoach.control.remote.hosts import Candidate, HostError

LO = Candidate("lo", "127.0.0.1")
WIFI = Candidate("wlan0", "192.168.1.23")
DOCKER = Candidate("docker0", "172.17.0.1")
VPN = Candidate("tun0", "10.8.0.2")
PUBLIC = Candidate("eth0", "85.12.3.4")  # a public address (not a documentation range: those count as private)


def test_the_guess_is_the_default_routes_address():
    assert hosts.choose([LO, DOCKER, WIFI], route="192.168.1.23") == WIFI
    assert hosts.choose([LO, VPN, WIFI], route="10.8.0.2") == VPN  # the route wins: it is where traffic goes


def test_without_a_route_a_private_address_of_a_real_interface():
    assert hosts.choose([LO, DOCKER, WIFI]) == WIFI
    assert hosts.choose([LO, PUBLIC, WIFI]) == WIFI
    assert hosts.choose([LO, DOCKER]) == DOCKER  # better than nothing: the user is told the others
    assert hosts.choose([LO]) == Candidate("lo", "127.0.0.1")
    assert hosts.choose([]) == Candidate("lo", "127.0.0.1")


def test_remote_host_names_an_address_or_an_interface():
    found = [LO, DOCKER, WIFI]
    assert hosts.choose(found, "docker0") == DOCKER
    assert hosts.choose(found, "192.168.1.23") == WIFI
    assert hosts.choose(found, "127.0.0.1") == LO
    assert hosts.choose([WIFI], "127.0.0.1") == Candidate("", "127.0.0.1")
    assert hosts.choose([WIFI], "0.0.0.0") == Candidate("", "0.0.0.0")
    with pytest.raises(HostError, match=r"^no network interface or address 'wlan9' here; choose one with "):
        hosts.choose(found, "wlan9")
    with pytest.raises(HostError) as err:
        hosts.choose(found, "10.0.0.9")
    assert str(err.value) == (
        "10.0.0.9 is not an address of this computer; "
        "choose one with --remote-host: 172.17.0.1 (docker0), 192.168.1.23 (wlan0)"
    )
    assert "\n" not in str(err.value)


def test_the_listing_is_one_line():
    assert hosts.listing([LO]) == "this computer has no network address but 127.0.0.1"
    assert hosts.listing([LO, WIFI, Candidate("", "10.1.1.1")]) == (
        "choose one with --remote-host: 192.168.1.23 (wlan0), 10.1.1.1"
    )


def test_candidates_on_this_machine_include_loopback(monkeypatch):
    monkeypatch.setattr(hosts, "route_address", lambda: None)  # the interfaces' own addresses only: no socket connects
    assert Candidate("lo", "127.0.0.1") in hosts.candidates()


class Tty(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_the_code_is_drawn_only_where_it_can_be_seen():
    env = {"TERM": "xterm-256color"}
    assert qr.can_draw(Tty(), env)
    assert not qr.can_draw(io.StringIO(), env)  # not a terminal (plain output, a pipe)
    assert not qr.can_draw(Tty(), {**env, "NO_COLOR": "1"})
    assert not qr.can_draw(Tty(), {**env, "ACCESSIBLE": "1"})  # a screen reader: the address alone
    assert not qr.can_draw(Tty(), {"TERM": "dumb"})
    latin = Tty()
    latin.encoding = "latin-1"
    assert not qr.can_draw(latin, env)


def _pbm(text: str) -> bytes:
    """The terminal's picture of the code: each character is two modules (top, bottom) lit in white."""
    rows = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
    halves = {"█": (1, 1), "▀": (1, 0), "▄": (0, 1), " ": (0, 0)}
    width = max(len(r) for r in rows)
    grid = []
    for row in rows:
        cells = [halves[c] for c in row.ljust(width)]
        grid += [[c[0] for c in cells], [c[1] for c in cells]]
    scale, pad = 6, 4
    out = []
    for line in [[1] * width] * pad + grid + [[1] * width] * pad:  # white margin, as the terminal's black would not be
        pixels = [1] * pad + line + [1] * pad
        out += [" ".join("0" if lit else "1" for lit in pixels for _ in range(scale))] * scale
    w = (width + 2 * pad) * scale
    return f"P1\n{w} {len(out)}\n".encode() + "\n".join(out).encode() + b"\n"


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg not installed (./scripts/test installs it)")
def test_the_terminal_code_decodes_to_the_address(tmp_path):
    url = "http://192.168.1.23:48765/?t=Q2xvc2VkIG5ldHdvcmsgdGVzdA"
    text = qr.terminal_code(url)
    assert all(line.startswith("\x1b[97;40m") and line.endswith("\x1b[0m") for line in text.splitlines())
    path = tmp_path / "code.pbm"
    path.write_bytes(_pbm(text))
    out = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == url
