"""gunicorn settings, from the environment: `gunicorn -c gunicorn.conf.py wsgi:app`.

PORT (8000), HOST (0.0.0.0) or BIND (host:port, wins over both), WEB_CONCURRENCY (worker processes,
2), GUNICORN_WORKER_CLASS (gthread), GUNICORN_THREADS (threads per worker, 4), GUNICORN_TIMEOUT
(seconds a request may take before its worker is replaced, 30), GUNICORN_GRACEFUL_TIMEOUT (seconds
requests in flight get to finish on SIGTERM, 20), GUNICORN_MAX_REQUESTS (requests before a worker is
recycled, 0 = never) and GUNICORN_MAX_REQUESTS_JITTER (a tenth of that). Errors go to stdout; the
access log is the app's own (one line per request, with its request id), so gunicorn writes none.
Why these defaults: bench/README.md.

The configuration is checked once in the master before any worker starts, so an unsafe production
configuration stops gunicorn with the list of problems instead of a crash loop of workers.

With METRICS_ENABLED, the workers keep their Prometheus values in PROMETHEUS_MULTIPROC_DIR (a fresh
temporary folder unless it is set; emptied at start), so that a scrape answered by any worker
counts every worker; a worker that exits is marked dead there.
"""

from __future__ import annotations

import glob
import os
import sys
import tempfile


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"gunicorn.conf.py: {name} must be an integer, got {raw!r}")


bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", 2)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = 5
# Recycling restarts a worker (imports and create_app: about a second of a core) and drops its
# warm pools; off unless a deployment needs it against a leak.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat files off the disk
# One shared default path ($HOME/.gunicorn/gunicorn.ctl) would collide between instances on one host.
control_socket_disable = True
# X-Forwarded-* are handled by the app (TRUSTED_PROXY_COUNT through Werkzeug's ProxyFix).
forwarded_allow_ips = "127.0.0.1,::1"

accesslog = None
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
    """Refuse to start on an unusable configuration, naming every problem."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from config import ConfigError, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        server.log.error("%s", exc)
        sys.exit(1)
    if config["METRICS_ENABLED"]:
        # Set before any worker imports prometheus_client, which reads it at import.
        directory = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="lms-metrics-"))
        os.makedirs(directory, exist_ok=True)
        for stale in glob.glob(os.path.join(directory, "*.db")):  # a previous run's values
            os.remove(stale)


def child_exit(server, worker) -> None:
    """A worker's live gauges (requests in progress, pool connections) stop counting when it exits."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
