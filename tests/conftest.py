"""Shared fixtures: app, database, Redis, client, users with tokens, a mail sink, query counting.

Backends: PostgreSQL and Redis when `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set or the defaults
on 127.0.0.1 answer; SQLite and memory otherwise. Under `CI=true` both are required.
Each run gets its own PostgreSQL database and its own Redis database number, so that several runs
on one machine do not interfere. Each test runs in a transaction rolled back after it; tests marked
`real_commits` (races between threads) commit for real and the tables are emptied after them.
"""

from __future__ import annotations

import contextvars
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from aiosmtpd.controller import Controller
from flask import g, request_started
from flask.testing import FlaskClient
from sqlalchemy import event

pytest_plugins = ("tests.factories",)  # the model factories: make_course, make_lesson, make_enrollment...

DEFAULT_DATABASE_URL = "postgresql://root@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "Password123!"
API = "/api/v1"
CLOSED_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there: an outage
CLOSED_DATABASE_URL = "postgresql://root@127.0.0.1:1/x"
Result = TypeVar("Result")


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


def pytest_configure(config):
    config.addinivalue_line("markers", "real_commits: the test commits for real (thread races)")
    config.addinivalue_line("markers", "postgres: needs PostgreSQL")
    config.addinivalue_line("markers", "redis: needs Redis")


def pytest_report_header(config):
    return [f"database: {'PostgreSQL' if USES_POSTGRES else 'SQLite'}; redis: {REDIS_URL or 'none (memory)'}"]


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and not USES_POSTGRES:
        pytest.skip("needs PostgreSQL")
    if item.get_closest_marker("redis") and not USES_REDIS:
        pytest.skip("needs Redis")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- backends for this run ---------------------------------------------------------------------

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
    """Claim a Redis database number no other concurrent run holds; flushed before and after."""
    control = redis.Redis.from_url(base_url)
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


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if USES_POSTGRES:
        with postgres_database(DATABASE_URL) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'lms.db'}"


@pytest.fixture(scope="session")
def redis_url():
    if USES_REDIS:
        with claimed_redis_database(REDIS_URL) as url:
            yield url
    else:
        yield ""


# --- mail sink -----------------------------------------------------------------------------------

class Outbox:
    """Messages received by the local SMTP sink."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


@pytest.fixture(scope="session")
def smtp_sink():
    outbox = Outbox()
    port = free_port()
    controller = Controller(outbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield outbox, port
    finally:
        controller.stop()


@pytest.fixture
def mail_outbox(smtp_sink) -> Outbox:
    outbox, _ = smtp_sink
    outbox.clear()
    return outbox


# --- the app -------------------------------------------------------------------------------------

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
        "LOG_LEVEL": "WARNING",
        "TESTING": True,
    }


@pytest.fixture(scope="session")
def base_settings(database_url, redis_url, smtp_sink, tmp_path_factory) -> dict:
    _, port = smtp_sink
    return settings_for_tests(database_url, redis_url, port, tmp_path_factory.mktemp("files"))


def build_app(settings: dict):
    """`create_app` for tests: every app built in the tests gives each request a fresh `g`."""
    from lms import create_app

    application = create_app(dict(settings))
    request_started.connect(_fresh_request_globals, application)
    return application


@contextmanager
def preserving_shared_extensions():
    """Put the shared extension objects back as they were on entry, once the block ends.

    Flask-Limiter, Talisman, flask-smorest's `Api` and the "lms" logger keep the configuration of the
    last app built on the (module-level) object itself; an app built inside the block leaves the
    shared `app` unaffected after it.
    """
    import logging

    from lms.extensions import api, limiter, talisman

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


@pytest.fixture(scope="session")
def app(base_settings):
    from lms.extensions import db

    application = build_app(base_settings)
    with application.app_context():
        if db.engine.dialect.name == "sqlite":
            _enable_sqlite_savepoints(db.engine)
        db.create_all()
    yield application


def _fresh_request_globals(_sender, **_extra) -> None:
    """Each test holds an app context open, so Flask lets the requests it makes share that context's
    `g` (the signed-in user of one request would leak into the next); production gives every request
    a fresh `g`, and so does this."""
    g.__dict__.clear()


def _enable_sqlite_savepoints(engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy issue BEGIN itself."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


def reset_shared_state(app) -> None:
    """Empty Redis (this run's database) and every per-process store between tests."""
    from lms.core.redis import redis_client
    from lms.extensions import cache, limiter

    app.extensions.pop("lms.state.memory", None)
    with app.app_context():
        client = redis_client(app)
        if client is not None:
            client.flushdb()
        cache.clear()
        if limiter.enabled:  # the shared app runs without rate limits
            limiter.reset()


@pytest.fixture(autouse=True)
def _database_scope(request, app):
    """A transaction per test, rolled back after it; `real_commits` tests commit and are cleaned."""
    from lms.extensions import SESSION_OPTIONS, db

    reset_shared_state(app)
    with app.app_context():
        if request.node.get_closest_marker("real_commits"):
            yield
            db.session.remove()
            _empty_all_tables()
            return
        connection = db.engine.connect()
        outer = connection.begin()
        engines = db.engines
        original_engine, original_session = engines[None], db.session
        engines[None] = connection
        db.session = db._make_scoped_session({**SESSION_OPTIONS, "join_transaction_mode": "create_savepoint"})
        try:
            yield
        finally:
            db.session.remove()
            db.session = original_session
            engines[None] = original_engine
            outer.rollback()
            connection.close()


def _empty_all_tables() -> None:
    from lms.extensions import db

    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " CASCADE")
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


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


