"""Redis clients, created lazily once per app: text for app state, bytes for RQ; reads sent ahead."""

from __future__ import annotations

from typing import Any, Callable

import redis
from flask import Flask, current_app, g, has_request_context


def _client(app: Flask, *, decode: bool) -> redis.Redis | None:
    url = app.config["REDIS_URL"]
    if not url:
        return None
    key = "lms.redis.text" if decode else "lms.redis.bytes"
    client = app.extensions.get(key)
    if client is None:
        timeout = app.config["REDIS_SOCKET_TIMEOUT_SECONDS"]
        client = redis.Redis.from_url(
            url,
            decode_responses=decode,
            socket_timeout=timeout if decode else max(timeout, 5.0),
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        app.extensions[key] = client
    return client


def redis_client(app: Flask | None = None) -> redis.Redis | None:
    """The app-state client (str responses), or None when no `REDIS_URL` is configured."""
    return _client(app or current_app._get_current_object(), decode=True)


def redis_bytes_client(app: Flask | None = None) -> redis.Redis | None:
    """The RQ client (bytes responses; RQ stores serialized payloads)."""
    return _client(app or current_app._get_current_object(), decode=False)


def redis_is_up(app: Flask | None = None) -> bool:
    client = redis_client(app)
    if client is None:
        return False
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


# --- reads sent ahead -----------------------------------------------------------------------------
# A rate-limited request pays one Redis round trip for its counter. The GETs it will make next (its
# token's revocation entry, for one) ride in that round trip when they are announced before the
# limiter runs: `add_read_ahead` names what to read for a request, the limiter's storage reads it
# with its counter (`reads_ahead`, `keep_read_ahead`), and the reader takes it (`value_read_ahead`)
# or, when nothing was read ahead (no limit applied, the limiter on memory), reads as usual. A value
# read ahead is read during the same request as the one it replaces, so it is just as fresh.

_READ_AHEAD_PROVIDERS: list[Callable[[], str | None]] = []


def add_read_ahead(provider: Callable[[], str | None]) -> None:
    """`provider()` names a key of the app's Redis the current request will GET, or None."""
    _READ_AHEAD_PROVIDERS.append(provider)


def announce_reads_ahead() -> None:
    """The before-request hook that runs ahead of the rate limiter."""
    keys = [key for key in (provider() for provider in _READ_AHEAD_PROVIDERS) if key is not None]
    if keys:
        g.redis_keys_to_read_ahead = keys


def reads_ahead() -> list[str]:
    """The keys to read with the next round trip of this request (once: taken when called)."""
    if not has_request_context():
        return []
    return g.pop("redis_keys_to_read_ahead", [])


def keep_read_ahead(keys: list[str], values: list[Any]) -> None:
    g.redis_values_read_ahead = dict(zip(keys, values))


def value_read_ahead(key: str) -> tuple[bool, Any]:
    """(True, the value or None) when `key` was read ahead in this request, else (False, None).
    A value is handed out once: a second read of the key goes to Redis."""
    values = g.get("redis_values_read_ahead") if has_request_context() else None
    if not values or key not in values:
        return False, None
    return True, values.pop(key)
