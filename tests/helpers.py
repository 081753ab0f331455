"""Plain helpers and constants for every package's tests: import them from here, never from a conftest.

Fixtures live in `tests/fixtures/` (and `tests/factories.py`), loaded as plugins by `tests/conftest.py`;
this module holds what a test calls or reads itself. Package-specific helpers live next to their tests,
in `tests/<package>/helpers.py`.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from flask import g, request_started
from flask.testing import FlaskClient

if TYPE_CHECKING:
    from lms.courses.models import Course, Lesson

PASSWORD = "Password123!"
API = "/api/v1"
CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: an outage
CLOSED_DATABASE_URL = "postgresql://root@127.0.0.1:1/x"
Result = TypeVar("Result")
MC_OPTIONS = [  # a multiple-choice question's options, "a" correct (`make_question`'s default)
    {"option_id": "a", "option_text": "Paris", "is_correct": True},
    {"option_id": "b", "option_text": "Lyon", "is_correct": False},
    {"option_id": "c", "option_text": "Nice", "is_correct": False},
]


# --- backends of this run ------------------------------------------------------------------------
# PostgreSQL and Redis when `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set or the defaults on 127.0.0.1
# answer; SQLite and memory otherwise (or always with LMS_TEST_EMBEDDED=1). Under `CI=true` both are
# required. The per-run database and Redis database number are the fixtures of tests/fixtures/backends.py.

DEFAULT_DATABASE_URL = "postgresql://root@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _choose_backends() -> tuple[str | None, str | None]:
    in_ci = os.environ.get("CI", "").lower() == "true"
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if database_url is None and os.environ.get("LMS_TEST_EMBEDDED") != "1" and _answers("127.0.0.1", 5432):
        database_url = DEFAULT_DATABASE_URL
    if redis_url is None and os.environ.get("LMS_TEST_EMBEDDED") != "1" and _answers("127.0.0.1", 6379):
        redis_url = DEFAULT_REDIS_URL
    if in_ci and not (database_url and redis_url):
        pytest.exit("CI=true requires PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL)", returncode=3)
    return database_url, redis_url


DATABASE_URL, REDIS_URL = _choose_backends()
USES_POSTGRES = bool(DATABASE_URL)
USES_REDIS = bool(REDIS_URL)


def _replace_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def postgres_database(base_url: str):
    """A fresh, empty PostgreSQL database for the duration of the block."""
    import psycopg2

    name = f"lms_test_{uuid.uuid4().hex[:12]}"
    admin_url = base_url.replace("postgresql+psycopg2://", "postgresql://")
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield _replace_database(admin_url, name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


@contextmanager
def claimed_redis_database(base_url: str):
    """Claim a Redis database number no other concurrent run holds; flushed before and after.

    The claims live in database 0 of the server, whichever database `base_url` names, so runs given
    different base databases still never claim the same number."""
    control = redis.Redis.from_url(urlunsplit(urlsplit(base_url)._replace(path="/0")))
    token = uuid.uuid4().hex
    for number in range(1, 16):
        if control.set(f"lms-test-claim:{number}", token, nx=True, ex=3600):
            break
    else:
        pytest.exit("no free Redis database for this test run", returncode=3)
    url = urlunsplit(urlsplit(base_url)._replace(path=f"/{number}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        if control.get(f"lms-test-claim:{number}") == token.encode():
            control.delete(f"lms-test-claim:{number}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- building apps -------------------------------------------------------------------------------

def settings_for_tests(database_url: str, redis_url: str, smtp_port: int, tmp: Path) -> dict:
    """The testing configuration; tests that need a variant build their own app from this."""
    return {
        "ENVIRONMENT": "testing",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BCRYPT_ROUNDS": 4,
        "TASKS_FORCE_INLINE": True,
        "RATE_LIMIT_ENABLED": False,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "SMTP_USE_TLS": False,
        "UPLOAD_DIR": str(tmp / "uploads"),
        "CERTIFICATES_DIR": str(tmp / "certificates"),
        "EXPORTS_DIR": str(tmp / "exports"),
        "LOG_LEVEL": "WARNING",
        "TESTING": True,
    }

@contextmanager
def served_by_gunicorn(settings: dict, extra_environment: dict[str, str], ready: Callable[[str], bool]):
    """The app under gunicorn (gunicorn.conf.py) on a free loopback port, configured through the
    environment; yields its base URL once `ready(base_url)` holds (30 s at most), stops it after."""
    import subprocess
    import sys
    import time

    port = free_port()
    env = {**os.environ, **{key: str(value) for key, value in settings.items()}, "BIND": f"127.0.0.1:{port}",
           **extra_environment}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                               cwd=Path(__file__).resolve().parent.parent, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not ready(base):
            if process.poll() is not None or time.monotonic() > deadline:
                process.terminate()  # its stderr ends only with it
                raise RuntimeError(f"gunicorn did not start: {process.communicate(timeout=30)[1].decode()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)



def build_app(settings: dict):
    """`create_app` for tests: every app built in the tests gives each request a fresh `g`."""
    from lms import create_app

    application = create_app(dict(settings))
    request_started.connect(_fresh_request_globals, application)
    return application


def _fresh_request_globals(_sender, **_extra) -> None:
    """Each test holds an app context open, so Flask lets the requests it makes share that context's
    `g` (the signed-in user of one request would leak into the next); production gives every request
    a fresh `g`, and so does this."""
    g.__dict__.clear()


@contextmanager
def preserving_shared_extensions():
    """Put the shared extension objects back as they were on entry, once the block ends.

    Flask-Limiter, Talisman, flask-smorest's `Api` and the "lms" logger keep the configuration of the
    last app built on the (module-level) object itself; an app built inside the block leaves the
    shared `app` unaffected after it.
    """
    import logging

    from lms.core.extensions import api, limiter, talisman

    def shallow(state: dict) -> dict:
        return {k: v.copy() if isinstance(v, (dict, list, set)) else v for k, v in state.items()}

    saved = [(obj, shallow(vars(obj))) for obj in (limiter, limiter.limit_manager, talisman, api)]
    logger = logging.getLogger("lms")
    saved_logger = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield
    finally:
        for obj, state in saved:
            vars(obj).clear()
            vars(obj).update(state)
        logger.handlers[:], logger.level, logger.propagate = saved_logger


def dispose_engine(application) -> None:
    from lms.core.db import engines_of

    for engine in engines_of(application):
        engine.dispose()


@contextmanager
def on_test_connection(application):
    """Run another app's requests on the shared app's test connection, inside the test's transaction."""
    from lms.core.extensions import db

    connection = db.engines[None]  # the shared app's context is active (`_database_scope`)
    with application.app_context():
        engines = db.engines
    original = engines[None]
    engines[None] = connection
    try:
        yield application
    finally:
        engines[None] = original


