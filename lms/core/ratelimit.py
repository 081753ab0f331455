"""Rate limits (contract §1.6 as changed by §5.21) on Flask-Limiter.

- general: per client across all paths (an application-wide limit);
- auth, upload, assignments: per client per endpoint, applied with the decorators below.
Redis storage when `RATE_LIMIT_USE_REDIS` and a `REDIS_URL` are set, memory otherwise; a Redis
outage falls back to per-process memory, never a 500. The client is the TCP peer, or the address
ProxyFix derives from `TRUSTED_PROXY_COUNT` proxies.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, Response, current_app, request
from flask_limiter.util import get_remote_address
from limits.storage import RedisStorage

from lms.core.auth import bearer_token, decode_token_of_type
from lms.core.errors import AppError
from lms.core.extensions import limiter
from lms.core.redis import keep_read_ahead, reads_ahead

EXEMPT_PATHS = {"/", "/docs", "/openapi.json", "/metrics"}
EXEMPT_SUFFIXES = ("/health", "/ready")


# The counter's answer stays usable for the headers of the request that took it for this long.
_WINDOW_MEMO_SECONDS = 1.0


class CountingRedisStorage(RedisStorage):
    """Redis counters whose increment also reports the window, so a limited request costs one
    round trip: Flask-Limiter reads the count and the expiry back for its headers right after the
    hit, and those two reads are answered from what the increment returned (per thread). The
    increment also carries the request's reads ahead (`lms.core.redis.reads_ahead`).

    Its URI is the Redis URL with `lms+` in front of the scheme (`lms+redis://…`).
    """

    STORAGE_SCHEME = ["lms+redis", "lms+rediss"]
    SCRIPT_INCR_EXPIRE_TTL = """
local current = redis.call("incrby", KEYS[1], tonumber(ARGV[2]))
if current == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""

    def __init__(self, uri: str, **options) -> None:
        super().__init__(uri.removeprefix("lms+"), **options)
        self._last_hits = threading.local()

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_expire_ttl = self.get_connection().register_script(self.SCRIPT_INCR_EXPIRE_TTL)

    def _memo(self) -> dict[str, tuple[int, float, float]]:
        memo = getattr(self._last_hits, "windows", None)
        if memo is None:
            memo = self._last_hits.windows = {}
        return memo

    def _fresh(self, key: str) -> tuple[int, float] | None:
        entry = self._memo().get(key)
        if entry is None or time.monotonic() - entry[2] > _WINDOW_MEMO_SECONDS:
            return None
        return entry[0], entry[1]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        full_key = self.prefixed_key(key)
        keys_ahead = reads_ahead()
        if keys_ahead:
            # EVAL, not the registered script's EVALSHA: a pipeline with scripts first asks Redis
            # whether it has them, which is the round trip this saves.
            pipe = self.get_connection().pipeline(transaction=False)
            pipe.eval(self.SCRIPT_INCR_EXPIRE_TTL, 1, full_key, expiry, amount)
            pipe.mget(keys_ahead)
            (count, ttl), values = pipe.execute()
            keep_read_ahead(keys_ahead, values)
        else:
            count, ttl = self.lua_incr_expire_ttl([full_key], [expiry, amount])
        self._memo()[key] = (int(count), max(int(ttl), 0) + time.time(), time.monotonic())
        return int(count)

    def get(self, key: str) -> int:
        fresh = self._fresh(key)
        return fresh[0] if fresh is not None else super().get(key)

    def get_expiry(self, key: str) -> float:
        fresh = self._memo().pop(key, None)
        if fresh is not None and time.monotonic() - fresh[2] <= _WINDOW_MEMO_SECONDS:
            return fresh[1]
        return super().get_expiry(key)

    def clear(self, key: str) -> None:
        self._memo().pop(key, None)
        super().clear(key)


def limiter_settings(config: dict) -> dict:
    storage = "memory://"
    options: dict = {}
    if config["RATE_LIMIT_USE_REDIS"] and config["REDIS_URL"]:
        storage = "lms+" + config["REDIS_URL"]
        timeout = config["REDIS_SOCKET_TIMEOUT_SECONDS"]
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    window = config["RATE_LIMIT_WINDOW_SECONDS"]
    return {
        "RATELIMIT_ENABLED": config["RATE_LIMIT_ENABLED"],
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_STORAGE_OPTIONS": options,
        "RATELIMIT_STRATEGY": "fixed-window",
        "RATELIMIT_APPLICATION": f"{config['RATE_LIMIT_REQUESTS_PER_MINUTE']} per {window} seconds",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "ratelimit",
    }


def _exempt() -> bool:
    path = request.path
    return (path in EXEMPT_PATHS or path.startswith("/docs/")
            or path.endswith(EXEMPT_SUFFIXES) or request.method == "OPTIONS")


def init_rate_limits(app: Flask) -> None:
    # after_request hooks run in reverse order of registration: registered first, this one runs
    # after the limiter has written its X-RateLimit-* headers.
    app.after_request(_add_standard_rate_limit_headers)
    limiter.init_app(app)
    limiter.request_filter(_exempt)


def _add_standard_rate_limit_headers(response: Response) -> Response:
    """Mirror the limiter's X-RateLimit-* headers as the IETF RateLimit-* ones (contract §5.21).

    `X-RateLimit-Reset` is an epoch time (the existing API's form); `RateLimit-Reset` is the number
    of seconds until the window resets, as the IETF draft defines it.
    """
    for name in ("Limit", "Remaining"):
        value = response.headers.get(f"X-RateLimit-{name}")
        if value is not None:
            response.headers[f"RateLimit-{name}"] = value
    reset_at = response.headers.get("X-RateLimit-Reset")
    if reset_at is not None and reset_at.isdigit():
        response.headers["RateLimit-Reset"] = str(max(0, int(reset_at) - int(time.time())))
    return response


def _user_or_ip() -> str:
    """The bearer's user id when a valid access token is present, else the client IP."""
    token = bearer_token()
    if token is not None:
        try:
            return f"user:{decode_token_of_type(token, 'access')['sub']}"
        except AppError:  # an unusable token counts against the IP
            pass
    return get_remote_address()


def _auth_limit() -> str:
    config = current_app.config
    return f"{config['AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE']} per {config['RATE_LIMIT_WINDOW_SECONDS']} seconds"


def _upload_limit() -> str:
    return f"{current_app.config['FILE_UPLOAD_RATE_LIMIT_REQUESTS_PER_HOUR']} per hour"


def _assignment_limit() -> str:
    config = current_app.config
    return f"{config['ASSIGNMENT_RATE_LIMIT_REQUESTS_PER_MINUTE']} per {config['RATE_LIMIT_WINDOW_SECONDS']} seconds"


# Per-endpoint limits for the rules of §1.6; apply to views (or a whole blueprint).
auth_rate_limit = limiter.limit(_auth_limit, key_func=get_remote_address)
upload_rate_limit = limiter.limit(_upload_limit, key_func=_user_or_ip)
assignment_rate_limit = limiter.limit(_assignment_limit, key_func=_user_or_ip)
