"""An optional query filter sent empty is no filter (contract §5.32), on every list endpoint.

The list operations and their optional query parameters are read from the OpenAPI document; each
is called as an admin with every optional parameter sent empty, and must answer as without them.
"""

from __future__ import annotations

import re

from tests.helpers import API


def optional_query_parameters(spec: dict) -> dict[str, list[str]]:
    """{path: [names]} of the GET operations without path parameters that take optional query parameters."""
    found = {}
    for path, item in spec["paths"].items():
        parameters = item.get("get", {}).get("parameters", [])
        names = [p["name"] for p in parameters if p.get("in") == "query" and not p.get("required")]
        if names and "{" not in path:
            found[path] = names
    return found


def test_the_list_endpoints_with_filters_are_found(client):
    found = optional_query_parameters(client.get("/openapi.json").get_json())
    assert {"category", "difficulty_level", "search", "mine"} <= set(found[f"{API}/courses"])
    assert "file_type" in found[f"{API}/files/my-files"]
    assert "role" in found[f"{API}/users"]


def test_every_optional_query_parameter_sent_empty_is_ignored(client, admin, auth_headers, make_course, instructor):
    make_course(instructor)
    headers = auth_headers(admin)
    for path, names in optional_query_parameters(client.get("/openapi.json").get_json()).items():
        plain = client.get(path, headers=headers)
        emptied = client.get(f"{path}?" + "&".join(f"{name}=" for name in names), headers=headers)
        assert (emptied.status_code, emptied.get_json()) == (plain.status_code, plain.get_json()), path


def test_a_non_empty_invalid_value_is_still_a_422(client):
    response = client.get(f"{API}/courses?difficulty_level=expert")

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["query", "difficulty_level"]


def test_the_reported_filters(client, student, auth_headers):
    assert client.get(f"{API}/courses?difficulty_level=").status_code == 200
    assert client.get(f"{API}/files/my-files?file_type=", headers=auth_headers(student)).status_code == 200
    assert re.fullmatch(r"\d+", str(client.get(f"{API}/courses?search=&page=").get_json()["total"]))
