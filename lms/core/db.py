"""Declarative base, column types and mixins shared by every model."""

from __future__ import annotations

import functools
import hashlib
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

import flask_sqlalchemy.session
from flask_sqlalchemy import SQLAlchemy
from flask import Flask, current_app, has_request_context, request
from sqlalchemy import (DateTime, Engine, Insert, MetaData, TypeDecorator, Update, Uuid, bindparam, create_engine,
                        event, exc, insert, update)
from sqlalchemy import inspect as inspect_object
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, registry
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.session import make_transient_to_detached
from sqlalchemy.sql import Executable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    """SQLite ignores foreign keys, and so ON DELETE CASCADE / SET NULL, unless each connection asks."""
    sqlite3 = sys.modules.get("sqlite3")  # not imported: no SQLite connection (a PostgreSQL process never loads it)
    if sqlite3 is not None and isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_ENGINE = "lms.read_engine"


def add_read_engine(app: Flask, engine: Engine) -> None:
    """A second pool on the same PostgreSQL database whose connections stay in autocommit mode,
    for the statements of read requests (see `Session`). Its own pool, so that no connection ever
    switches modes (psycopg2 would send a `SET` each time it switches back)."""
    if engine.dialect.name != "postgresql":
        return  # SQLite has no round trips to save
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    app.extensions[_READ_ENGINE] = create_engine(engine.url, isolation_level="AUTOCOMMIT", **options)


_AFTER_COMMIT = "lms.after_commit"


def after_commit(call: Callable[[], None]) -> None:
    """Run `call()` once the session's current transaction is committed by `commit`; a rollback
    drops it. For effects that must not happen for a change that did not happen."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(call)


def commit() -> None:
    """Commit the request's session, then run what `after_commit` queued for this transaction."""
    session = db.session
    session.commit()
    for call in session.info.pop(_AFTER_COMMIT, []):
        call()


def engines_of(app: Flask) -> list[Engine]:
    """Every engine of the app: Flask-SQLAlchemy's, and the read pool when there is one."""
    with app.app_context():
        engines = list(db.engines.values())
    read_engine = app.extensions.get(_READ_ENGINE)
    return engines + ([read_engine] if read_engine is not None else [])


