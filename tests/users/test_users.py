"""/users: the caller's account and admin user management (§4.1 as changed by §5.10, §5.11)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.users.models import User
from tests.helpers import API, PASSWORD, bearer, run_concurrently

NEW_USER = {"email": "Made.By@Admin.com", "password": "Password123!", "full_name": "Made By Admin"}
ADMIN_ROLES = {"detail": "Admin roles are managed with the CLI"}


@pytest.fixture
def as_admin(admin, auth_headers):
    return auth_headers(admin)


# --- /users/me ----------------------------------------------------------------------------------------

def test_users_me_returns_the_caller(client, student, auth_headers):
    response = client.get(f"{API}/users/me", headers=auth_headers(student))

    assert response.status_code == 200
    assert response.get_json() == client.get(f"{API}/auth/me", headers=auth_headers(student)).get_json()
    assert response.get_json()["email"] == student.email


def test_users_me_requires_authentication(client):
    response = client.get(f"{API}/users/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- who may manage users -----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["student", "instructor"])
def test_non_admins_cannot_use_the_user_management_endpoints(client, make_user, auth_headers, role):
    headers = auth_headers(make_user(role))
    target = make_user("student")

    responses = [
        client.get(f"{API}/users", headers=headers),
        client.post(f"{API}/users", json=NEW_USER, headers=headers),
        client.get(f"{API}/users/{target.id}", headers=headers),
        client.patch(f"{API}/users/{target.id}", json={"full_name": "Changed"}, headers=headers),
    ]

    for response in responses:
        assert response.status_code == 403
        assert response.get_json() == {"detail": "Insufficient permissions"}
    db.session.refresh(target)
    assert target.full_name == "Test Student"
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "made.by@admin.com")) == 0


def test_anonymous_callers_get_401_from_user_management(client, student):
    for response in (client.get(f"{API}/users"), client.get(f"{API}/users/{student.id}"),
                     client.post(f"{API}/users", json=NEW_USER),
                     client.patch(f"{API}/users/{student.id}", json={"full_name": "Changed"})):
        assert response.status_code == 401


# --- GET /users ---------------------------------------------------------------------------------------

def _users_created_in_order(make_user, count, role="student", **kwargs):
    users = [make_user(role, **kwargs) for _ in range(count)]
    start = utcnow() - timedelta(hours=1)
    for offset, user in enumerate(users):
        user.created_at = start + timedelta(minutes=offset)
    db.session.commit()
    return users


def test_list_users_pages_newest_first(client, admin, as_admin, make_user):
    students = _users_created_in_order(make_user, 3)
    admin.created_at = utcnow() - timedelta(days=1)
    db.session.commit()

    first = client.get(f"{API}/users?page=1&page_size=2", headers=as_admin)
    second = client.get(f"{API}/users?page=2&page_size=2", headers=as_admin)

    assert first.status_code == 200
    body = first.get_json()
    assert {key: body[key] for key in ("total", "page", "page_size", "total_pages")} == {
        "total": 4, "page": 1, "page_size": 2, "total_pages": 2}
    assert [u["id"] for u in body["items"]] == [str(students[2].id), str(students[1].id)]
    assert [u["id"] for u in second.get_json()["items"]] == [str(students[0].id), str(admin.id)]


def test_list_users_filters_by_role(client, as_admin, make_user):
    instructor = make_user("instructor")
    make_user("student")

    body = client.get(f"{API}/users?role=instructor", headers=as_admin).get_json()

    assert [u["id"] for u in body["items"]] == [str(instructor.id)]
    assert body["total"] == 1


def test_list_users_searches_email_and_name_case_insensitively(client, as_admin, make_user):
    by_name = make_user(full_name="Grace HOPPER")
    by_email = make_user(email="hopper.fan@example.com")
    make_user(full_name="Someone Else")

    body = client.get(f"{API}/users?search=hopper", headers=as_admin).get_json()

    assert {u["id"] for u in body["items"]} == {str(by_name.id), str(by_email.id)}


def test_an_empty_search_does_not_filter(client, as_admin, make_user):
    make_user()

    assert client.get(f"{API}/users?search=", headers=as_admin).get_json()["total"] == 2


def test_list_users_search_treats_wildcards_literally(client, as_admin, make_user):
    literal = make_user(full_name="Percent 100% Sure")
    make_user(full_name="Percent 1000 Sure")
    underscore = make_user(email="under_score@example.com")
    make_user(email="underxscore@example.com")

    percent = client.get(f"{API}/users", query_string={"search": "100%"}, headers=as_admin).get_json()
    underscored = client.get(f"{API}/users", query_string={"search": "under_"}, headers=as_admin).get_json()

    assert [u["id"] for u in percent["items"]] == [str(literal.id)]
    assert [u["id"] for u in underscored["items"]] == [str(underscore.id)]


@pytest.mark.parametrize("query, field", [("page=0", "page"), ("page_size=101", "page_size"),
                                          ("role=owner", "role")])
def test_list_users_with_bad_query_values_is_422(client, as_admin, query, field):
    response = client.get(f"{API}/users?{query}", headers=as_admin)

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["query", field]


@pytest.mark.parametrize("count", [3, 30])
def test_list_users_runs_a_fixed_number_of_statements(client, as_admin, make_user, assert_max_queries, count):
    for _ in range(count):
        make_user()

    with assert_max_queries(3):  # the caller, the count, the page
        response = client.get(f"{API}/users?page_size=100", headers=as_admin)

    assert len(response.get_json()["items"]) == count + 1


# --- POST /users --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["student", "instructor"])
def test_admin_creates_students_and_instructors_without_mail(client, as_admin, mail_outbox, role):
    response = client.post(f"{API}/users", json={**NEW_USER, "role": role}, headers=as_admin)

    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "made.by@admin.com" and body["role"] == role
    assert body["email_verified_at"] is not None
    assert mail_outbox.messages == []
    assert client.post(f"{API}/auth/login", json={"email": NEW_USER["email"],
                                                   "password": NEW_USER["password"]}).status_code == 200


def test_admin_created_users_are_unverified_when_verification_is_required(client, app, as_admin, monkeypatch):
    monkeypatch.setitem(app.config, "REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN", True)

    response = client.post(f"{API}/users", json=NEW_USER, headers=as_admin)

    assert response.get_json()["email_verified_at"] is None


def test_admin_cannot_create_an_admin(client, as_admin):
    response = client.post(f"{API}/users", json={**NEW_USER, "role": "admin"}, headers=as_admin)

    assert response.status_code == 403
    assert response.get_json() == ADMIN_ROLES
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "made.by@admin.com")) == 0


def test_creating_a_user_with_a_taken_email_is_409(client, as_admin, make_user):
    make_user(email="made.by@admin.com")

    response = client.post(f"{API}/users", json=NEW_USER, headers=as_admin)

    assert response.status_code == 409
    assert response.get_json() == {"detail": "Email is already registered"}


@pytest.mark.parametrize("body", [{**NEW_USER, "password": "short"}, {**NEW_USER, "email": "nope"},
                                  {**NEW_USER, "role": "owner"}, {**NEW_USER, "password": "é" * 37},
                                  {"email": "x@example.com"}])
def test_creating_a_user_with_invalid_data_is_422(client, as_admin, body):
    assert client.post(f"{API}/users", json=body, headers=as_admin).status_code == 422


# --- GET /users/{id} ----------------------------------------------------------------------------------

def test_admin_reads_a_user(client, as_admin, student):
    response = client.get(f"{API}/users/{student.id}", headers=as_admin)

    assert response.status_code == 200
    assert response.get_json()["id"] == str(student.id)
    assert "password_hash" not in response.get_json()


def test_reading_an_unknown_user_is_404_and_a_malformed_id_422(client, as_admin):
    missing = client.get(f"{API}/users/00000000-0000-4000-8000-000000000000", headers=as_admin)
    malformed = client.get(f"{API}/users/not-a-uuid", headers=as_admin)

    assert missing.status_code == 404
    assert missing.get_json() == {"detail": "User not found"}
    assert malformed.status_code == 422


# --- PATCH /users/{id} --------------------------------------------------------------------------------

def test_admin_changes_name_and_role(client, as_admin, student):
    response = client.patch(f"{API}/users/{student.id}", json={"full_name": "Renamed Person", "role": "instructor"},
                            headers=as_admin)

    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Renamed Person"
    assert response.get_json()["role"] == "instructor"


def test_null_values_are_ignored(client, as_admin, student):
    response = client.patch(f"{API}/users/{student.id}",
                            json={"full_name": None, "role": None, "password": None, "is_active": None},
                            headers=as_admin)

    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Stu Dent"
    assert response.get_json()["is_active"] is True


def test_a_password_change_ends_the_users_sessions(client, as_admin, student, login):
    tokens = login(student)

    response = client.patch(f"{API}/users/{student.id}", json={"password": "Chosen-by-admin1"}, headers=as_admin)

    assert response.status_code == 200
    assert client.get(f"{API}/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert login(student, "Chosen-by-admin1")["access_token"]


def test_deactivation_ends_the_users_sessions_and_blocks_login(client, as_admin, student, login):
    tokens = login(student)

    response = client.patch(f"{API}/users/{student.id}", json={"is_active": False}, headers=as_admin)

    assert response.status_code == 200
    assert response.get_json()["is_active"] is False
    assert client.get(f"{API}/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    refused = client.post(f"{API}/auth/login", json={"email": student.email, "password": PASSWORD})
    assert refused.get_json() == {"detail": "User account is disabled"}


def test_reactivation_lets_the_user_log_in_again(client, as_admin, make_user):
    user = make_user(active=False)

    response = client.patch(f"{API}/users/{user.id}", json={"is_active": True}, headers=as_admin)

    assert response.get_json()["is_active"] is True
    assert client.post(f"{API}/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200


def test_a_name_change_keeps_the_users_sessions(client, as_admin, student, login):
    tokens = login(student)

    client.patch(f"{API}/users/{student.id}", json={"full_name": "Still Logged In"}, headers=as_admin)

    assert client.get(f"{API}/auth/me", headers=bearer(tokens["access_token"])).status_code == 200


def test_nobody_becomes_admin_through_patch(client, as_admin, student):
    response = client.patch(f"{API}/users/{student.id}", json={"role": "admin"}, headers=as_admin)

    assert response.status_code == 403
    assert response.get_json() == ADMIN_ROLES
    db.session.refresh(student)
    assert student.role == "student"


def test_an_admins_role_cannot_be_changed_through_patch(client, as_admin, make_user):
    other_admin = make_user("admin")

    response = client.patch(f"{API}/users/{other_admin.id}", json={"role": "student"}, headers=as_admin)

    assert response.status_code == 403
    assert response.get_json() == ADMIN_ROLES


def test_the_last_active_admin_cannot_be_deactivated(client, admin, as_admin):
    response = client.patch(f"{API}/users/{admin.id}", json={"is_active": False}, headers=as_admin)

    assert response.status_code == 409
    assert response.get_json() == {"detail": "The last active admin cannot be deactivated"}
    db.session.refresh(admin)
    assert admin.is_active is True


def test_an_admin_may_be_deactivated_while_another_stays_active(client, as_admin, make_user):
    other_admin = make_user("admin")
    make_user("admin", active=False)

    response = client.patch(f"{API}/users/{other_admin.id}", json={"is_active": False}, headers=as_admin)

    assert response.status_code == 200


def test_patching_an_unknown_user_is_404(client, as_admin):
    response = client.patch(f"{API}/users/00000000-0000-4000-8000-000000000000", json={"full_name": "Nobody"},
                            headers=as_admin)

    assert response.status_code == 404
    assert response.get_json() == {"detail": "User not found"}


@pytest.mark.parametrize("body", [{"full_name": "A"}, {"role": "owner"}, {"password": "short"},
                                  {"password": "é" * 37}, {"is_active": "maybe"}, {"email": "new@example.com"}])
def test_patching_with_invalid_data_is_422(client, as_admin, student, body):
    assert client.patch(f"{API}/users/{student.id}", json=body, headers=as_admin).status_code == 422


@pytest.mark.real_commits
@pytest.mark.postgres
def test_two_admins_deactivating_each_other_at_once_leave_one_active(app, make_user, auth_headers):
    first, second = make_user("admin"), make_user("admin")
    first_headers, second_headers = auth_headers(first), auth_headers(second)
    first_url, second_url = f"{API}/users/{first.id}", f"{API}/users/{second.id}"

    def deactivate(url: str, headers: dict, client) -> int:
        return client.patch(url, json={"is_active": False}, headers=headers).status_code

    statuses = run_concurrently(app, [partial(deactivate, second_url, first_headers),
                                      partial(deactivate, first_url, second_headers)])

    active = db.session.scalar(select(func.count()).select_from(User).where(User.is_active.is_(True)))
    assert active == 1
    assert sorted(statuses) in ([200, 401], [200, 409])
