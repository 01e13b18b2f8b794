from __future__ import annotations

import io
import os
import pty
import select

import pytest

from voicecoach import programs
from voicecoach.control.commands import Command
from voicecoach.control.keys import Keys, _split, action_for, command_for
from voicecoach.core.schedule import build_timeline
from voicecoach.live.status import Output, status_text


@pytest.mark.parametrize(
    ("key", "action"),
    [
        (" ", "toggle"),
        ("n", "next"),
        ("N", "next"),
        ("\x1b[C", "next"),
        ("\x1b[D", "back"),
        ("p", "back"),
        ("r", "repeat"),
        ("+", "more"),
        ("-", "less"),
        ("q", "quit"),
        ("?", "help"),
        ("x", "hurt"),
        ("!", "hurt"),
        ("s", "skip"),
        ("\n", "skip"),
        ("z", None),
        ("\x1b[12;2~", None),
        ("\x1bOQ", None),
    ],
    ids=repr,
)
def test_keymap(key, action):
    assert action_for(key) == action


@pytest.mark.parametrize(
    ("key", "command"),
    [
        ("4", Command("answer", "keys", "4")),
        ("0", Command("answer", "keys", "0")),
        ("t", Command("answer", "keys", "10")),
        ("T", Command("answer", "keys", "10")),
        ("y", Command("answer", "keys", "yes")),
        ("n", Command("next", "keys", "no")),
        ("s", Command("skip", "keys")),
        ("\r", Command("skip", "keys")),
        (" ", Command("toggle", "keys")),
        ("\x1b[C", Command("next", "keys")),
        ("z", None),
    ],
    ids=repr,
)
def test_keys_that_answer_check_in_questions(key, command):
    assert command_for(key) == command


def test_split_keeps_arrows_whole():
    assert _split("n\x1b[Cq ") == ["n", "\x1b[C", "q", " "]


def test_unknown_escape_sequences_are_not_letters():
    # Shift+F2 is ESC [ 1 ; 2 Q: read as keys it would have been "q" (quit) among others.
    assert _split("\x1b[1;2Q") == ["\x1b[1;2Q"]
    assert _split("\x1b[12;2~n") == ["\x1b[12;2~", "n"]
    assert [action_for(k) for k in _split("\x1b[1;2Q\x1bOQ")] == [None, None]


def test_keys_from_a_real_pty():
    import tty

    master, slave = pty.openpty()
    try:
        tty.setcbreak(slave)  # as keyboard() does for the session
        keys = Keys(slave)
        assert keys.poll(0.01) == []
        os.write(master, b" \x1b[D+")
        assert keys.poll(1.0) == ["toggle", "back", "more"]
        os.write(master, b"q")
        assert [(c.action, c.source) for c in keys.read()] == [("quit", "keys")]
        os.write(master, b"7tx")
        assert keys.read() == [Command("answer", "keys", "7"), Command("answer", "keys", "10"), Command("hurt", "keys")]
    finally:
        os.close(master)
        os.close(slave)


def test_status_text_in_a_hold():
    tl = build_timeline(programs.load("inner-knee"))
    hold = next(p for p in tl.phases if p.kind == "hold")
    text = status_text(tl, hold.start_s + 10.2, 9)
    assert text == "Exercise 1 of 9: Inner thigh stretch, set 1 of 2, right side, hold, 20 s left"


def test_plain_output_is_only_the_spoken_words():
    tl = build_timeline(programs.load("medial-knee"))
    buf = io.StringIO()
    out = Output("plain", buf)
    for c in tl.cues[:5]:
        out.cue(c)
    out.status("ignored in plain mode")
    assert buf.getvalue().splitlines() == [c.text for c in tl.cues[:5]]
    assert "\x1b" not in buf.getvalue()


def test_status_mode_rewrites_one_line():
    buf = io.StringIO()
    out = Output("status", buf)
    out.status("a")
    out.status("a")
    out.status("b")
    out.message("Paused.")
    out.close()
    assert buf.getvalue() == "\r\x1b[2Ka\r\x1b[2Kb\r\x1b[2KPaused.\n"


def test_quiet_prints_nothing():
    buf = io.StringIO()
    out = Output.auto(plain=False, quiet=True, stream=buf)
    out.message("x")
    out.status("y")
    assert buf.getvalue() == ""


@pytest.mark.parametrize(
    ("env", "mode"),
    [({"ACCESSIBLE": "1"}, "plain"), ({"ACCESSIBLE": ""}, "plain"), ({"TERM": "dumb"}, "plain"), ({}, "status")],
    ids=["accessible", "accessible-empty", "term-dumb", "terminal"],
)
def test_screen_reader_conventions_give_plain_lines_in_a_real_pty(monkeypatch, env, mode):
    """In a real pseudo-terminal: ACCESSIBLE (any value) or TERM=dumb print whole lines, no \\r, no escapes."""
    monkeypatch.delenv("ACCESSIBLE", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    tl = build_timeline(programs.load("medial-knee"))
    master, slave = pty.openpty()
    try:
        stream = os.fdopen(os.dup(slave), "w", encoding="utf-8")
        out = Output.auto(plain=False, quiet=False, stream=stream)
        assert out.mode == mode
        for c in tl.cues[:3]:
            out.status(status_text(tl, c.start_s, 9))
            out.cue(c)
        out.message("Paused.")
        out.close()
        stream.close()
        chunks = []
        while select.select([master], [], [], 0.2)[0]:
            chunks.append(os.read(master, 65536))
        written = b"".join(chunks).decode()
    finally:
        os.close(master)
        os.close(slave)
    if mode == "plain":
        assert "\x1b" not in written  # no escape sequence; "\r" only as the terminal's own "\r\n"
        assert "\r" not in written.replace("\r\n", "\n")
        assert [line for line in written.replace("\r\n", "\n").split("\n") if line] == [
            *(c.text for c in tl.cues[:3]),
            "Paused.",
        ]  # (the terminal itself turns \n into \r\n)
    else:
        assert "\x1b[2K" in written
