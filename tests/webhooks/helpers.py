"""The webhook receiver: a real HTTP server on loopback that records what it gets and answers as
each path says (`/ok`, `/fail`, `/slow`, `/redirect`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WEBHOOKS = "/api/v1/webhooks"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """`url(path)` to point an endpoint at; `wait_for(n)` the first n requests received.

    `/ok` answers 204, `/fail` 500, `/redirect` a 302 to `/ok`; `/slow` holds its answer (200) until an
    `/ok` request has arrived (at most `SLOW_LIMIT` seconds), and `ok_during_slow` records whether one
    did while it held.
    """

    SLOW_LIMIT = 10

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.condition = threading.Condition()
        self.ok_arrived = threading.Event()
        self.ok_during_slow: list[bool] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = self.path.split("?")[0]
                with receiver.condition:
                    receiver.received.append(Received(path, {k.lower(): v for k, v in self.headers.items()}, body))
                    receiver.condition.notify_all()
                if path == "/ok":
                    receiver.ok_arrived.set()
                    self._answer(204)
                elif path == "/fail":
                    self._answer(500)
                elif path == "/redirect":
                    self._answer(302, {"Location": "/ok"})
                elif path == "/slow":
                    receiver.ok_during_slow.append(receiver.ok_arrived.wait(receiver.SLOW_LIMIT))
                    self._answer(200)
                else:
                    self._answer(404)

            def _answer(self, status: int, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        with self.condition:
            return [request for request in self.received if request.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 30) -> list[Received]:
        """The first `count` requests (to `path`, if given); fails when they do not come in `timeout`."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                matching = [request for request in self.received if path is None or request.path == path]
                if len(matching) >= count:
                    return matching[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(matching)} of {count} webhook requests received")
                self.condition.wait(remaining)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.ok_arrived.set()  # a held `/slow` answer ends
        self.server.shutdown()
        self.server.server_close()
