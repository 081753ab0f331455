"""The client side of `make bench`, stdlib only: JSON over keep-alive HTTP connections, and a pool
of threads that runs a function over many items with progress lines.

`Client(port)` keeps one connection per thread to 127.0.0.1:port. gunicorn closes a connection
idle for its keep-alive (5 s), so a connection idle for longer is replaced before use, and a request
on a reused connection that the server closed meanwhile is sent once more on a new one.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Callable, Sequence

IDLE_RECONNECT_SECONDS = 4.0
CLOSED_BY_SERVER = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class HttpError(RuntimeError):
    """An answer with another status than expected."""

    def __init__(self, method: str, path: str, status: int, body: Any, expected: int) -> None:
        super().__init__(f"{method} {path} answered {status} (expected {expected}): {str(body)[:300]}")
        self.status = status


class Client:
    """JSON requests to 127.0.0.1:port, one keep-alive connection per calling thread."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.port = port
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it has served a request before."""
        connection = getattr(self._local, "connection", None)
        idle = time.monotonic() - getattr(self._local, "last_used", 0.0)
        if connection is not None and idle < IDLE_RECONNECT_SECONDS:
            return connection, True
        self.close()
        self._local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self._local.connection, False

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _send(self, method: str, path: str, payload: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        connection, reused = self._connection()
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except CLOSED_BY_SERVER:
            self.close()
            if not reused:
                raise
            return self._send(method, path, payload, headers)
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        self._local.last_used = time.monotonic()
        return response.status, body

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any, float]:
        """Status, decoded JSON body (None when empty or not JSON) and seconds taken."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        status, raw = self._send(method, path, payload, headers)
        elapsed = time.perf_counter() - started
        try:
            return status, json.loads(raw) if raw else None, elapsed
        except ValueError:
            return status, None, elapsed

    def expect(self, status: int, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """The decoded body of an answer that must have `status`; HttpError otherwise."""
        got, payload, _ = self.request(method, path, body, token)
        if got != status:
            raise HttpError(method, path, got, payload, status)
        return payload


def run_parallel(function: Callable[[Any], Any], items: Sequence[Any], workers: int, label: str) -> list[Any]:
    """`function(item)` for every item on `workers` threads, in order; the first failure is raised.

    Prints a progress line at every tenth of the work. On a failure or Ctrl-C, the items not yet
    started are dropped.
    """
    results: list[Any] = [None] * len(items)
    step = max(1, len(items) // 10)
    started = time.monotonic()
    executor = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = {executor.submit(function, item): index for index, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if done % step == 0 or done == len(items):
                print(f"  {label}: {done}/{len(items)} ({time.monotonic() - started:.0f} s)", flush=True)
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown()
    return results
