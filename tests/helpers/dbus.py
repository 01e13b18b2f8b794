"""A private D-Bus session bus for tests: a real dbus-daemon, never the user's own bus."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class Bus:
    """A running ``dbus-daemon --session`` and its address."""

    def __init__(self, proc: subprocess.Popen[str], address: str, directory: str) -> None:
        self.proc, self.address, self.directory = proc, address, directory

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def missing_tools() -> list[str]:
    return [t for t in ("dbus-daemon", "playerctl") if shutil.which(t) is None]


@contextmanager
def private_bus() -> Iterator[Bus]:
    """Start a session bus on a socket in a fresh temporary directory; stop it afterwards."""
    # A short directory: unix socket paths are limited to about 107 bytes.
    tmp = tempfile.mkdtemp(prefix="vc-bus-")
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:path={tmp}/bus"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    bus = Bus(proc, address, tmp)
    try:
        if not address:
            raise RuntimeError("dbus-daemon printed no address")
        yield bus
    finally:
        bus.stop()
        shutil.rmtree(tmp, ignore_errors=True)
