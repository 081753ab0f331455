"""The test harness itself: isolation between tests and statement counting."""

import pytest
from sqlalchemy import func, select

from lms.core.extensions import db
from lms.users.models import User


def test_users_created_in_a_test_exist_within_it(make_user):
    make_user("student", email="first@example.com")
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_each_test_starts_with_an_empty_database():
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_request_sees_the_test_transaction(client, student, auth_headers):
    response = client.get("/api/v1/health", headers=auth_headers(student))
    assert response.status_code == 200


def test_statement_counter_counts_statements(count_queries, make_user):
    make_user()
    with count_queries() as counter:
        db.session.scalars(select(User)).all()
        db.session.scalars(select(User)).all()
    assert counter.count == 2


def test_assert_max_queries_fails_over_the_bound(assert_max_queries):
    with pytest.raises(AssertionError, match="3 SQL statements"):
        with assert_max_queries(2):
            for _ in range(3):
                db.session.scalars(select(User)).all()


@pytest.mark.real_commits
def test_real_commits_are_visible_to_other_connections(make_user):
    user = make_user()
    with db.engine.connect() as other:
        assert other.execute(select(User.email).where(User.id == user.id)).scalar() == user.email


def test_real_commit_tests_leave_no_rows_behind():
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
