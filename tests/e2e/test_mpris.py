"""MprisSource against a real private dbus-daemon, driven by playerctl and jeepney clients."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from helpers.dbus import Bus, private_bus
from jeepney import (
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    new_method_call,
)
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import (
    DBusConnection,
    Proxy,
    open_dbus_connection,
)

from voicecoach.control import mpris
from voicecoach.control.commands import Command, SourceError
from voicecoach.control.mpris import MprisSource

needs_dbus = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None, reason="dbus-daemon not installed (Debian package dbus-daemon)"
)
needs_playerctl = pytest.mark.skipif(
    shutil.which("playerctl") is None, reason="playerctl not installed (Debian package playerctl)"
)

PLAYER = "org.mpris.MediaPlayer2.Player"
NAME = "org.mpris.MediaPlayer2.voicecoach"


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[Bus]:
    """A private session bus, pointed to by DBUS_SESSION_BUS_ADDRESS."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon not installed (Debian package dbus-daemon; ./scripts/test installs it)")
    with private_bus() as b:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", b.address)
        yield b


@pytest.fixture
def src(bus: Bus) -> Iterator[MprisSource]:
    s = MprisSource.connect()
    assert s is not None, mpris.last_error
    yield s
    s.close()


def pump(s: MprisSource, *args: str, timeout: float = 10.0) -> tuple[list[Command], str]:
    """Run a client command to completion while serving the bus as the live loop would."""
    proc = subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    commands: list[Command] = []
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{args} did not finish in {timeout}s")
        readable, _, _ = select.select([s.fileno()], [], [], 0.05)
        if readable:
            commands += s.read()
    out, _ = proc.communicate()
    commands += s.read()
    return commands, out


def playerctl(s: MprisSource, *args: str) -> tuple[list[Command], str]:
    return pump(s, "playerctl", "-p", "voicecoach", *args)


def call(
    s: MprisSource,
    client: DBusConnection,
    iface: str,
    member: str,
    sig: str | None = None,
    body: tuple[object, ...] = (),
) -> Message:
    """Call a method on *s* from a jeepney client without a thread: send, serve, receive."""
    addr = DBusAddress("/org/mpris/MediaPlayer2", bus_name=s.bus_name, interface=iface)
    msg = new_method_call(addr, member, sig, body)
    serial = next(client.outgoing_serial)
    client.send(msg, serial=serial)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        select.select([s.fileno()], [], [], 0.05)
        s.read()
        try:
            reply = client.receive(timeout=0.05)
        except TimeoutError:
            continue
        if reply.header.fields.get(HeaderFields.reply_serial) == serial:
            return reply
    pytest.fail(f"no reply to {iface}.{member}")


def show(s: MprisSource, status: str = "Playing", title: str = "Squats", track_id: str = "3", **kw: object) -> None:
    """update() with a typical step; tests vary only what they look at."""
    s.update(status=status, title=title, album="Morning legs", track_id=track_id, length_us=45_000_000, **kw)  # type: ignore[arg-type]


@needs_playerctl
def test_buttons_become_headset_commands(src: MprisSource) -> None:
    expected = {
        "play-pause": "toggle",
        "play": "resume",
        "pause": "pause",
        "next": "next",
        "previous": "back",
        "stop": "quit",
    }
    for verb, action in expected.items():
        commands, out = playerctl(src, verb)
        assert commands == [Command(action, "headset")], (verb, out)


@needs_playerctl
def test_status_follows_update(src: MprisSource) -> None:
    assert playerctl(src, "status")[1].strip() == "Stopped"
    show(src, status="Playing")
    assert playerctl(src, "status")[1].strip() == "Playing"
    show(src, status="Paused")
    assert playerctl(src, "status")[1].strip() == "Paused"


@needs_playerctl
def test_metadata_and_position(src: MprisSource) -> None:
    show(src, status="Paused", position_us_fn=lambda: 12_500_000)
    _, out = playerctl(src, "metadata")
    rows = {
        line.split(None, 2)[1]: line.split(None, 2)[2].strip()
        for line in out.splitlines()
        if len(line.split(None, 2)) == 3
    }
    assert rows["xesam:title"] == "Squats"
    assert rows["xesam:album"] == "Morning legs"
    assert rows["xesam:artist"] == "voicecoach"
    assert rows["mpris:length"] == "45000000"
    assert rows["mpris:trackid"].strip("'") == "/org/voicecoach/track/3"
    _, out = playerctl(src, "position")
    assert float(out) == pytest.approx(12.5, abs=0.01)


@needs_playerctl
def test_second_instance_gets_pid_name(src: MprisSource) -> None:
    second = MprisSource.connect()
    assert second is not None, mpris.last_error
    try:
        assert second.bus_name == f"{NAME}.instance{os.getpid()}"
        _, out = pump(src, "playerctl", "-l")
        assert set(out.split()) == {"voicecoach", f"voicecoach.instance{os.getpid()}"}
    finally:
        second.close()


@needs_playerctl
def test_close_removes_player(bus: Bus) -> None:
    s = MprisSource.connect()
    assert s is not None
    _, out = pump(s, "playerctl", "-l")
    assert "voicecoach" in out.split()
    s.close()
    s.close()  # twice is fine
    # check=False: playerctl -l exits 1 when it finds no player, which is the point.
    out = subprocess.run(["playerctl", "-l"], check=False, capture_output=True, text=True, timeout=10).stdout
    assert "voicecoach" not in out.split()
    with pytest.raises(SourceError):
        s.read()


@pytest.mark.parametrize("address", ["unix:path=/nonexistent/vc/bus", "garbage", "tcp:host=localhost,port=1"])
def test_connect_to_bogus_bus_returns_none(address: str) -> None:
    assert MprisSource.connect(bus_address=address) is None
    assert mpris.last_error.startswith("no session bus")


