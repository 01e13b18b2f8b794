"""The MPRIS2 player's D-Bus introspection XML (what ``busctl introspect`` and desktops read)."""

from __future__ import annotations

from typing import Any

OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT_IFACE = "org.mpris.MediaPlayer2"
PLAYER_IFACE = "org.mpris.MediaPlayer2.Player"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
INTROSPECT_IFACE = "org.freedesktop.DBus.Introspectable"
PEER_IFACE = "org.freedesktop.DBus.Peer"


def introspection(path: str | None, props: dict[str, dict[str, tuple[str, Any]]], writable: frozenset[str]) -> str:
    """The XML for ``path``: the player's interfaces at its object, the way there elsewhere."""
    head = (
        '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n'
        ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n<node>\n'
    )
    if path != OBJECT_PATH:  # "/", "/org", ...: only lead the way to our object
        prefix = (path or "/").rstrip("/") + "/"
        child = OBJECT_PATH[len(prefix) :].split("/")[0] if OBJECT_PATH.startswith(prefix) else ""
        return head + (f'  <node name="{child}" />\n' if child else "") + "</node>\n"
    ifaces = {
        INTROSPECT_IFACE: _methods('Introspect:name="xml" type="s" direction="out"'),
        PEER_IFACE: _methods("Ping", 'GetMachineId:name="id" type="s" direction="out"'),
        PROPS_IFACE: _methods(
            'Get:type="s" direction="in";type="s" direction="in";type="v" direction="out"',
            'GetAll:type="s" direction="in";type="a{sv}" direction="out"',
            'Set:type="s" direction="in";type="s" direction="in";type="v" direction="in"',
        )
        + '\n    <signal name="PropertiesChanged"><arg type="s" /><arg type="a{sv}" /><arg type="as" /></signal>',
        ROOT_IFACE: _methods("Raise", "Quit") + "\n    " + _props(props[ROOT_IFACE]),
        PLAYER_IFACE: _methods(
            "Next",
            "Previous",
            "Pause",
            "PlayPause",
            "Stop",
            "Play",
            'Seek:name="Offset" type="x" direction="in"',
            'SetPosition:name="TrackId" type="o" direction="in";name="Position" type="x" direction="in"',
            'OpenUri:name="Uri" type="s" direction="in"',
        )
        + '\n    <signal name="Seeked"><arg name="Position" type="x" /></signal>\n    '
        + _props(props[PLAYER_IFACE], writable),
    }
    body = "".join(f'  <interface name="{n}">\n    {x}\n  </interface>\n' for n, x in ifaces.items())
    return head + body + "</node>\n"


def _methods(*specs: str) -> str:
    out = []
    for spec in specs:
        name, _, args = spec.partition(":")
        xml_args = "".join(f"<arg {a} />" for a in args.split(";") if a)
        out.append(f'<method name="{name}">{xml_args}</method>')
    return "\n    ".join(out)


def _props(props: dict[str, Any], writable: frozenset[str] = frozenset()) -> str:
    return "\n    ".join(
        f'<property name="{k}" type="{sig}" access="{"readwrite" if k in writable else "read"}" />'
        for k, (sig, _) in props.items()
    )
