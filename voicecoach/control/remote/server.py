"""The phone remote's web server: one private page, its state pushed (SSE), its taps posted back.

Standard library only (:class:`http.server.ThreadingHTTPServer`): the server runs in a daemon
thread and one thread per connection, never on the session's loop; taps reach the loop as
:class:`~voicecoach.control.commands.Command` objects through a callback (the remote input's
queue and pipe). It is private by construction:

* a random token of 128 bits in the printed address is exchanged for an HttpOnly,
  SameSite=Strict cookie and a redirect that takes it out of the address bar; every other
  request without that cookie gets 403;
* the Host header must be the served address (a DNS-rebinding page cannot reach it): 421;
* a POST must come from the page's own Origin: 403;
* fixed routes (``/``, ``/events``, ``/cmd``): nothing is served from disk; bodies are capped
  at :data:`MAX_BODY` bytes, connections at :data:`MAX_CONNECTIONS`, a silent client is cut
  off after :data:`CLIENT_TIMEOUT_S`; anything malformed is a 400.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from voicecoach.control.commands import BINDINGS, Action, Command, Source
from voicecoach.core.phrases import ANSWERS

MAX_BODY = 256  # bytes: {"action": "answer", "value": "10"} is 35
MAX_CONNECTIONS = 64  # 20 phones with two connections each (the page and its event stream), and spare
MAX_SESSIONS = 256  # cookies handed out; the oldest are forgotten past this
CLIENT_TIMEOUT_S = 20.0  # a client that sends or takes nothing this long is dropped
KEEPALIVE_S = 15.0  # an event-stream ping this often: the page sees a dead connection and reconnects
COOKIE = "vc_remote"
PHONE_ACTIONS = frozenset(a for a, b in BINDINGS.items() if b.phone)
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def page_html() -> bytes:
    """The page, a file of this package (no external resources: it works without the internet)."""
    return resources.files(__package__).joinpath("page.html").read_bytes()


def parse_command(body: bytes) -> Command:
    """A tap's JSON body as a command from the phone; ValueError if it is not one the page may send."""
    data = json.loads(body.decode("utf-8"))
    if not isinstance(data, dict) or set(data) - {"action", "value"}:
        raise ValueError("not a command object")
    try:
        action = Action(data.get("action"))
    except ValueError:
        raise ValueError("unknown action") from None
    if action not in PHONE_ACTIONS:
        raise ValueError("not a phone action")
    value = data.get("value")
    if action is Action.ANSWER:
        if value not in ANSWERS:
            raise ValueError("not an answer")
    elif value is not None:
        raise ValueError("a value only goes with an answer")
    return Command(action, Source.PHONE, value)