def test_connect_without_session_bus_returns_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    assert MprisSource.connect() is None
    assert "DBUS_SESSION_BUS_ADDRESS" in mpris.last_error


@needs_dbus
def test_properties_changed_carries_only_what_changed(src: MprisSource) -> None:
    with open_dbus_connection() as watcher:
        rule = MatchRule(type="signal", path="/org/mpris/MediaPlayer2")
        Proxy(message_bus, watcher).AddMatch(rule)
        with watcher.filter(rule, bufsize=10) as signals:
            show(src)
            msg = watcher.recv_until_filtered(signals, timeout=5)
            iface, changed, invalidated = msg.body
            assert (msg.header.fields[HeaderFields.member], iface, invalidated) == ("PropertiesChanged", PLAYER, [])
            assert set(changed) == {"PlaybackStatus", "Metadata"}
            meta = changed["Metadata"][1]
            assert meta["mpris:trackid"] == ("o", "/org/voicecoach/track/3")
            assert meta["mpris:length"] == ("x", 45_000_000)
            assert meta["xesam:artist"] == ("as", ["voicecoach"])

            show(src, status="Paused")
            msg = watcher.recv_until_filtered(signals, timeout=5)
            assert msg.body[1] == {"PlaybackStatus": ("s", "Paused")}

            show(src, status="Paused", title="Lunges", track_id="4")
            msg = watcher.recv_until_filtered(signals, timeout=5)
            assert set(msg.body[1]) == {"Metadata"}

            show(src, status="Paused", title="Lunges", track_id="4")
            src.seeked(3_000_000)  # nothing changed above, so the next signal is Seeked
            msg = watcher.recv_until_filtered(signals, timeout=5)
            assert (msg.header.fields[HeaderFields.member], msg.body) == ("Seeked", (3_000_000,))


@needs_dbus
def test_every_call_gets_a_reply(src: MprisSource) -> None:
    show(src, position_us_fn=lambda: 7_000_000)
    props = "org.freedesktop.DBus.Properties"
    with open_dbus_connection() as client:
        r = call(src, client, props, "Get", "ss", (PLAYER, "Position"))
        assert r.body == (("x", 7_000_000),)
        r = call(src, client, props, "GetAll", "s", ("org.mpris.MediaPlayer2",))
        assert r.body[0]["Identity"] == ("s", "voicecoach")
        assert r.body[0]["CanQuit"] == ("b", False)
        r = call(src, client, props, "Set", "ssv", (PLAYER, "PlaybackStatus", ("s", "Paused")))
        assert r.header.message_type is MessageType.error
        r = call(src, client, props, "Set", "ssv", (PLAYER, "Volume", ("d", 0.5)))
        assert r.header.message_type is MessageType.method_return
        r = call(src, client, "org.freedesktop.DBus.Introspectable", "Introspect")
        assert '<interface name="org.mpris.MediaPlayer2.Player">' in r.body[0]
        r = call(src, client, "org.freedesktop.DBus.Peer", "Ping")
        assert r.header.message_type is MessageType.method_return
        for member, sig, body in [
            ("Seek", "x", (5,)),
            ("SetPosition", "ox", ("/a", 5)),
            ("OpenUri", "s", ("file:///x",)),
        ]:
            r = call(src, client, PLAYER, member, sig, body)
            assert r.header.message_type is MessageType.method_return
        r = call(src, client, PLAYER, "Rewind")
        assert r.header.message_type is MessageType.error
        assert src.read() == []  # none of these were commands, and read() did not block


@needs_dbus
def test_bus_gone_raises_source_error(bus: Bus, src: MprisSource) -> None:
    bus.stop()
    readable, _, _ = select.select([src.fileno()], [], [], 5)
    assert readable, "EOF should make the bus socket readable"
    with pytest.raises(SourceError, match="connection lost"):
        src.read()
    show(src)  # a dead bus never breaks the session


# -- fault injection: a Properties call with arguments of the wrong types gets the standard InvalidArgs.

FAULT_PROPS = "org.freedesktop.DBus.Properties"
WANTED = {"Get": "ss", "GetAll": "s", "Set": "ssv"}


@needs_dbus
@pytest.mark.parametrize(
    ("member", "sig", "body"),
    [
        ("Get", "asas", ([PLAYER], ["Position"])),
        ("Get", "s", (PLAYER,)),
        ("Get", "ssi", (PLAYER, "Position", 1)),
        ("GetAll", "as", ([PLAYER],)),
        ("GetAll", "i", (3,)),
        ("Set", "ss", (PLAYER, "Volume")),
        ("Set", "sss", (PLAYER, "Volume", "loud")),
    ],
    ids=["get-lists", "get-one-name", "get-extra", "getall-list", "getall-int", "set-no-value", "set-not-variant"],
)
def test_wrong_argument_types_are_invalid_args(src: MprisSource, member, sig, body) -> None:
    show(src)
    with open_dbus_connection() as client:
        r = call(src, client, FAULT_PROPS, member, sig, body)
        assert r.header.message_type is MessageType.error
        assert r.header.fields[HeaderFields.error_name] == "org.freedesktop.DBus.Error.InvalidArgs"
        assert r.body[0] == f"{FAULT_PROPS}.{member} takes arguments of type ({WANTED[member]}), not ({sig})"
        assert "Error:" not in r.body[0]
        ok = call(src, client, FAULT_PROPS, "Get", "ss", (PLAYER, "PlaybackStatus"))  # and it still answers
        assert ok.body == (("s", "Playing"),)
    assert src.read() == []
