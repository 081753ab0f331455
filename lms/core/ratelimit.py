"""Rate limits (contract §1.6 as changed by §5.21) on Flask-Limiter.

- general: per client across all paths (an application-wide limit);
- auth, upload, assignments: per client per endpoint, applied with the decorators below.
Redis storage when `RATE_LIMIT_USE_REDIS` and a `REDIS_URL` are set, memory otherwise; a Redis
outage falls back to per-process memory, never a 500. The client is the TCP peer, or the address
ProxyFix derives from `TRUSTED_PROXY_COUNT` proxies.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from flask import Flask, Response, current_app, request
from flask_limiter.util import get_remote_address
from limits.storage import RedisStorage

from lms.core.auth import bearer_token, decode_token_of_type
from lms.core.errors import AppError
from lms.core.http import put_headers
from lms.core.extensions import limiter
from lms.core.redis import keep_read_ahead, reads_ahead

log = logging.getLogger(__name__)

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
        "RATELIMIT_HEADERS_ENABLED": False,  # `_add_rate_limit_headers` writes them
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "ratelimit",
    }


def _exempt() -> bool:
    path = request.path
    return (path in EXEMPT_PATHS or path.startswith("/docs/")
            or path.endswith(EXEMPT_SUFFIXES) or request.method == "OPTIONS")


def init_rate_limits(app: Flask) -> None:
    # The limiter's own header writing is off (`limiter_settings`): this hook writes every rate-limit
    # header at once. Registered before the limiter, so it runs after the limiter's after-request work.
    app.after_request(_add_rate_limit_headers)
    limiter.init_app(app)
    limiter.request_filter(_exempt)
    _resolve_limits_once_per_endpoint(limiter.limit_manager)


def _resolve_limits_once_per_endpoint(manager) -> None:
    """Flask-Limiter works out which limits apply to a request from the endpoint's registrations on
    every request (about 130 of a cached read's 2,800 function calls). For an endpoint without
    limits of its own only the application-wide limit applies, which Flask-Limiter fixes when the
    app starts (`RATELIMIT_APPLICATION`), so that answer is kept per app and endpoint. An endpoint
    with limits of its own is resolved on every request as before: their values are read from the
    configuration each time."""
    resolve = manager.resolve_limits
    if getattr(resolve, "resolves_once_per_endpoint", False):
        return
    resolved_by_app: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def resolve_limits(app, endpoint=None, blueprint=None, callable_name=None, in_middleware=False,
                       marked_for_limiting=False):
        real_app = app._get_current_object() if hasattr(app, "_get_current_object") else app  # current_app
        resolved = resolved_by_app.setdefault(real_app, {})
        key = (endpoint, blueprint, callable_name, in_middleware, marked_for_limiting)
        limits = resolved.get(key)
        if limits is None:
            limits = resolve(app, endpoint, blueprint, callable_name, in_middleware, marked_for_limiting)
            if not limits[1]:
                resolved[key] = limits
        return limits

    resolve_limits.resolves_once_per_endpoint = True
    manager.resolve_limits = resolve_limits


def _add_rate_limit_headers(response: Response) -> Response:
    """The headers of the limit that applied to this request (contract §1.6 and §5.21).

    `X-RateLimit-Limit`/`-Remaining`/`-Reset` (an epoch time, the existing API's form), the IETF
    draft's `RateLimit-*` (`RateLimit-Reset` in seconds until the window resets) and `Retry-After`
    in seconds, which a lockout that set its own longer wait keeps.
    """
    applied = limiter.current_limit if limiter.enabled else None
    if applied is None:
        return response
    try:
        reset_at, remaining = applied.reset_at, applied.remaining
    except Exception as exc:  # noqa: BLE001 - the store failed after the hit was counted: no headers
        log.warning("rate-limit headers skipped: %s", exc)
        return response
    now = int(time.time())
    wait_until = reset_at
    lockout_wait = response.headers.get("Retry-After")
    if lockout_wait is not None and lockout_wait.isdigit():
        wait_until = max(reset_at, now + int(lockout_wait))
    limit, left = str(applied.limit.amount), str(remaining)
    put_headers(response, [
        ("X-RateLimit-Limit", limit),
        ("X-RateLimit-Remaining", left),
        ("X-RateLimit-Reset", str(reset_at)),
        ("RateLimit-Limit", limit),
        ("RateLimit-Remaining", left),
        ("RateLimit-Reset", str(max(0, reset_at - now))),
        ("Retry-After", str(max(0, wait_until - now))),
    ])
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
