"""The `flask` command line: `flask db …` (Flask-Migrate) and `flask create-admin`.

`.flaskenv` points `flask` at `create_cli_app`; the web and worker processes build the app without
these commands, so they never import Alembic.
"""

from __future__ import annotations

from pathlib import Path

import click
import marshmallow as ma
from flask import Flask
from flask_migrate import Migrate

from lms import create_app
from lms.core import events
from lms.core.db import db, utcnow
from lms.core.errors import Conflict
from lms.demo import seed_demo
from lms.users.schemas import UserCreateSchema
from lms.users.service import new_user

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"
migrate = Migrate()


@click.command("create-admin")
@click.option("--email", prompt=True, help="The admin's e-mail address.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters, at most 72 bytes.")
@click.option("--full-name", prompt=True, help="The admin's full name.")
def create_admin(email: str, password: str, full_name: str) -> None:
    """Create an administrator (the only way to make one, contract §5.10).

    The account rules are those of any account (`UserCreateSchema`, `new_user`); an admin made
    here is verified at once.
    """
    try:
        account = UserCreateSchema().load(
            {"email": email, "password": password, "full_name": full_name, "role": "admin"})
    except ma.ValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.messages.items())
        raise click.ClickException(f"Invalid admin account: {problems}") from exc
    try:
        admin = new_user(**account)
    except Conflict as exc:
        raise click.ClickException(f"A user with e-mail {account['email']} already exists") from exc
    admin.email_verified_at = admin.email_verified_at or utcnow()
    events.emit(events.USER_CREATED, user=admin)
    db.session.commit()
    click.echo(f"Admin {admin.email} created (id {admin.id}).")


def register(app: Flask) -> None:
    """Add the commands to an app built by `create_app`."""
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIRECTORY))
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo)


def create_cli_app() -> Flask:
    """The app the `flask` command runs (FLASK_APP in `.flaskenv`)."""
    app = create_app()
    register(app)
    return app
