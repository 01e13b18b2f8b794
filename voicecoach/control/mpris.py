"""MPRIS2 media-player control source: headset buttons, media keys and playerctl steer a live session.

voicecoach registers on the Linux session D-Bus as an MPRIS2 player
(``org.mpris.MediaPlayer2.voicecoach``), so whatever the desktop routes to
"the current media player" (Bluetooth headset buttons via BlueZ, keyboard
media keys via GNOME/KDE, ``playerctl``) becomes a :class:`Command`.

It uses jeepney's blocking connection but never waits on it: the bus socket is
one more file descriptor in the live loop's ``select()``, and :meth:`read`
only drains what is already there. No thread, no asyncio, no GLib.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageFlag,
    MessageType,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import DBusNameFlags, message_bus
from jeepney.io.blocking import DBusConnection, Proxy, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse

from voicecoach.control.commands import Action, Command, PlayerState, Source, SourceError, bound
from voicecoach.control.mprisxml import (
    INTROSPECT_IFACE,
    OBJECT_PATH,
    PEER_IFACE,
    PLAYER_IFACE,
    PROPS_IFACE,
    ROOT_IFACE,
    introspection,
)

_PROPS_SIGNATURES = {"Get": "ss", "GetAll": "s", "Set": "ssv"}
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"  # the spec's "no current track"
STATUSES = ("Playing", "Paused", "Stopped")

#: Why the last :meth:`MprisSource.connect` returned None ("" after a success).
last_error: str = ""

# Player methods that become commands (the controls' table: voicecoach.control.commands.BINDINGS).
_ACTIONS = bound("media")
# Accepted and ignored: CanSeek is false, and we play no URIs. Raise/Quit do
# nothing because CanRaise/CanQuit are false (the spec's wording).
_NO_EFFECT = {PLAYER_IFACE: {"Seek", "SetPosition", "OpenUri"}, ROOT_IFACE: {"Raise", "Quit"}}
# Writable per the spec, so a Set must not fail; voicecoach has one rate and
# leaves volume to the system mixer, so the value is kept as is.
_IGNORED_WRITES = frozenset({"Rate", "Volume"})


def _object_path(track_id: str) -> str:
    """An object path for a track id; voicecoach's step ids need not be one."""
    if track_id.startswith("/"):
        return track_id
    return "/org/voicecoach/track/" + (re.sub(r"[^A-Za-z0-9_]", "_", track_id) or "_")


