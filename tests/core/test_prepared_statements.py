"""`prepared` statements: PostgreSQL prepares each once per connection, and runs it by name after."""

from __future__ import annotations

import pytest
from sqlalchemy import (Column, Integer, MetaData, String, Table, bindparam, cast, create_engine, exc, literal_column,
                        select, text)

from config import normalize_database_url
from lms.core.db import prepared, run_prepared_statements_by_name
from lms.core.extensions import db

pytestmark = pytest.mark.postgres

# PostgreSQL infers a prepared statement's parameter types from where they stand: a bare `$1 * $2`
# would be ambiguous, a column or a cast decides it (the app's statements compare columns).
DOUBLED = prepared(select(cast(bindparam("n"), Integer) * 2))


@pytest.fixture
def engine(database_url):
    engine = create_engine(normalize_database_url(database_url), pool_size=1, max_overflow=0)
    run_prepared_statements_by_name(engine)
    yield engine
    engine.dispose()


def prepared_on(connection) -> list[str]:
    return list(connection.scalars(text("SELECT statement FROM pg_prepared_statements")))


def test_a_prepared_statement_is_prepared_once_and_then_run_by_name(engine):
    with engine.connect() as connection:
        answers = [connection.scalar(DOUBLED, {"n": n}) for n in (1, 2, 3)]
        statements = prepared_on(connection)

    assert answers == [2, 4, 6]
    assert len(statements) == 1
    assert statements[0].startswith("PREPARE lms_")


def test_other_statements_are_not_prepared(engine):
    with engine.connect() as connection:
        assert connection.scalar(select(cast(bindparam("n"), Integer) * 2), {"n": 4}) == 8
        assert prepared_on(connection) == []


def test_a_rollback_keeps_what_the_connection_prepared(engine):
    with engine.connect() as connection:
        assert connection.scalar(DOUBLED, {"n": 5}) == 10
        connection.rollback()
        assert connection.scalar(DOUBLED, {"n": 6}) == 12
        assert len(prepared_on(connection)) == 1


def test_a_replaced_connection_prepares_again(engine):
    with engine.connect() as connection:
        assert connection.scalar(DOUBLED, {"n": 7}) == 14
        connection.invalidate()
    with engine.connect() as connection:
        assert connection.scalar(DOUBLED, {"n": 8}) == 16


def test_a_literal_percent_sign_survives_preparing(engine):
    with engine.connect() as connection:
        percent = literal_column("'50%'", String) + cast(bindparam("suffix"), String)
        assert connection.scalar(prepared(select(percent)), {"suffix": " off"}) == "50% off"


def test_the_app_prepares_its_statements_only_when_configured(make_app, database_url):
    off = make_app(DB_PREPARED_STATEMENTS=False, DATABASE_URL=database_url)
    with off.app_context():
        with db.engine.connect() as connection:
            assert connection.scalar(DOUBLED, {"n": 2}) == 4
            assert prepared_on(connection) == []


def test_a_statement_whose_result_a_migration_changed_is_prepared_again(engine):
    """PostgreSQL refuses a prepared plan whose result columns changed type: that execution fails,
    the next one prepares the statement anew."""
    table = Table("prepared_probe", MetaData(), Column("id", Integer, primary_key=True), Column("amount", Integer))
    statement = prepared(select(table.c.amount).where(table.c.id == bindparam("id")))
    with engine.connect() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE prepared_probe (id integer PRIMARY KEY, amount integer)"))
        connection.execute(text("INSERT INTO prepared_probe VALUES (1, 10)"))
        connection.commit()
        assert connection.scalar(statement, {"id": 1}) == 10

        connection.execute(text("ALTER TABLE prepared_probe ALTER COLUMN amount TYPE bigint"))
        connection.commit()
        with pytest.raises(exc.NotSupportedError):
            connection.scalar(statement, {"id": 1})
        connection.rollback()

        assert connection.scalar(statement, {"id": 1}) == 10
