"""The seed's `AppCache` API on Flask-Caching: Redis when configured, in-process otherwise.

Every operation fails open: a Redis error is logged and treated as a miss, never a 500. While a
Redis is configured nothing is cached per process, so a write made during an outage is seen by
every instance once Redis is back (contract §5.27).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, current_app

from lms.extensions import cache

log = logging.getLogger(__name__)


def cache_settings(config: dict[str, Any]) -> dict[str, Any]:
    if not config["CACHE_ENABLED"]:
        return {"CACHE_TYPE": "NullCache"}
    base = {"CACHE_DEFAULT_TIMEOUT": config["CACHE_DEFAULT_TTL_SECONDS"],
            "CACHE_KEY_PREFIX": f"{config['CACHE_KEY_PREFIX']}:"}
    if config["REDIS_URL"]:
        timeout = config["REDIS_SOCKET_TIMEOUT_SECONDS"]
        return {**base, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": config["REDIS_URL"],
                "CACHE_OPTIONS": {"socket_timeout": timeout, "socket_connect_timeout": timeout}}
    return {**base, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 5000}


class AppCache:
    def __init__(self, app: Flask) -> None:
        self.enabled = app.config["CACHE_ENABLED"]
        self.default_ttl_seconds = app.config["CACHE_DEFAULT_TTL_SECONDS"]

    def get_json(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        try:
            raw = cache.get(key)
        except Exception as exc:  # noqa: BLE001 - any backend failure is a miss
            log.warning("cache read failed for %s: %s", key, exc)
            return None
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> None:
        if not self.enabled:
            return
        try:
            cache.set(key, json.dumps(value, default=str), timeout=ttl_seconds or self.default_ttl_seconds)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache write failed for %s: %s", key, exc)

    def delete(self, key: str) -> None:
        if not self.enabled:
            return
        try:
            cache.delete(key)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache delete failed for %s: %s", key, exc)

    def delete_by_prefix(self, prefix: str) -> None:
        """Drop every key that starts with `prefix` (after the app-wide key prefix)."""
        if not self.enabled:
            return
        backend = cache.cache
        try:
            client = getattr(backend, "_write_client", None)
            if client is not None:
                # The backend's own prefix ("cache:"), exactly as it writes it into every key.
                full_prefix = f"{backend.key_prefix}{prefix}"
                keys = list(client.scan_iter(match=_glob_escape(full_prefix) + "*", count=500))
                for start in range(0, len(keys), 500):
                    client.delete(*keys[start:start + 500])
            else:
                for key in [k for k in list(getattr(backend, "_cache", {})) if k.startswith(prefix)]:
                    backend.delete(key)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache invalidation failed for %s: %s", prefix, exc)


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def get_app_cache() -> AppCache:
    app = current_app._get_current_object()
    instance = app.extensions.get("lms.app_cache")
    if instance is None:
        instance = app.extensions["lms.app_cache"] = AppCache(app)
    return instance