class MprisSource:
    """An MPRIS2 player on the session bus whose buttons become :class:`Command` objects."""

    name = Source.HEADSET

    def __init__(
        self,
        conn: DBusConnection,
        bus_name: str,
        *,
        identity: str = "voicecoach",
        position_us_fn: Callable[[], int] | None = None,
    ) -> None:
        """Serve MPRIS on *conn*, which already owns *bus_name*; use :meth:`connect`."""
        self._conn = conn
        self.bus_name = bus_name
        self.identity = identity
        self._position_us_fn = position_us_fn
        self._status = "Stopped"
        self._metadata: dict[str, tuple[str, Any]] = {"mpris:trackid": ("o", NO_TRACK)}
        self._pending: list[Command] = []
        self._broken = ""  # set when a send failed; read() reports it
        self._closed = False

    @classmethod
    def connect(cls, *, identity: str = "voicecoach", bus_address: str | None = None) -> MprisSource | None:
        """Connect to the session bus (or *bus_address*) and claim the player name.

        Returns None, with the reason in the module's ``last_error``, when there
        is no usable bus: no DBUS_SESSION_BUS_ADDRESS, a missing socket, a
        refused connection or a bus that would not give us a name.
        """
        global last_error
        conn = None
        try:
            conn = open_dbus_connection(bus=bus_address or "SESSION")
            bus = Proxy(message_bus, conn, timeout=2.0)
            base = f"{ROOT_IFACE}.{identity}"
            # Per the MPRIS spec a second instance appends ".instance<PID>".
            for bus_name in (base, f"{base}.instance{os.getpid()}"):
                (result,) = bus.RequestName(bus_name, DBusNameFlags.do_not_queue)
                if result in (1, 4):  # primary owner / already owner
                    break
            else:
                raise RuntimeError(f"bus names {base}[.instance{os.getpid()}] are taken")
        except KeyError:
            last_error = "no session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
        except (OSError, TimeoutError, RuntimeError, ValueError, DBusErrorResponse) as e:
            last_error = f"no session bus ({type(e).__name__}: {e})"
        else:
            src = cls(conn, bus_name, identity=identity)
            try:
                # Calls that came in while we waited for RequestName's reply
                # sit in jeepney's buffer where select() cannot see them.
                src._pending = src._drain()
            except SourceError as e:
                last_error = str(e)
                src.close()
                return None
            last_error = ""
            return src
        if conn is not None:
            conn.close()
        return None

    def fileno(self) -> int:
        """The bus socket, for select()."""
        return int(self._conn.sock.fileno())

    def read(self) -> list[Command]:
        """Answer every message already received and return the commands; never blocks.

        Raises SourceError when the bus connection is gone.
        """
        if self._broken or self._closed:
            raise SourceError(self._broken or "MPRIS source is closed")
        commands, self._pending = self._pending + self._drain(), []
        return commands

    def _drain(self) -> list[Command]:
        # receive(timeout=0) first parses what is buffered, then select()s the
        # socket with a zero timeout and recv()s only if data is ready; it
        # raises TimeoutError when neither has a whole message left. A partial
        # message stays in jeepney's parser until the rest arrives.
        commands: list[Command] = []
        while True:
            try:
                msg = self._conn.receive(timeout=0)
            except TimeoutError:
                return commands
            except (OSError, ValueError) as e:  # EOF is ConnectionResetError
                self._broken = f"session bus connection lost ({type(e).__name__}: {e})"
                raise SourceError(self._broken) from e
            if msg.header.message_type is MessageType.method_call:
                action = self._handle(msg)
                if action:
                    commands.append(Command(action, self.name))
            # Signals (NameAcquired...) and stray replies need nothing.

    def _handle(self, msg: Message) -> Action | None:
        """Reply to one method call; return the action it maps to, if any."""
        f = msg.header.fields
        path, iface, member = f.get(HeaderFields.path), f.get(HeaderFields.interface), f.get(HeaderFields.member)
        action: Action | None = None
        try:
            if iface == PEER_IFACE or (iface is None and member in ("Ping", "GetMachineId")):
                reply = self._peer(msg, member)
            elif iface in (INTROSPECT_IFACE, None) and member == "Introspect":
                reply = new_method_return(msg, "s", (self._introspect(path),))
            elif path != OBJECT_PATH:
                reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownObject", "s", (f"No object {path}",))
            elif iface == PROPS_IFACE:
                reply = self._properties(msg, member)
            elif iface in (PLAYER_IFACE, None) and member in _ACTIONS:
                action, reply = _ACTIONS[member], new_method_return(msg)
            elif any(member in names for i, names in _NO_EFFECT.items() if iface in (i, None)):
                reply = new_method_return(msg)
            else:
                reply = new_error(
                    msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"No method {iface}.{member} on {path}",)
                )
        # Whatever fails here (say the position callable) must neither leave
        # the caller hanging nor end the session from inside read().
        except Exception as e:
            reply = new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", (f"{type(e).__name__}: {e}",))
        if not msg.header.flags & MessageFlag.no_reply_expected:
            self._send(reply)
        return action

    def _peer(self, msg: Message, member: str) -> Message:
        if member == "Ping":
            return new_method_return(msg)
        if member == "GetMachineId":
            for p in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
                if os.path.exists(p):
                    with open(p) as fh:
                        return new_method_return(msg, "s", (fh.read().strip(),))
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"No method {member}",))

    def _properties(self, msg: Message, member: str) -> Message:
        args = msg.body
        ifaces = self._all_props()
        if member not in _PROPS_SIGNATURES:
            return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"No method {member}",))
        # The arguments are the caller's: anything but the method's own signature (a list where a
        # name goes...) is the standard InvalidArgs, never a Python error text.
        wanted, given = _PROPS_SIGNATURES[member], msg.header.fields.get(HeaderFields.signature, "")
        if given != wanted:
            return new_error(
                msg,
                "org.freedesktop.DBus.Error.InvalidArgs",
                "s",
                (f"{PROPS_IFACE}.{member} takes arguments of type ({wanted}), not ({given})",),
            )
        props = ifaces.get(args[0])
        if member == "GetAll":  # an unknown interface has no properties, not an error
            return new_method_return(msg, "a{sv}", (props or {},))
        if props is None or len(args) < 2 or args[1] not in props:
            return new_error(
                msg,
                "org.freedesktop.DBus.Error.UnknownProperty",
                "s",
                (f"No property {args[0]}.{args[1] if len(args) > 1 else ''}",),
            )
        if member == "Get":
            return new_method_return(msg, "v", (props[args[1]],))
        if args[1] in _IGNORED_WRITES:
            return new_method_return(msg)
        return new_error(msg, "org.freedesktop.DBus.Error.PropertyReadOnly", "s", (f"{args[1]} is read-only",))

    def _position_us(self) -> int:
        return int(self._position_us_fn()) if self._position_us_fn else 0

    def _all_props(self) -> dict[str, dict[str, tuple[str, Any]]]:
        t, f = ("b", True), ("b", False)
        return {
            ROOT_IFACE: {
                "CanQuit": f,
                "CanRaise": f,
                "HasTrackList": f,
                "Identity": ("s", self.identity),
                "DesktopEntry": ("s", "voicecoach"),
                "SupportedUriSchemes": ("as", []),
                "SupportedMimeTypes": ("as", []),
            },
            PLAYER_IFACE: {
                "PlaybackStatus": ("s", self._status),
                "Rate": ("d", 1.0),
                "Metadata": ("a{sv}", dict(self._metadata)),
                "Volume": ("d", 1.0),
                "Position": ("x", self._position_us()),
                "MinimumRate": ("d", 1.0),
                "MaximumRate": ("d", 1.0),
                "CanGoNext": t,
                "CanGoPrevious": t,
                "CanPlay": t,
                "CanPause": t,
                "CanSeek": f,
                "CanControl": t,
            },
        }

    def _introspect(self, path: str | None) -> str:
        return introspection(path, self._all_props(), _IGNORED_WRITES)

    def update(
        self,
        *,
        status: str,
        title: str,
        album: str,
        artist: str = "voicecoach",
        track_id: str,
        length_us: int,
        position_us_fn: Callable[[], int] | None = None,
    ) -> None:
        """Set what the player shows; signal PropertiesChanged with what changed.

        *status* is "Playing", "Paused" or "Stopped"; *track_id* an object path
        or any id (made into ``/org/voicecoach/track/<id>``). Position is never
        signalled (the spec says clients extrapolate it); *position_us_fn*, when
        given, replaces the callable it is read from.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        if position_us_fn is not None:
            self._position_us_fn = position_us_fn
        metadata = {
            "mpris:trackid": ("o", _object_path(track_id)),
            "mpris:length": ("x", int(length_us)),
            "xesam:title": ("s", title),
            "xesam:album": ("s", album),
            "xesam:artist": ("as", [artist]),
        }
        changed: dict[str, tuple[str, Any]] = {}
        if status != self._status:
            self._status = status
            changed["PlaybackStatus"] = ("s", status)
        if metadata != self._metadata:
            self._metadata = metadata
            changed["Metadata"] = ("a{sv}", metadata)
        if changed:
            self._emit(PROPS_IFACE, "PropertiesChanged", "sa{sv}as", (PLAYER_IFACE, changed, []))

    def show(self, state: PlayerState) -> None:
        """Show the session's state (the :class:`~voicecoach.control.commands.Display` side).

        Position is read live: the state's position plus the time since, while Playing.
        """
        base, since, playing = state.position_us, time.monotonic(), state.status == "Playing"

        def position_us() -> int:
            return base + (round((time.monotonic() - since) * 1e6) if playing else 0)

        self.update(
            status=state.status,
            title=state.title,
            album=state.album,
            artist=state.artist,
            track_id=state.track_id,
            length_us=state.length_us,
            position_us_fn=position_us,
        )

    def seeked(self, position_us: int) -> None:
        """Emit Player.Seeked: the position jumped (e.g. a step was repeated)."""
        self._emit(PLAYER_IFACE, "Seeked", "x", (int(position_us),))

    def _emit(self, iface: str, member: str, sig: str, body: tuple[Any, ...]) -> None:
        self._send(new_signal(DBusAddress(OBJECT_PATH, interface=iface), member, sig, body))

    def _send(self, msg: Message) -> None:
        # A dead bus must not break the session mid-step: remember why, and
        # let read() (the socket turns readable at EOF) raise SourceError.
        if self._broken or self._closed:
            return
        try:
            self._conn.send(msg)
        except OSError as e:
            self._broken = f"session bus connection lost ({type(e).__name__}: {e})"

    def close(self) -> None:
        """Give up the player name and close the connection; safe to call twice."""
        if self._closed:
            return
        # No wait for the reply: the bus handles our messages in order, and
        # closing the socket drops the name anyway if this one is lost.
        release = message_bus.ReleaseName(self.bus_name)
        release.header.flags |= MessageFlag.no_reply_expected
        self._send(release)
        self._closed = True
        self._conn.close()
