"""Command-line tools: `flask create-admin`."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from lms.core.db import utcnow
from lms.core.security import PASSWORD_MIN_LENGTH, hash_password, password_too_long
from lms.extensions import db


@click.command("create-admin")
@click.option("--email", prompt=True, help="The admin's e-mail address.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters, at most 72 bytes.")
@click.option("--full-name", prompt=True, help="The admin's full name.")
def create_admin(email: str, password: str, full_name: str) -> None:
    """Create an administrator (the only way to make one, contract §5.10)."""
    from email_validator import EmailNotValidError, validate_email

    from lms.users.models import User

    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise click.ClickException(f"Invalid e-mail address: {exc}") from exc
    if len(password) < PASSWORD_MIN_LENGTH or password_too_long(password):
        raise click.ClickException("Password must be 8 to 72 bytes long")
    if not 2 <= len(full_name.strip()) <= 255:
        raise click.ClickException("Full name must be 2 to 255 characters")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise click.ClickException(f"A user with e-mail {email} already exists")
    now = utcnow()
    admin = User(email=email, full_name=full_name.strip(), role="admin", password_hash=hash_password(password),
                 is_active=True, email_verified_at=now)
    db.session.add(admin)
    db.session.commit()
    click.echo(f"Admin {email} created (id {admin.id}).")


def register(app: Flask) -> None:
    app.cli.add_command(create_admin)