class RemoteServer:
    """Serves the page on ``host:port`` (0: any free port) until :meth:`close`.

    ``on_command`` is called (on a server thread) with each tap's command; ``on_fail`` once
    if the server stops by itself. Raises OSError when the address cannot be served.
    """

    def __init__(
        self,
        host: str,
        port: int,
        on_command: Callable[[Command], None],
        on_fail: Callable[[BaseException], None] = lambda exc: None,
    ) -> None:
        self.token = secrets.token_urlsafe(16)  # 128 bits
        self.on_command = on_command
        self.on_fail = on_fail
        self.page = page_html()
        self._sessions: dict[str, None] = {}  # cookie values, oldest first
        self._cond = threading.Condition()
        self._seq = 0
        self._state = b"{}"
        self.closing = False
        self.httpd = _Httpd((host, port), self)
        self.host = host
        self.port: int = self.httpd.server_address[1]
        names = {host, f"[{host}]"} | ({"localhost"} if host in ("127.0.0.1", "::1") else set())
        self.hosts = frozenset(f"{h}:{self.port}" for h in names)
        self._thread = threading.Thread(target=self._serve, name="voicecoach-remote", daemon=True)

    @property
    def url(self) -> str:
        """The address to open once (printed, and in the QR code): it carries the token."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/?t={self.token}"

    def start(self) -> RemoteServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        try:
            self.httpd.serve_forever(poll_interval=0.5)
        except BaseException as exc:  # the thread must not die silently: the input turns itself off
            if not self.closing:
                self.on_fail(exc)

    def publish(self, state: Mapping[str, Any]) -> None:
        """The page's new state, sent to every connected page (never blocks on a client)."""
        data = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        with self._cond:
            if data == self._state:
                return
            self._state, self._seq = data, self._seq + 1
            self._cond.notify_all()

    def close(self, flush_s: float = 0.5) -> None:
        """Stop serving: the pages get the last state first (waits at most ``flush_s`` for them)."""
        with self._cond:
            self.closing = True
            self._cond.notify_all()
        self.httpd.wait_streams(flush_s)
        if self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()

    # -- for the handler ------------------------------------------------------------------
    def new_session(self) -> str:
        sid = secrets.token_urlsafe(32)
        with self._cond:
            self._sessions[sid] = None
            while len(self._sessions) > MAX_SESSIONS:
                del self._sessions[next(iter(self._sessions))]
        return sid

    def known(self, sid: str) -> bool:
        with self._cond:
            return any(secrets.compare_digest(sid, s) for s in self._sessions)

    def next_state(self, seen: int) -> tuple[int, bytes | None]:
        """Wait for a state newer than ``seen`` (or a ping's time): (seq, state or None)."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq != seen or self.closing, timeout=KEEPALIVE_S)
            if self._seq != seen:
                return self._seq, self._state
            return seen, None


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 32

    def __init__(self, address: tuple[str, int], remote: RemoteServer) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.remote = remote
        self._active = 0
        self._streams = 0
        self._count = threading.Condition()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # one request's failure (a reset connection) is that request's: the terminal is the session's

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count:
            if self._active >= MAX_CONNECTIONS:  # refused at once: a flood cannot pile up threads
                self.shutdown_request(request)
                return
            self._active += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._count:
                self._active -= 1

    def stream(self, delta: int) -> None:
        with self._count:
            self._streams += delta
            self._count.notify_all()

    def wait_streams(self, timeout_s: float) -> None:
        with self._count:
            self._count.wait_for(lambda: self._streams == 0, timeout=timeout_s)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = CLIENT_TIMEOUT_S
    server: _Httpd
    server_version = "voicecoach"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal is the session's: nothing of the server's is printed

    def _send(self, code: int, body: bytes = b"", ctype: str = "text/plain; charset=utf-8", **extra: str) -> None:
        self.send_response(code)
        headers = {"Content-Type": ctype, "Content-Length": str(len(body)), **_SECURITY_HEADERS}
        headers.update({k.replace("_", "-"): v for k, v in extra.items()})
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _host_ok(self) -> bool:
        if self.headers.get("Host", "") in self.server.remote.hosts:
            return True
        self._send(421, b"This address is not served here.\n")
        return False

    def _allowed(self) -> bool:
        """The Host check (DNS rebinding), then the cookie the token was exchanged for."""
        if not self._host_ok():
            return False
        try:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:
            cookie = SimpleCookie()
        if COOKIE in cookie and self.server.remote.known(cookie[COOKIE].value):
            return True
        self._send(403, b"Open the address printed in the terminal (or scan its code) again.\n")
        return False

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/" and "t" in query:
            if not self._host_ok():
                return
            if not secrets.compare_digest(query["t"][0].encode(), self.server.remote.token.encode()):
                return self._send(403, b"This link is not valid (or not any more).\n")
            sid = self.server.remote.new_session()
            # 303 to "/": the token leaves the address bar (and the history) at once.
            return self._send(303, Location="/", Set_Cookie=f"{COOKIE}={sid}; HttpOnly; SameSite=Strict; Path=/")
        if not self._allowed():
            return
        if url.path == "/" and not url.query:
            return self._send(200, self.server.remote.page, "text/html; charset=utf-8")
        if url.path == "/events" and not url.query:
            return self._events()
        self._send(404, b"Not found.\n")

    def _events(self) -> None:
        remote = self.server.remote
        self.send_response(200)
        for name, value in {"Content-Type": "text/event-stream", **_SECURITY_HEADERS}.items():
            self.send_header(name, value)
        self.end_headers()
        self.close_connection = True
        self.server.stream(+1)
        try:
            self.wfile.write(b"retry: 2000\n\n")
            seen = -1
            while True:
                closing = remote.closing
                seen, state = remote.next_state(seen)
                self.wfile.write(b"data: " + state + b"\n\n" if state is not None else b"event: ping\ndata:\n\n")
                self.wfile.flush()
                if closing or (remote.closing and state is None):
                    return  # the last state has gone out: the session is over
        except OSError:
            return  # the page went away (or timed out): nothing changes in the session
        finally:
            self.server.stream(-1)

    def do_POST(self) -> None:
        if not self._allowed():
            return
        if self.headers.get("Origin") != f"http://{self.headers.get('Host')}":  # another site's page
            return self._send(403, b"Refused: not from this page.\n")
        if self.path != "/cmd":
            return self._send(404, b"Not found.\n")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._send(400, b"A body length is needed.\n")
        if not 0 < length <= MAX_BODY:
            self.close_connection = True  # its body is not read
            return self._send(413 if length > MAX_BODY else 400, b"Too large.\n" if length > 0 else b"Empty.\n")
        if self.headers.get_content_type() != "application/json":
            return self._send(400, b"JSON only.\n")
        try:
            command = parse_command(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            return self._send(400, b"Not a command.\n")
        self.server.remote.on_command(command)
        self._send(204)
