"""Short-lived security state (revocations, lockout counters, MFA codes) in Redis.

Without a `REDIS_URL` it lives in process memory (the embedded default). With one, an outage is
either an error (`fail_closed`: the caller answers 503 and changes nothing) or a per-process memory
fallback, per store. This is deliberately not the cache: the cache may evict, this must not.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from flask import Flask, current_app

from lms.core.errors import ServiceUnavailable
from lms.core.redis import redis_client


class MemoryBackend:
    """A tiny TTL dict; per process, so only for the embedded default and outage fallback."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def set(self, key: str, value: str, ttl: int | None) -> None:
        with self._lock:
            self._data[key] = (value, time.monotonic() + ttl if ttl else None)

    def set_if_absent(self, key: str, value: str, ttl: int | None) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, time.monotonic() + ttl if ttl else None)
            return True

    def incr(self, key: str, ttl: int) -> int:
        """Increment; the window starts at the first increment and is not extended."""
        with self._lock:
            current = self._live(key)
            if current is None:
                self._data[key] = ("1", time.monotonic() + ttl)
                return 1
            value, expires = self._data[key]
            self._data[key] = (str(int(value) + 1), expires)
            return int(value) + 1

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._data.pop(key, None)

    def ttl(self, key: str) -> int:
        with self._lock:
            if self._live(key) is None:
                return -2
            expires = self._data[key][1]
            return -1 if expires is None else max(0, int(expires - time.monotonic()))


class RedisBackend:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def get(self, key: str) -> str | None:
        return self._client.get(key)

    def set(self, key: str, value: str, ttl: int | None) -> None:
        self._client.set(key, value, ex=ttl or None)

    def set_if_absent(self, key: str, value: str, ttl: int | None) -> bool:
        return bool(self._client.set(key, value, ex=ttl or None, nx=True))

    def incr(self, key: str, ttl: int) -> int:
        pipe = self._client.pipeline()
        pipe.incr(key)
        pipe.expire(key, ttl, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def delete(self, *keys: str) -> None:
        if keys:
            self._client.delete(*keys)

    def ttl(self, key: str) -> int:
        return int(self._client.ttl(key))


class StateStore:
    """Key/value operations with the outage policy applied in one place."""

    def __init__(self, primary: RedisBackend | None, fallback: MemoryBackend, *,
                 fail_closed: bool, unavailable_detail: str) -> None:
        self._primary = primary
        self._fallback = fallback
        self._fail_closed = fail_closed
        self._unavailable_detail = unavailable_detail

    def _call(self, operation: str, *args: Any) -> Any:
        if self._primary is None:
            return getattr(self._fallback, operation)(*args)
        try:
            return getattr(self._primary, operation)(*args)
        except redis.RedisError as exc:
            if self._fail_closed:
                raise ServiceUnavailable(self._unavailable_detail) from exc
            current_app.logger.warning("redis unavailable, using process memory: %s", exc)
            return getattr(self._fallback, operation)(*args)

    def get(self, key: str) -> str | None:
        return self._call("get", key)

    def set(self, key: str, value: str, ttl: int | None = None) -> None:
        self._call("set", key, value, ttl)

    def set_if_absent(self, key: str, value: str, ttl: int | None = None) -> bool:
        return self._call("set_if_absent", key, value, ttl)

    def incr(self, key: str, ttl: int) -> int:
        return self._call("incr", key, ttl)

    def delete(self, *keys: str) -> None:
        self._call("delete", *keys)

    def ttl(self, key: str) -> int:
        return self._call("ttl", key)


def state_store(*, fail_closed: bool, unavailable_detail: str = "Service temporarily unavailable",
                app: Flask | None = None) -> StateStore:
    """A store over the app's Redis. `fail_closed` stores raise 503 on an outage; others fall back."""
    app = app or current_app._get_current_object()
    client = redis_client(app)
    memory = app.extensions.setdefault("lms.state.memory", MemoryBackend())
    primary = RedisBackend(client) if client is not None else None
    return StateStore(primary, memory, fail_closed=fail_closed, unavailable_detail=unavailable_detail)


def revocation_store(app: Flask | None = None) -> StateStore:
    """Where revocations and MFA codes live: fail closed when configured (contract §5.22, §5.26)."""
    app = app or current_app._get_current_object()
    return state_store(fail_closed=app.config["ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED"],
                       unavailable_detail="Token revocation service unavailable", app=app)
