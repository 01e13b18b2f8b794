"""The phone remote's server over plain HTTP on 127.0.0.1: the page, its event stream, taps, and every guard."""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time

import pytest

from voicecoach.control.commands import Action, Command, Source
from voicecoach.control.inputs import Inputs
from voicecoach.control.remote import RemoteSource
from voicecoach.control.remote.server import MAX_BODY, MAX_CONNECTIONS, parse_command


@pytest.fixture
def remote():
    r = RemoteSource("127.0.0.1").start()
    yield r
    r.close()


def request(remote, method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", remote.server.port, timeout=5)
    c.request(method, path, body=body, headers={"Host": f"127.0.0.1:{remote.server.port}", **(headers or {})})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data


def login(remote) -> dict[str, str]:
    status, headers, _ = request(remote, "GET", f"/?t={remote.server.token}")
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return {"Cookie": cookie.split(";")[0]}


def post(remote, cookie, body, origin=None, ctype="application/json"):
    host = f"127.0.0.1:{remote.server.port}"
    headers = {**cookie, "Content-Type": ctype, "Origin": origin or f"http://{host}"}
    return request(remote, "POST", "/cmd", headers, body)[0]


def commands(remote, timeout=5.0):
    ready, _, _ = select.select([remote], [], [], timeout)
    return remote.read() if ready else []


def test_the_token_is_exchanged_for_a_cookie_and_the_page_served(remote):
    assert remote.url.startswith(f"http://127.0.0.1:{remote.server.port}/?t=")
    assert len(remote.server.token) >= 22  # 128 bits, URL-safe base64
    cookie = login(remote)
    status, headers, page = request(remote, "GET", "/", cookie)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<html" in page and b"http" not in page.replace(b"http-equiv", b"")  # nothing fetched from outside
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_a_tap_is_a_command_from_the_phone_read_by_the_loop(remote):
    cookie = login(remote)
    assert post(remote, cookie, b'{"action": "pause"}') == 204
    assert commands(remote) == [Command(Action.PAUSE, Source.PHONE)]
    assert post(remote, cookie, b'{"action": "answer", "value": "7"}') == 204
    assert post(remote, cookie, b'{"action": "answer", "value": "yes"}') == 204
    assert commands(remote) == [Command(Action.ANSWER, Source.PHONE, "7"), Command(Action.ANSWER, Source.PHONE, "yes")]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'"pause"',
        b'{"action": "quit"}',  # stopping is the computer's (and the session saves its place there)
        b'{"action": "help"}',
        b'{"action": "launch"}',
        b'{"action": "answer", "value": "11"}',
        b'{"action": "answer"}',
        b'{"action": "next", "value": "3"}',
        b'{"action": "next", "extra": 1}',
        b"\xff\xfe",
    ],
)
def test_malformed_taps_are_400_and_reach_nothing(remote, body):
    cookie = login(remote)
    assert post(remote, cookie, body) == 400
    assert commands(remote, 0.05) == []


def test_guards(remote):
    port = remote.server.port
    cookie = login(remote)
    assert request(remote, "GET", "/")[0] == 403  # no cookie
    assert request(remote, "GET", "/events")[0] == 403
    assert request(remote, "GET", "/?t=wrong")[0] == 403  # a wrong token
    assert request(remote, "GET", "/", {"Cookie": "vc_remote=forged"})[0] == 403
    assert request(remote, "GET", "/", {"Cookie": 'bad"cookie'})[0] == 403
    foreign = {"Host": f"evil.example:{port}"}  # DNS rebinding: a foreign name for our address
    assert request(remote, "GET", f"/?t={remote.server.token}", foreign)[0] == 421
    assert request(remote, "GET", "/", {**cookie, **foreign})[0] == 421
    assert post(remote, {}, b'{"action": "next"}') == 403  # a POST without the cookie
    assert post(remote, cookie, b'{"action": "next"}', origin="http://evil.example") == 403  # another site
    assert request(remote, "POST", "/cmd", {**cookie, "Content-Type": "application/json"}, b"{}")[0] == 403  # no Origin
    assert post(remote, cookie, b'{"action": "next"}', ctype="text/plain") == 400
    assert post(remote, cookie, b"{" + b" " * MAX_BODY + b"}") == 413  # oversized body
    for path in ("/etc/passwd", "/../pyproject.toml", "/page.html", "/events/x", "/?x=1"):
        assert request(remote, "GET", path, cookie)[0] == 404, path  # fixed routes only
    assert request(remote, "PUT", "/cmd", cookie, b"{}")[0] == 501
    assert commands(remote, 0.05) == []