@pytest.fixture
def make_app(base_settings):
    """`make_app(**settings)` -> a separate app: the test settings with these overrides.

    For configurations the shared `app` does not have (rate limits on, Redis at a closed port...).
    Its requests use its own engine, outside the test's transaction. The shared extension objects
    keep its configuration until the test ends (see `preserving_shared_extensions`).
    """
    built = []

    def factory(**overrides):
        application = build_app({**base_settings, **overrides})
        built.append(application)
        return application

    with preserving_shared_extensions():
        try:
            yield factory
        finally:
            for application in built:
                dispose_engine(application)


# --- users and tokens ----------------------------------------------------------------------------

@pytest.fixture
def make_user(app):
    """Create a user: `make_user(role="instructor", email=..., password=..., verified=True, active=True)`."""
    from lms.core.db import utcnow
    from lms.core.security import hash_password
    from lms.extensions import db
    from lms.users.models import User

    def factory(role: str = "student", *, email: str | None = None, password: str = PASSWORD,
                full_name: str | None = None, verified: bool = True, active: bool = True,
                mfa_enabled: bool = False) -> User:
        user = User(
            email=(email or f"{role}-{uuid.uuid4().hex[:10]}@example.com").lower(),
            full_name=full_name or f"Test {role.title()}",
            role=role,
            password_hash=hash_password(password),
            is_active=active,
            mfa_enabled=mfa_enabled,
            email_verified_at=utcnow() if verified else None,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return factory


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that carries this token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_headers(app):
    """`auth_headers(user)` -> an Authorization header with a fresh access token for that user."""
    from lms.core.auth import issue_access_token

    def headers(user) -> dict[str, str]:
        token, _ = issue_access_token(user)
        return bearer(token)

    return headers


@pytest.fixture
def login(client):
    """`login(user_or_email, password=PASSWORD)` -> the `tokens` object of a successful JSON login."""

    def do_login(user, password: str = PASSWORD) -> dict:
        email = user if isinstance(user, str) else user.email
        response = client.post(f"{API}/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["tokens"]

    return do_login


@pytest.fixture
def student(make_user):
    return make_user("student", full_name="Stu Dent")


@pytest.fixture
def instructor(make_user):
    return make_user("instructor", full_name="Ines Tructor")


@pytest.fixture
def admin(make_user):
    return make_user("admin", full_name="Ada Min")


@pytest.fixture
def other_instructor(make_user):
    return make_user("instructor", full_name="Otto Ther")


@pytest.fixture
def other_student(make_user):
    return make_user("student", full_name="Olga Ther")


# --- SQL statement counting ----------------------------------------------------------------------

class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as counter: ...` then `counter.count` SQL statements were run."""
    from lms.extensions import db

    @contextmanager
    def counting():
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture
def assert_max_queries(count_queries):
    """`with assert_max_queries(n): ...` fails when the block runs more than n SQL statements."""

    @contextmanager
    def bounded(limit: int):
        with count_queries() as counter:
            yield counter
        assert counter.count <= limit, (
            f"{counter.count} SQL statements (at most {limit} allowed):\n" + "\n".join(counter.statements))

    return bounded


@pytest.fixture
def completions() -> list:
    """The ids of the enrollments announced as completed (`enrollment.completed`) during the test."""
    from lms.core import events

    announced: list[uuid.UUID] = []

    def record(_sender, enrollment, **_payload) -> None:
        announced.append(enrollment.id)

    with events.signal(events.ENROLLMENT_COMPLETED).connected_to(record):
        yield announced


@pytest.fixture
def tmp_dir():
    with tempfile.TemporaryDirectory() as path:
        yield Path(path)


# --- S3 storage: moto's server on loopback -------------------------------------------------------

S3_BUCKET = "lms-test-files"


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 API over HTTP on loopback for the whole run: moto's server, not a mock of boto3."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_settings(base_settings, s3_endpoint) -> dict:
    """The test settings with `FILE_STORAGE_PROVIDER=s3` pointing at moto; the bucket exists."""
    import boto3

    settings = {**base_settings, "FILE_STORAGE_PROVIDER": "s3", "AWS_S3_BUCKET": S3_BUCKET,
                "AWS_S3_ENDPOINT_URL": s3_endpoint, "AWS_S3_PATH_STYLE": True, "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=S3_BUCKET)
    return settings


@pytest.fixture(scope="session")
def s3_application(app, s3_settings):
    """One app with S3 storage for the run, built once (see `s3_app`); the shared `app` is unaffected."""
    with preserving_shared_extensions():
        application = build_app(s3_settings)
    yield application
    dispose_engine(application)


@contextmanager
def on_test_connection(application):
    """Run another app's requests on the shared app's test connection, inside the test's transaction."""
    from lms.extensions import db

    connection = db.engines[None]  # the shared app's context is active (`_database_scope`)
    with application.app_context():
        engines = db.engines
    original = engines[None]
    engines[None] = connection
    try:
        yield application
    finally:
        engines[None] = original


@pytest.fixture
def s3_app(s3_application):
    """The S3 app for one test, its requests inside the test's transaction."""
    with on_test_connection(s3_application) as application:
        yield application
