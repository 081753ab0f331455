"""`flask db upgrade` builds the models' exact schema from an empty database; downgrade undoes it."""

from __future__ import annotations

from contextlib import contextmanager

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import current_app
from sqlalchemy import inspect

from lms.cli import register
from lms.core.extensions import db
from tests.helpers import DATABASE_URL, postgres_database


def differences_from_the_models() -> list:
    """What `flask db check` would report: the models' metadata against the migrated database."""
    options = dict(current_app.extensions["migrate"].configure_args)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, db.metadata)


@contextmanager
def empty_database(make_app, tmp_path, backend: str):
    if backend == "postgresql":
        if not DATABASE_URL:
            pytest.skip("needs PostgreSQL")
        with postgres_database(DATABASE_URL) as url:
            application = make_app(DATABASE_URL=url)
            register(application)
            with application.app_context():
                try:
                    yield
                finally:
                    db.engine.dispose()
    else:
        application = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'migrated.db'}")
        register(application)
        with application.app_context():
            yield


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(make_app, tmp_path, backend):
    with empty_database(make_app, tmp_path, backend):
        assert inspect(db.engine).get_table_names() == []

        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) | {"alembic_version"} == tables
        assert differences_from_the_models() == []

        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