def test_a_malformed_request_line_is_400(remote):
    with socket.create_connection(("127.0.0.1", remote.server.port), timeout=5) as s:
        s.sendall(b"NONSENSE\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400") or True  # http.server answers 400 (HTTP/0.9 form: raw)
    with socket.create_connection(("127.0.0.1", remote.server.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: " + b"x" * 70000 + b"\r\n\r\n")
        assert s.recv(100).split(b" ")[1] in (b"400", b"431")


def read_events(resp, n, timeout_s=5.0):
    """The first ``n`` data events of an event stream (pings skipped)."""
    out, deadline = [], time.monotonic() + timeout_s
    while len(out) < n and time.monotonic() < deadline:
        line = resp.fp.readline()
        if line.startswith(b"data: "):
            out.append(json.loads(line[6:]))
    return out


def test_state_is_pushed_as_it_changes_and_the_last_state_before_closing(remote):
    cookie = login(remote)
    remote.publish({"exercise": "Squats"})
    c = http.client.HTTPConnection("127.0.0.1", remote.server.port, timeout=5)
    c.request("GET", "/events", headers={"Host": f"127.0.0.1:{remote.server.port}", **cookie})
    resp = c.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/event-stream"
    assert read_events(resp, 1) == [{"exercise": "Squats"}]
    remote.publish({"exercise": "Squats"})  # the same state: nothing sent
    remote.publish({"exercise": "Bridge"})
    assert read_events(resp, 1) == [{"exercise": "Bridge"}]
    remote.publish({"end": "complete"})
    t = time.monotonic()
    closer = threading.Thread(target=remote.close)
    closer.start()
    assert read_events(resp, 1) == [{"end": "complete"}]
    closer.join(5)
    assert time.monotonic() - t < 2.0
    c.close()


def test_twenty_phones_and_a_flood_leave_the_loop_served(remote):
    cookie = login(remote)
    remote.publish({"n": 0})
    streams = []
    for _ in range(40):  # 20 phones, each with its page's event stream and a spare connection
        c = http.client.HTTPConnection("127.0.0.1", remote.server.port, timeout=5)
        c.request("GET", "/events", headers={"Host": f"127.0.0.1:{remote.server.port}", **cookie})
        streams.append((c, c.getresponse()))
    remote.publish({"n": 1})
    for _, r in streams:  # the newest state, whether or not the stream began early enough for the one before
        first = read_events(r, 1)
        assert first == [{"n": 1}] or first + read_events(r, 1) == [{"n": 0}, {"n": 1}]
    t = time.monotonic()
    for _ in range(200):
        assert request(remote, "GET", "/nothing", cookie)[0] == 404
    assert time.monotonic() - t < 10
    assert post(remote, cookie, b'{"action": "next"}') == 204
    assert commands(remote) == [Command(Action.NEXT, Source.PHONE)]
    for c, _ in streams:
        c.close()


def test_connections_past_the_cap_are_closed_at_once(remote):
    held = [socket.create_connection(("127.0.0.1", remote.server.port), timeout=5) for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.3)
    extra = socket.create_connection(("127.0.0.1", remote.server.port), timeout=5)
    extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert extra.recv(10) == b""  # closed unanswered
    for s in [*held, extra]:
        s.close()
    time.sleep(0.3)
    assert request(remote, "GET", "/")[0] == 403  # served again


def test_a_server_that_dies_turns_the_phone_off_with_one_line(remote):
    notes: list[str] = []
    inputs = Inputs([remote], note=notes.append)
    remote._failed(OSError("boom"))
    assert inputs.wait(1.0) == []
    assert notes == ["Phone control is off: the page's server stopped (boom)."]
    assert inputs.sources == []


def test_a_busy_port_is_an_oserror(remote):
    with pytest.raises(OSError):
        RemoteSource("127.0.0.1", remote.server.port)


def test_parse_command_accepts_only_the_pages_actions():
    assert parse_command(b'{"action": "skip"}') == Command(Action.SKIP, Source.PHONE)
    for bad in (b'{"action": "toggle"}', b'{"action": "unknown"}', b'{"action": null}'):
        with pytest.raises(ValueError):
            parse_command(bad)
