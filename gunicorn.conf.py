"""gunicorn settings, from the environment: `gunicorn -c gunicorn.conf.py wsgi:app`.

PORT (8000), HOST (0.0.0.0) or BIND (host:port, wins over both), WEB_CONCURRENCY (worker processes,
2), GUNICORN_WORKER_CLASS (gthread), GUNICORN_THREADS (threads per worker, 4), GUNICORN_TIMEOUT
(seconds a request may take before its worker is replaced, 30), GUNICORN_GRACEFUL_TIMEOUT (seconds
requests in flight get to finish on SIGTERM, 20), GUNICORN_MAX_REQUESTS (requests before a worker is
recycled, 0 = never) and GUNICORN_MAX_REQUESTS_JITTER (a tenth of that). Errors go to stdout; the
access log is the app's own (one line per request, with its request id), so gunicorn writes none.
Why these defaults: bench/README.md.

GUNICORN_PRELOAD (off): on, the master loads the app once and forks the workers from it, so that
they share its memory copy-on-write and a new worker starts in milliseconds; the master freezes its
objects before forking (the workers' garbage collector then leaves their shared pages alone), each
worker starts its own database pools, and new code needs a restart of gunicorn (a HUP reloads only
the settings). Off by default because, measured under load (bench/README.md, finding 19), the
workers end up copying most of what they share: the memory the server occupies (PSS) is about the
same, while the master holding the app adds about 60 MB of RSS.

The configuration is checked once in the master when gunicorn reads this file, before the app is
loaded or any worker starts, so an unsafe production configuration stops gunicorn with the list of
problems (exit status 1) instead of a crash loop of workers.

With METRICS_ENABLED, the workers keep their Prometheus values in PROMETHEUS_MULTIPROC_DIR (a fresh
temporary folder unless it is set; emptied at start), so that a scrape answered by any worker
counts every worker; a worker that exits is marked dead there.
"""

from __future__ import annotations

import gc
import glob
import os
import sys
import tempfile

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"gunicorn.conf.py: {name} must be an integer, got {raw!r}")


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    sys.exit(f"gunicorn.conf.py: {name} must be true or false, got {raw!r}")


def _checked_app_config() -> dict:
    """The app's configuration, or gunicorn stops here naming every problem."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from config import ConfigError, load_config

    try:
        return load_config()
    except ConfigError as exc:
        sys.exit(f"gunicorn.conf.py: {exc}")


_app_config = _checked_app_config()
if _app_config["METRICS_ENABLED"]:
    # Ready before prometheus_client is imported (it reads the variable then): a preloading master
    # imports it while loading the app, before any server hook runs.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="lms-metrics-"))
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", 2)
preload_app = _flag("GUNICORN_PRELOAD", False)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = 5
# Recycling restarts a worker (not preloaded: imports and create_app, about a second of a core) and
# drops its warm pools; off unless a deployment needs it against a leak.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat files off the disk
# One shared default path ($HOME/.gunicorn/gunicorn.ctl) would collide between instances on one host.
control_socket_disable = True
# X-Forwarded-* are handled by the app (TRUSTED_PROXY_COUNT through Werkzeug's ProxyFix).
forwarded_allow_ips = "127.0.0.1,::1"

accesslog = None


class ErrorLogOnly(Logger):
    """gunicorn's logger without its access log, which the app writes (one line per request, with its
    request id). gunicorn's own would otherwise be built on every request and then dropped: a
    `logconfig_dict` turns it on even with `accesslog` unset (about 6% of a cached read's CPU)."""

    def access(self, resp, req, environ, request_time) -> None:
        return None


logger_class = ErrorLogOnly
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "plain",
                            "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["stdout"], "level": "WARNING"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
    },
}


def on_starting(server) -> None:
    """Start the metrics folder empty: a previous run's values, and the master's own, made while it
    preloaded the app (it answers no request; its live gauges would count as a worker's)."""
    if _app_config["METRICS_ENABLED"]:
        for stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
            os.remove(stale)


def when_ready(server) -> None:
    """Preloaded: the objects loaded so far move out of the garbage collector's reach, so that a
    collection in a worker does not write to (and so copy) every page it shares with the master."""
    if server.cfg.preload_app:
        gc.freeze()


def post_fork(server, worker) -> None:
    if server.cfg.preload_app:
        from lms import start_forked_worker

        start_forked_worker(worker.app.wsgi())


def child_exit(server, worker) -> None:
    """A worker's live gauges (requests in progress, pool connections) stop counting when it exits."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