# --- reading rows --------------------------------------------------------------------------------

def lessons_of(course: Course) -> list[Lesson]:
    """The course's lessons in their order."""
    from sqlalchemy import select

    from lms.courses.models import Lesson
    from lms.core.extensions import db

    return list(db.session.scalars(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.order_index)))


# --- requests, jobs, races -----------------------------------------------------------------------

@contextmanager
def redis_commands_sent():
    """The commands (pipelines count once) sent to any Redis while the block runs: its round trips."""
    import redis.connection

    sent: list[bytes] = []
    connection_class = redis.connection.AbstractConnection
    send = connection_class.send_packed_command

    def counting_send(connection, command, *args, **kwargs):
        sent.append(command)
        return send(connection, command, *args, **kwargs)

    connection_class.send_packed_command = counting_send
    try:
        yield sent
    finally:
        connection_class.send_packed_command = send


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that carries this token."""
    return {"Authorization": f"Bearer {token}"}


def work_off(app, *queues: str, worker_class=None) -> None:
    """Run an RQ burst worker over `queues` as the worker process does: outside any app context."""
    from rq import Queue, SimpleWorker

    from lms.core.redis import redis_bytes_client

    connection = redis_bytes_client(app)
    worker = (worker_class or SimpleWorker)([Queue(name, connection=connection) for name in queues],
                                            connection=connection)
    contextvars.Context().run(worker.work, burst=True)


def run_concurrently(app, calls: Sequence[Callable[[FlaskClient], Result]]) -> list[Result]:
    """Race the calls: each runs on a thread of its own with a test client of its own, all released at once.

    For `real_commits` tests (`[send] * 10` sends one request ten times at once). The calls' results in
    their order; an exception raised in a call is raised here.
    """
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[FlaskClient], Result]) -> Result:
        own_client = app.test_client()
        barrier.wait(timeout=30)
        return call(own_client)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))
