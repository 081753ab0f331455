"""Redis clients, created lazily once per app: text for app state, bytes for RQ."""

from __future__ import annotations

import redis
from flask import Flask, current_app


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
