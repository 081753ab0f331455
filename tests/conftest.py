"""The root of the test suite: the fixture plugins, the markers, and the backends in the report header.

Fixtures live in modules by concern (tests/fixtures/*.py) and the model factories in tests/factories.py;
plain helpers and constants that tests import are in tests/helpers.py (and tests/<package>/helpers.py).
Backends: PostgreSQL and Redis when they answer, SQLite and memory otherwise (see tests/helpers.py).
Each test runs in a transaction rolled back after it; tests marked `real_commits` (races between
threads) commit for real and the tables are emptied after them (tests/fixtures/app.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

# The helpers modules get pytest's assertion messages, as the conftests they came from did.
pytest.register_assert_rewrite("tests.helpers", *sorted(f"tests.{path.parent.name}.helpers"
                                                         for path in Path(__file__).parent.glob("*/helpers.py")))

from tests.helpers import REDIS_URL, USES_POSTGRES, USES_REDIS  # noqa: E402  (after the rewrite registration)

pytest_plugins = (
    "tests.fixtures.backends",  # database_url, redis_url: this run's own database and Redis database
    "tests.fixtures.mail",  # smtp_sink, mail_outbox
    "tests.fixtures.app",  # base_settings, app, make_app, client, the autouse _database_scope
    "tests.fixtures.users",  # student, instructor, admin, other_*, auth_headers, login
    "tests.factories",  # the model factories: make_user, make_course, make_lesson, make_enrollment...
    "tests.fixtures.queries",  # count_queries, assert_max_queries
    "tests.fixtures.storage",  # tmp_dir, s3_endpoint, s3_settings, s3_application, s3_app
    "tests.fixtures.events",  # completions
)


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