class Session(flask_sqlalchemy.session.Session):
    """The session of every request. A read (GET, HEAD) runs its statements on the autocommit
    pool: no BEGIN and no ROLLBACK around them, two round trips fewer per request. Writes run in
    one transaction as before. A read that writes anyway (a lazily stored file key) commits each
    statement on its own, so such a write must be a single statement.

    A bind that is already a connection (the test harness's transaction) is used as it is.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, in_transaction=False, **kwargs):
        target = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if (isinstance(target, Engine) and not in_transaction and has_request_context()
                and request.method in READ_ONLY_METHODS):
            return current_app.extensions.get(_READ_ENGINE, target)
        return target


def stream_rows(stmt, batch_size: int):
    """The result of `stmt` fetched `batch_size` rows at a time from a server-side cursor, so that
    memory stays flat whatever the number of rows (iterate it, or its `.partitions()`). A
    server-side cursor lives in a transaction: this runs on the main pool even in a read request
    (the read pool's connections are in autocommit mode)."""
    return db.session.execute(stmt, execution_options={"yield_per": batch_size},
                              bind_arguments={"in_transaction": True})


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit_calls(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_AFTER_COMMIT, None)


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle for `idle_seconds`.

    A connection that fails the check is replaced (the pool retries the checkout). A connection
    that breaks while in use raises a disconnect error, which makes SQLAlchemy invalidate every
    pooled connection opened before it, so that after a database restart at most the requests
    in flight fail and the next ones connect afresh (contract §5.28).
    """

    @event.listens_for(engine, "checkin")
    def _remember_checkin(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            if not engine.dialect.do_ping(dbapi_connection):
                raise exc.DisconnectionError("ping failed")
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(str(error)) from error


# --- prepared statements ------------------------------------------------------------------------
# psycopg2 sends each statement as text with its values written in, so PostgreSQL parses and plans
# it on every execution; for the joins of the hot paths that costs several times running them
# (the enrollment lock of a progress write: ≈ 0.3 ms of PostgreSQL's CPU as text, ≈ 0.04 ms by name).

_PREPARED = "lms_prepared"
_FEATURE_NOT_SUPPORTED = "0A000"  # the SQLSTATE of a prepared plan whose result changed shape
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
StatementT = TypeVar("StatementT", bound=Executable)


def prepared(statement: StatementT) -> StatementT:
    """`statement`, to be prepared by PostgreSQL once per connection and then run by name (with
    `DB_PREPARED_STATEMENTS`; elsewhere it runs as usual). For statements built once that run on
    every request of a hot path: each distinct SQL text stays prepared for the connection's life,
    so not for a list of values in an IN (each length is another text). PostgreSQL infers each
    parameter's type from where it stands: compared with a column or written into one is enough,
    a bare `:a * :b` needs a cast (the suite runs every prepared statement, so it would fail there)."""
    return statement.execution_options(**{_PREPARED: True})


@functools.lru_cache(maxsize=256)
def _as_prepared(sql: str) -> tuple[str, str, str]:
    """(name, its PREPARE command, its EXECUTE command) for a psycopg2 `%(name)s` statement."""
    names: list[str] = []

    def numbered(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    name = "lms_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest()
    # Sent without parameters, so psycopg2 does not turn `%%` back into `%`: this does.
    body = _PLACEHOLDER.sub(numbered, sql).replace("%%", "%")
    values = ", ".join(f"%({key})s" for key in names)
    return name, f"PREPARE {name} AS {body}", f"EXECUTE {name} ({values})" if names else f"EXECUTE {name}"


def run_prepared_statements_by_name(engine: Engine) -> None:
    """Run each `prepared` statement on a PostgreSQL `engine` as `EXECUTE name (values)`, preparing
    it on the connection first when it is new to it. Prepared statements outlive a rollback and
    go with their connection, and the names a connection holds are kept with it (`info`, which
    SQLAlchemy empties when it replaces the connection; a statement whose result a migration
    changed is prepared again, after one failed execution per connection). A dialect event, not an engine one: an
    engine listener would make SQLAlchemy dispatch its execution events on every statement."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "do_execute")
    def _execute_by_name(cursor, statement, parameters, context) -> bool:
        if not context.execution_options.get(_PREPARED):
            return False  # SQLAlchemy executes it as usual
        name, prepare, execute = _as_prepared(statement)
        info = context.root_connection.connection.info
        held = info.get(_PREPARED)
        if held is None:
            held = info[_PREPARED] = {}
        if name not in held:
            cursor.execute(prepare)
            held[name] = True
        elif not held[name]:  # its result changed shape: prepared again
            cursor.execute(f"DEALLOCATE {name}")
            cursor.execute(prepare)
            held[name] = True
        try:
            cursor.execute(execute, parameters)
        except engine.dialect.loaded_dbapi.Error as error:
            # A migration that changes the type of a column the statement returns makes PostgreSQL
            # refuse the prepared plan ("cached plan must not change result type"): this execution
            # fails, the next one on this connection prepares it again.
            if getattr(error, "pgcode", None) == _FEATURE_NOT_SUPPORTED:
                held[name] = False
            raise
        return True


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- writing an object at once, without the unit of work ------------------------------------------
# For the hot write paths: the flush at commit finds what changed, orders it and builds its
# statements on every request, which costs more CPU than the statements themselves. These write
# one object with one prebuilt Core statement, now, and leave it in the session as the unit of
# work leaves a flushed object (persistent, its values the stored ones, nothing pending), so that
# events, responses and later changes through the ORM see and flush it as usual.

def insert_object(obj: Any) -> None:
    """INSERT the new object `obj` now, then add it to the session as a persistent object.

    The columns set on `obj` are written; a column left unset is stored NULL, as the ORM stores it.
    No default is applied: a column that has one must be set (ValueError), so that the object
    holds every stored value. Unlike an object the flush inserted, it stays in the session when the
    transaction rolls back (expired: reading it then raises), so do not use it after a rollback.
    """
    state = inspect_object(obj)
    values = state.dict
    columns = _insert_columns(state.mapper)
    missing = [key for key, has_default in columns if has_default and key not in values]
    if missing:
        raise ValueError(f"insert_object: set {', '.join(missing)} (they have defaults)")
    written = tuple(key for key, _ in columns if key in values)
    session = db.session()
    session.execute(_insert_statement(state.mapper, written), {key: values[key] for key in written})
    for key, _ in columns:
        values.setdefault(key, None)  # what loading the row would give; transient, so no history to keep
    make_transient_to_detached(obj)
    session.add(obj)


def update_object(obj: Any, values: dict[str, Any]) -> None:
    """UPDATE `obj`'s row (by its `id`, `UUIDPrimaryKey`) with `values` now, `updated_at` too when
    the model has one (as its `onupdate` would), and record them on `obj` as its stored values."""
    mapper = inspect_object(obj).mapper
    if "updated_at" in mapper.columns:
        values = {**values, "updated_at": utcnow()}
    result = db.session.execute(_update_statement(mapper, tuple(values)), {**values, "_primary_key": obj.id})
    if result.rowcount != 1:  # as the unit of work's flush reports a row that is gone
        raise StaleDataError(f"UPDATE of {mapper.class_.__name__} {obj.id} matched {result.rowcount} rows")
    set_stored_values(obj, values)


def set_stored_values(obj: Any, values: dict[str, Any]) -> None:
    """Record `values` on the persistent `obj` as written to its row: no pending change for them."""
    for key, value in values.items():
        set_committed_value(obj, key, value)


@functools.cache
def _insert_columns(mapper: Mapper) -> tuple[tuple[str, bool], ...]:
    """(attribute, whether its column has a default) for each column of the mapped table."""
    return tuple((key, column.default is not None or column.server_default is not None)
                 for key, column in mapper.columns.items() if column.table is mapper.local_table)


@functools.cache
def _insert_statement(mapper: Mapper, keys: tuple[str, ...]) -> Insert:
    return prepared(insert(mapper.local_table).values({mapper.columns[key]: bindparam(key) for key in keys}))


@functools.cache
def _update_statement(mapper: Mapper, keys: tuple[str, ...]) -> Update:
    """Built once per model and set of columns (a statement object caches its own cache key)."""
    (primary_key,) = mapper.primary_key
    return prepared(update(mapper.local_table).where(primary_key == bindparam("_primary_key"))
                    .values({mapper.columns[key]: bindparam(key) for key in keys}))


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use lms.core.db.utcnow()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={datetime: UTCDateTime(), uuid.UUID: Uuid()})


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Indexed for the lists' `updated_since` and GET /changes (incremental sync).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


def escape_like(text: str) -> str:
    """`text` for a LIKE pattern with escape character `\\`: `%`, `_` and `\\` match literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_text(column, text: str):
    """Case-insensitive substring search of `text` in `column`, wildcards taken literally."""
    return column.ilike(f"%{escape_like(text)}%", escape="\\")


# Objects stay loaded after a commit: a request commits, then serialises what it wrote; expiring
# them would reload every one of them in a second transaction.
SESSION_OPTIONS = {"class_": Session, "expire_on_commit": False}
db = SQLAlchemy(model_class=Base, session_options=SESSION_OPTIONS)
