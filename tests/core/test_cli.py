"""`flask create-admin`: the only way to make an admin (contract §5.10)."""

import pytest
from sqlalchemy import func, select

from lms.cli import register
from lms.core.auth import authenticate, issue_access_token
from lms.core.security import verify_password
from lms.core.extensions import db
from lms.users.models import User

PASSWORD = "Sup3r-secret!"


@pytest.fixture
def cli(app):
    register(app)
    runner = app.test_cli_runner()

    def invoke(*args, input=None):
        return runner.invoke(args=["create-admin", *args], input=input)

    return invoke


def admins() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "admin")))


def test_create_admin_creates_a_verified_active_admin(cli):
    result = cli("--email", "Root@Example.com", "--password", PASSWORD, "--full-name", "Root Admin")
    assert result.exit_code == 0, result.output
    assert "Admin root@example.com created" in result.output
    [admin] = admins()
    assert admin.email == "root@example.com"
    assert admin.full_name == "Root Admin"
    assert admin.is_active and admin.email_verified_at is not None
    assert admin.password_hash != PASSWORD and verify_password(PASSWORD, admin.password_hash)


def test_the_created_admin_can_authenticate_with_a_token(app, cli):
    cli("--email", "root@example.com", "--password", PASSWORD, "--full-name", "Root Admin")
    [admin] = admins()
    token, _ = issue_access_token(admin)
    with app.test_request_context(headers={"Authorization": f"Bearer {token}"}):
        assert authenticate().id == admin.id


def test_create_admin_prompts_for_what_is_missing(cli):
    result = cli(input=f"prompted@example.com\n{PASSWORD}\n{PASSWORD}\nPrompted Admin\n")
    assert result.exit_code == 0, result.output
    [admin] = admins()
    assert (admin.email, admin.full_name) == ("prompted@example.com", "Prompted Admin")
    assert PASSWORD not in result.output  # the password prompt hides its input


def test_create_admin_refuses_a_duplicate_email_with_exit_code_1(cli, make_user):
    make_user("student", email="taken@example.com")
    result = cli("--email", "TAKEN@example.com", "--password", PASSWORD, "--full-name", "Someone Else")
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert admins() == []


def test_create_admin_refuses_a_second_admin_with_the_same_email(cli):
    args = ("--email", "root@example.com", "--password", PASSWORD, "--full-name", "Root Admin")
    assert cli(*args).exit_code == 0
    second = cli(*args)
    assert second.exit_code == 1
    assert "already exists" in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("args, message", [
    (("--email", "not-an-email", "--password", PASSWORD, "--full-name", "Root"),
     "email: value is not a valid email address"),
    (("--email", "a@example.com", "--password", "short", "--full-name", "Root"),
     "password: Shorter than minimum length 8."),
    (("--email", "a@example.com", "--password", "é" * 40, "--full-name", "Root"),
     "password: Password must be at most 72 bytes in UTF-8"),
    (("--email", "a@example.com", "--password", PASSWORD, "--full-name", " "), "full_name: Length must be"),
])
def test_create_admin_refuses_bad_input_with_exit_code_1(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 1
    assert message in result.output
    assert admins() == []
