"""Fault injection, D-Bus: a Properties call with arguments of the wrong types gets the standard InvalidArgs.

Never the Python exception's text (``TypeError: unhashable type: 'list'``),
and the player keeps answering.
"""

from __future__ import annotations

import pytest
from jeepney import HeaderFields, MessageType
from jeepney.io.blocking import open_dbus_connection
from test_mpris import PLAYER, bus, call, needs_dbus, show, src  # noqa: F401  (fixtures)

from voicecoach.control.mpris import MprisSource

PROPS = "org.freedesktop.DBus.Properties"
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
def test_wrong_argument_types_are_invalid_args(src: MprisSource, member, sig, body) -> None:  # noqa: F811
    show(src)
    with open_dbus_connection() as client:
        r = call(src, client, PROPS, member, sig, body)
        assert r.header.message_type is MessageType.error
        assert r.header.fields[HeaderFields.error_name] == "org.freedesktop.DBus.Error.InvalidArgs"
        assert r.body[0] == f"{PROPS}.{member} takes arguments of type ({WANTED[member]}), not ({sig})"
        assert "Error:" not in r.body[0]
        ok = call(src, client, PROPS, "Get", "ss", (PLAYER, "PlaybackStatus"))  # and it still answers
        assert ok.body == (("s", "Playing"),)
    assert src.read() == []
