"""Authentication comes before validation (contract §5.31): a request to a protected operation
without a valid token is a 401 with `WWW-Authenticate: Bearer`, whatever its path, query and body.

The operations are read from the URL map, so a new protected route is covered without a new test.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from tests.helpers import API

METHODS_WITH_BODIES = {"POST", "PUT", "PATCH"}
BAD_TOKENS = {"no token": {}, "a forged token": {"Authorization": "Bearer not.a.token"},
              "another scheme": {"Authorization": "Basic dXNlcjpwYXNz"}}


def _handler(app, rule: Rule, method: str):
    view = app.view_functions[rule.endpoint]
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method.lower(), None) if view_class is not None else view


def protected_operations(app) -> list[tuple[str, str]]:
    """(rule, method) of every API operation whose view needs a token."""
    operations = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if getattr(_handler(app, rule, method), "requires_token", False):
                operations.append((rule.rule, method))
    return operations


def invalid_url(rule: str) -> str:
    """The rule with every path parameter malformed and an invalid query."""
    path = "/".join("not-a-uuid" if part.startswith("<") else part for part in rule.split("/"))
    return f"{path}?page=0&page_size=huge&limit=-1&skip=x&mine=perhaps"


def test_every_protected_operation_is_found(app):
    operations = protected_operations(app)
    assert (f"{API}/courses", "POST") in operations
    assert (f"{API}/enrollments/<uuid:enrollment_id>", "GET") in operations
    assert len(operations) > 40


@pytest.mark.parametrize("credentials", BAD_TOKENS, ids=list(BAD_TOKENS))
def test_a_protected_operation_without_a_valid_token_is_401_whatever_the_input(app, client, credentials):
    answers = {}
    for rule, method in protected_operations(app):
        kwargs = {"json": {"unexpected": [1], "title": ""}} if method in METHODS_WITH_BODIES else {}
        response = client.open(invalid_url(rule), method=method, headers=BAD_TOKENS[credentials], **kwargs)
        answers[(rule, method)] = (response.status_code, response.headers.get("WWW-Authenticate"))

    wrong = {operation: answer for operation, answer in answers.items() if answer != (401, "Bearer")}
    assert wrong == {}


def test_the_reported_cases(client):
    """The two requests of the review: a create with an incomplete body and a read with a bad path."""
    create = client.post(f"{API}/courses", json={"title": "x"})
    read = client.get(f"{API}/enrollments/not-a-uuid")

    assert (create.status_code, create.get_json()) == (401, {"detail": "Not authenticated"})
    assert (read.status_code, read.get_json()) == (401, {"detail": "Not authenticated"})
    assert create.headers["WWW-Authenticate"] == read.headers["WWW-Authenticate"] == "Bearer"


def test_with_a_valid_token_validation_still_answers(client, student, auth_headers):
    response = client.get(f"{API}/enrollments/not-a-uuid", headers=auth_headers(student))

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["path", "enrollment_id"]
