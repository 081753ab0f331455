"""The LMS API application factory."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_config
from lms.core import http
from lms.core.api import reject_invalid_path_values, reject_methods_fixed_paths_lack
from lms.core.auth import configure_jwt
from lms.core.cache import answer_from_cache, cache_settings
from lms.core.conditional import check_if_match, tag_read
from lms.core.db import add_read_engine, engines_of, ping_idle_connections, run_prepared_statements_by_name
from lms.core.errors import register_error_handlers
from lms.core.health import LivenessShortcut
from lms.core.metrics import count_pools_after_fork, document_metrics, init_metrics
from lms.core.permissions import check_access_before_parsing
from lms.core.ratelimit import init_rate_limits, limiter_settings
from lms.core.redis import announce_reads_ahead
from lms.core.tasks import use_app_factory
from lms.core.extensions import api, cache, cors, db, talisman

# Every blueprint ("module:attribute"), registered under the API prefix in this order.
BLUEPRINTS = (
    "lms.core.health:blp",
    "lms.auth.routes:blp",
    "lms.users.routes:blp",
    "lms.courses.routes:blp",
    "lms.courses.routes:lessons_blp",
    "lms.enrollments.routes:blp",
    "lms.quizzes.routes:blp",
    "lms.quizzes.routes:attempts_blp",
    "lms.analytics.routes:blp",
    "lms.files.routes:blp",
    "lms.certificates.routes:blp",
    "lms.assignments.routes:blp",
    "lms.webhooks.routes:blp",
    "lms.gradebook.routes:blp",
    "lms.audit.routes:blp",
    "lms.privacy.routes:blp",
    "lms.sync.routes:blp",
)

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",  # Swagger UI sets inline styles
    "img-src": "'self' data: https:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "form-action": "'self'",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = http.Application(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"),
                static_folder=None)
    settings = load_config(config, instance_path=Path(app.instance_path))
    app.config.update(settings)
    app.config.update(cache_settings(settings))
    app.config.update(limiter_settings(settings))
    app.config.update(
        API_TITLE=settings["PROJECT_NAME"],
        API_VERSION=settings["VERSION"],
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/" if settings["ENABLE_API_DOCS"] else None,
        OPENAPI_JSON_PATH="openapi.json",
        TRUSTED_HOSTS=settings["TRUSTED_HOSTS"] or None,
        DEBUG=settings["DEBUG"],
        PROPAGATE_EXCEPTIONS=False,
    )
    app.json.sort_keys = False  # answers keep their schemas' field order
    http.configure_logging(app)
    if settings["TRUSTED_PROXY_COUNT"] > 0:
        hops = settings["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        add_read_engine(app, db.engine)
        for engine in engines_of(app):
            ping_idle_connections(engine, settings["DB_POOL_PING_IDLE_SECONDS"])
            if settings["DB_PREPARED_STATEMENTS"]:
                run_prepared_statements_by_name(engine)
    cache.init_app(app)
    configure_jwt(app)
    # Before-request hooks run in this order: request id and clock, the rate limiter (outermost,
    # §1.6), a method a fixed path lacks (405), the view's access check (401/403 before any
    # validation, §5.31), If-Match (412 before any parsing), the body and query guards, the path
    # parameters, then a cached answer.
    app.before_request(http.start_request)
    if settings["METRICS_ENABLED"]:
        init_metrics(app)
    app.before_request(announce_reads_ahead)  # what the limiter's round trip reads too
    init_rate_limits(app)
    # CORS headers go to cross-origin requests only (those with an Origin), as the existing API
    # sends them; `finish_response` adds `Vary: Origin` to every answer instead of flask-cors.
    cors.init_app(app, origins=settings["CORS_ORIGINS"], supports_credentials=True, always_send=False,
                  vary_header=False,
                  expose_headers=["X-Request-ID", "ETag", "Retry-After", "RateLimit-Limit",
                                  "RateLimit-Remaining", "RateLimit-Reset", "X-RateLimit-Limit",
                                  "X-RateLimit-Remaining", "X-RateLimit-Reset", "Idempotent-Replayed"])
    if settings["SECURITY_HEADERS_ENABLED"]:
        talisman.init_app(
            app,
            force_https=False,  # TLS ends at the proxy; HSTS is sent on https requests only
            content_security_policy_nonce_in=[],  # no inline scripts anywhere
            frame_options="DENY",
            referrer_policy="no-referrer",
            permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
            content_security_policy=CONTENT_SECURITY_POLICY,
            strict_transport_security=True,
            strict_transport_security_max_age=31536000,  # the seed's value (talisman's default differs)
            strict_transport_security_include_subdomains=True,
            session_cookie_secure=True,
        )
    api.init_app(app)
    register_error_handlers(app)

    app.session_interface = http.NoCookieSession()
    app.before_request(reject_methods_fixed_paths_lack)
    app.before_request(check_access_before_parsing)
    app.before_request(check_if_match)
    app.before_request(http.guard_request)
    app.before_request(reject_invalid_path_values)
    app.before_request(answer_from_cache)  # a read whose answer is cached skips its view
    app.after_request(http.finish_response)
    app.after_request(tag_read)  # after-request hooks run last-registered first: before the envelope

    _register_modules(app)
    if settings["METRICS_ENABLED"] and settings["ENABLE_API_DOCS"]:
        document_metrics(app, api.spec)
    app.wsgi_app = LivenessShortcut(app.wsgi_app, f"{settings['API_V1_PREFIX']}/health")  # type: ignore[method-assign]
    return app


def start_forked_worker(app: Flask) -> None:
    """Call first in a process forked from the one that built `app` (gunicorn's preloaded workers)."""
    for engine in engines_of(app):
        # Pooled connections are the parent's: a child sharing one would garble both sessions.
        engine.dispose(close=False)
    if app.config["METRICS_ENABLED"]:
        count_pools_after_fork(app)


def _register_modules(app: Flask) -> None:
    import lms.models  # noqa: F401 - every table in the metadata

    prefix = app.config["API_V1_PREFIX"]
    for path in BLUEPRINTS:
        module_name, _, attribute = path.partition(":")
        blp = getattr(importlib.import_module(module_name), attribute)
        api.register_blueprint(blp, url_prefix=prefix + (blp.url_prefix or "").rstrip("/"))

    @app.get("/")
    def root():
        return {"message": "LMS Backend API"}

    if app.config["ENABLE_API_DOCS"]:
        from lms.core.docs import docs

        app.register_blueprint(docs)


use_app_factory(create_app)  # a worker's jobs run in an app built by this factory
