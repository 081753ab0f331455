"""bcrypt passwords with the 72-byte rule (§5.17), and the seed's roles and permissions."""

import pytest

from lms.core.permissions import ROLE_PERMISSIONS, Permission, Role, has_permission
from lms.core.security import hash_password, password_too_long, verify_password


def test_a_hash_verifies_its_password_only(app):
    hashed = hash_password("correct horse")
    assert hashed.startswith("$2b$04$")  # bcrypt with the test cost
    assert verify_password("correct horse", hashed)
    assert not verify_password("correct horsE", hashed)


def test_the_cost_comes_from_the_configuration(app, monkeypatch):
    monkeypatch.setitem(app.config, "BCRYPT_ROUNDS", 5)
    assert hash_password("p4ssword").startswith("$2b$05$")


def test_the_same_password_hashes_differently_each_time(app):
    assert hash_password("p4ssword") != hash_password("p4ssword")


def test_72_bytes_is_the_limit_counted_in_utf8():
    assert not password_too_long("a" * 72)
    assert password_too_long("a" * 73)
    assert password_too_long("é" * 37)  # 74 bytes in 37 characters


def test_an_over_long_password_is_refused_not_truncated(app):
    with pytest.raises(ValueError, match="72 bytes"):
        hash_password("a" * 73)


def test_an_over_long_password_never_verifies(app):
    hashed = hash_password("a" * 72)
    assert not verify_password("a" * 72 + "b", hashed)


def test_a_missing_hash_never_verifies(app):
    assert not verify_password("anything", None)


def test_the_role_permission_table_is_the_seeds():
    assert ROLE_PERMISSIONS[Role.ADMIN] == set(Permission)
    assert ROLE_PERMISSIONS[Role.INSTRUCTOR] == {Permission.CREATE_COURSE, Permission.UPDATE_COURSE,
                                                 Permission.VIEW_ANALYTICS, Permission.MANAGE_QUIZZES}
    assert ROLE_PERMISSIONS[Role.STUDENT] == set()


@pytest.mark.parametrize("role, permission, expected", [
    ("admin", Permission.MANAGE_USERS, True),
    ("instructor", Permission.DELETE_COURSE, False),
    ("instructor", Permission.MANAGE_QUIZZES, True),
    (Role.STUDENT, Permission.CREATE_COURSE, False),
    ("superuser", Permission.CREATE_COURSE, False),
])
def test_has_permission(role, permission, expected):
    assert has_permission(role, permission) is expected
