"""The seed's `AppCache` API on Flask-Caching: Redis when configured, in-process otherwise.

Every operation fails open: a Redis error is logged and treated as a miss, never a 500. While a
Redis is configured nothing is cached per process, so a write made during an outage is seen by
every instance once Redis is back (contract §5.27).

Keys may be stored in a *group* (a Redis set of its members): `delete_group` drops every member in
one round trip, where a prefix deletion has to scan the whole keyspace. `cached_json_response`
keeps whole JSON answers with their ETag, so a hit is one GET and no serialisation; a read declared
with `answer_reads_from_cache` is answered from that entry before its view runs (no argument
parsing, no view), its GET riding in the rate limiter's round trip.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, Response, current_app, g

from lms.core.http import etag_of, json_bytes, json_response
from lms.core.metrics import count_cache_lookup
from lms.core.extensions import cache
from lms.core.redis import add_read_ahead, value_read_ahead

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


_GROUP_PREFIX = "group:"
# Deletes the members of a group (KEYS[1], a set of keys without the app prefix ARGV[1]) and the set.
_DELETE_GROUP_SCRIPT = """
local members = redis.call('SMEMBERS', KEYS[1])
for start = 1, #members, 500 do
    local batch = {}
    for i = start, math.min(start + 499, #members) do
        batch[#batch + 1] = ARGV[1] .. members[i]
    end
    redis.call('DEL', unpack(batch))
end
redis.call('DEL', KEYS[1])
return #members
"""


class AppCache:
    def __init__(self, app: Flask) -> None:
        self.enabled = app.config["CACHE_ENABLED"]
        self.default_ttl_seconds = app.config["CACHE_DEFAULT_TTL_SECONDS"]
        self._memory_groups: dict[str, set[str]] = {}  # the in-process backend's groups

    def get(self, key: str) -> Any | None:
        """The stored value (any picklable value), or None."""
        if not self.enabled:
            return None
        try:
            value = self._read(key)
        except Exception as exc:  # noqa: BLE001 - any backend failure is a miss
            log.warning("cache read failed for %s: %s", key, exc)
            value = None
        count_cache_lookup(value is not None)
        return value

    @staticmethod
    def _read(key: str) -> Any | None:
        """The value read ahead in the rate limiter's round trip (`answer_reads_from_cache`), else
        read now."""
        backend = cache.cache
        if hasattr(backend, "_write_client"):
            was_read, raw = value_read_ahead(f"{backend.key_prefix}{key}")
            if was_read:
                return backend.serializer.loads(raw)
        return cache.get(key)

    def set(self, key: str, value: Any, *, ttl_seconds: int | None = None, group: str | None = None) -> None:
        """Store `value`; with `group`, `delete_group(group)` deletes it too."""
        if not self.enabled:
            return
        ttl = ttl_seconds or self.default_ttl_seconds
        try:
            if group is None:
                cache.set(key, value, timeout=ttl)
            else:
                self._set_in_group(key, value, ttl, group)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache write failed for %s: %s", key, exc)

    def get_json(self, key: str) -> Any | None:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, *, ttl_seconds: int | None = None, group: str | None = None) -> None:
        self.set(key, json.dumps(value, default=str), ttl_seconds=ttl_seconds, group=group)

    def _set_in_group(self, key: str, value: Any, ttl: int, group: str) -> None:
        backend = cache.cache
        client = getattr(backend, "_write_client", None)
        if client is None:
            backend.set(key, value, timeout=ttl)
            self._memory_groups.setdefault(group, set()).add(key)
            return
        members = f"{backend.key_prefix}{_GROUP_PREFIX}{group}"
        pipe = client.pipeline(transaction=False)
        pipe.set(f"{backend.key_prefix}{key}", backend.serializer.dumps(value), ex=ttl)
        pipe.sadd(members, key)
        pipe.expire(members, ttl)  # members of a group share a TTL: the newest lives longest
        pipe.execute()

    def delete_group(self, group: str) -> None:
        """Delete every key stored with `group` (one round trip on Redis)."""
        if not self.enabled:
            return
        backend = cache.cache
        client = getattr(backend, "_write_client", None)
        try:
            if client is None:
                for key in self._memory_groups.pop(group, set()):
                    backend.delete(key)
                return
            client.eval(_DELETE_GROUP_SCRIPT, 1, f"{backend.key_prefix}{_GROUP_PREFIX}{group}",
                        backend.key_prefix)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache invalidation failed for group %s: %s", group, exc)

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


def cached_json_response(key: str, produce: Callable[[], Any], *, group: str | None = None,
                         remember: Callable[[Any], Any] | None = None,
                         admit: Callable[[Any], None] | None = None) -> Response:
    """The JSON answer stored under `key` with its ETag; a 304 when the request's If-None-Match has it.

    On a miss `produce()` makes the data (checking who may see it) and the answer is stored. When
    the stored answer may be served to readers who may not see it (one answer per object, whoever
    reads it), `remember(data)` keeps what the check needs and `admit(remembered)` repeats the
    check on every hit, raising when the reader may not see it.
    """
    app_cache = get_app_cache()
    # `answer_from_cache` already looked this key up in this request and found nothing.
    entry = None if g.pop(_LOOKED_UP_AND_MISSED, None) == key else app_cache.get(key)
    if entry is None:
        data = produce()
        body = json_bytes(data)
        entry = (etag_of(body), body, remember(data) if remember is not None else None)
        app_cache.set(key, entry, group=group)
    elif admit is not None:
        admit(entry[2])
    return _stored_answer(entry)


def _stored_answer(entry: tuple[str, bytes, Any]) -> Response:
    etag, body, _ = entry
    return json_response(body, etag=etag)


@dataclass(frozen=True)
class CachedRead:
    """The cache entry (`cached_json_response`) that may answer the current request: `key`, and
    `admit`, the check each hit repeats (None when the entry may be served to every caller whose
    request names it)."""

    key: str
    admit: Callable[[Any], None] | None = None


_CACHED_READS: list[Callable[[], CachedRead | None]] = []
_CACHED_READ = "lms.cached_read"
_LOOKED_UP_AND_MISSED = "lms.cache_missed"


def answer_reads_from_cache(cached_read_of_request: Callable[[], CachedRead | None]) -> None:
    """Answer reads from their cached answers before their views run.

    `cached_read_of_request()` names the entry of the current request, or None; it runs ahead of
    the rate limiter, so it may look at the path, the query as sent and the bearer token, but not
    at the caller (not authenticated yet). A hit skips argument parsing: an entry is only ever
    stored by the view for a request that passed it, and its key must cover everything the answer
    depends on (the query as sent, the reader's scope). A miss goes on to the view, which does not
    look again. Add them at import, before the first request.
    """
    _CACHED_READS.append(cached_read_of_request)


def _cached_read_key_to_read_ahead() -> str | None:
    """Notes the request's cached read for `answer_from_cache`, and names its Redis key so that its
    GET rides in the rate limiter's round trip (`lms.core.redis`)."""
    cached_read = next((read for read in (name() for name in _CACHED_READS) if read is not None), None)
    if cached_read is None:
        return None
    g.setdefault(_CACHED_READ, cached_read)
    backend = cache.cache
    if not current_app.config["CACHE_ENABLED"] or not hasattr(backend, "_write_client"):
        return None
    return f"{backend.key_prefix}{cached_read.key}"


add_read_ahead(_cached_read_key_to_read_ahead)


def answer_from_cache() -> Response | None:
    """`before_request`, the last one (after the access check and every guard): the cached answer
    of a read named by `answer_reads_from_cache`, or None to let the view answer."""
    cached_read: CachedRead | None = g.pop(_CACHED_READ, None)
    if cached_read is None:
        return None
    entry = get_app_cache().get(cached_read.key)
    if entry is None:
        g.setdefault(_LOOKED_UP_AND_MISSED, cached_read.key)
        return None
    if cached_read.admit is not None:
        cached_read.admit(entry[2])
    return _stored_answer(entry)


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def get_app_cache() -> AppCache:
    app = current_app._get_current_object()
    instance = app.extensions.get("lms.app_cache")
    if instance is None:
        instance = app.extensions["lms.app_cache"] = AppCache(app)
    return instance
