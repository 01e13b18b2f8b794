"""The phone as a remote (``play --remote``): a private web page on the local network.

The page shows where the session is and turns taps into the same
:class:`~voicecoach.control.commands.Command` objects as the keys, from
:attr:`~voicecoach.control.commands.Source.PHONE`. :class:`RemoteSource` is one more
input of :class:`~voicecoach.control.inputs.Inputs` (a queue woken through a pipe, fed by
the server's threads) and the :class:`Screen` the live session's ``PhoneView`` publishes the
page's state to. The server is :mod:`.server`; the address is chosen by :mod:`.hosts` and
shown by :mod:`.qr`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from voicecoach.control.commands import Source, SourceError
from voicecoach.control.inputs import QueueSource
from voicecoach.control.remote.server import RemoteServer


class Screen(Protocol):
    """Where the live session sends the page's state (a JSON-able mapping); must never block."""

    def publish(self, state: Mapping[str, Any]) -> None: ...


class RemoteSource(QueueSource):
    """The phone page's input: serves on ``host:port`` from :meth:`start` until :meth:`close`.

    Raises OSError when the address cannot be served. If the server stops by itself the
    input raises :class:`SourceError` on its next read, and the session goes on without it.
    """

    def __init__(self, host: str, port: int = 0) -> None:
        super().__init__(Source.PHONE)
        self.server = RemoteServer(host, port, self.push, self._failed)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> RemoteSource:
        self.server.start()
        return self

    def _failed(self, exc: BaseException) -> None:
        self.push(SourceError(f"the page's server stopped ({exc or type(exc).__name__})"))

    def publish(self, state: Mapping[str, Any]) -> None:
        self.server.publish(state)

    def close(self) -> None:
        self.server.close()
        super().close()
