"""One way to run background work: `enqueue(func, *args, **kwargs)`.

With a `REDIS_URL` the call goes to an RQ queue (`emails`, `default` or `webhooks`) and a `rq worker`
runs it inside an app context, retried with back-off. With no Redis, or `TASKS_FORCE_INLINE`, or when
the enqueue itself fails, it runs inline; an inline failure is logged, never surfaced to the client.
Call it after the transaction that the job depends on has committed.

For a job that a periodic run catches up with anyway (the webhook relay, `lms/cron.py`),
`inline=False` skips it, rather than running it in the caller, when it cannot be queued.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Callable

from flask import Flask, current_app, has_app_context
from redis import RedisError
from rq import Queue, Retry

from lms.core.db import db
from lms.core.redis import redis_bytes_client

log = logging.getLogger(__name__)

QUEUES = ("emails", "default", "webhooks")
RETRY_INTERVALS = [10, 30, 60, 120, 300]


def _job_path(func: Callable) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def _resolve(path: str) -> Callable:
    module_name, _, attribute = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def enqueue(func: Callable, *args: Any, queue: str = "default", inline: bool = True,
            **kwargs: Any) -> str | None:
    """Run `func(*args, **kwargs)` in the background; returns the RQ job id, or None if run inline
    (or skipped: `inline=False`)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    app = current_app._get_current_object()
    connection = redis_bytes_client(app)
    if connection is not None and not app.config["TASKS_FORCE_INLINE"]:
        retries = app.config["JOB_MAX_RETRIES"]
        options = dict(job_timeout=120, result_ttl=3600, failure_ttl=7 * 24 * 3600,
                       retry=Retry(max=retries, interval=RETRY_INTERVALS[:retries]) if retries else None)
        try:
            job = Queue(queue, connection=connection).enqueue(run_job, _job_path(func), args, kwargs, **options)
            return job.id
        except RedisError as exc:
            if not inline:
                log.warning("could not enqueue %s, leaving it to its next periodic run: %s", _job_path(func), exc)
                return None
            log.warning("could not enqueue %s, running it inline: %s", _job_path(func), exc)
    if not inline:
        return None
    try:
        func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - inline jobs never change the HTTP answer
        log.exception("inline job %s failed", _job_path(func))
    return None


_app_factory: Callable[[], Flask] | None = None
_worker_app: Flask | None = None


def use_app_factory(factory: Callable[[], Flask]) -> None:
    """How a worker builds the app its jobs run in (the application package registers it)."""
    global _app_factory
    _app_factory = factory


def worker_app() -> Flask:
    """The app a worker process runs jobs in, built once per process."""
    global _worker_app
    if _worker_app is None:
        _worker_app = _app_factory()
    return _worker_app


def run_job(path: str, args: tuple, kwargs: dict) -> Any:
    """The function RQ executes: resolve the job by name and run it inside an app context."""
    func = _resolve(path)
    if has_app_context():
        return func(*args, **kwargs)
    app = worker_app()
    with app.app_context():
        try:
            return func(*args, **kwargs)
        finally:
            db.session.remove()
