"""Every error body shape of contract §1.1 as changed by §5.23: JSON, never a traceback."""

import io
import json
import uuid

import pytest

from tests.core.helpers import LEAKY_MESSAGE
from tests.helpers import CLOSED_DATABASE_URL


@pytest.fixture
def probe(make_probe_app):
    return make_probe_app().test_client()


def test_body_validation_is_a_422_list_with_body_locations(probe):
    response = probe.post("/api/v1/probe/items", json={"count": 0, "extra": 1})
    assert response.status_code == 422
    detail = response.get_json()["detail"]
    assert isinstance(detail, list)
    by_loc = {tuple(item["loc"]): item for item in detail}
    assert set(by_loc) == {("body", "name"), ("body", "count"), ("body", "extra")}
    assert by_loc[("body", "name")]["type"] == "missing"
    assert by_loc[("body", "extra")]["type"] == "extra_forbidden"
    assert all(isinstance(item["msg"], str) and item["msg"] for item in detail)


def test_query_validation_is_a_422_with_query_locations(probe):
    response = probe.post("/api/v1/probe/items?page=0", json={"name": "x"})
    assert response.status_code == 422
    assert [item["loc"] for item in response.get_json()["detail"]] == [["query", "page"]]


def test_a_non_json_body_where_json_is_expected_is_a_422(probe):
    response = probe.post("/api/v1/probe/items", data="name=x", content_type="text/plain")
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"][0] == "body"


def test_a_valid_body_passes(probe):
    response = probe.post("/api/v1/probe/items", json={"name": "x", "count": 2})
    assert response.status_code == 201
    assert response.get_json() == {"name": "x", "count": 2}


@pytest.mark.parametrize("garbage", ["not-a-uuid", "123", "0" * 40, "%20", "g" * 36])
def test_a_malformed_path_uuid_is_a_422_naming_the_parameter(probe, garbage):
    response = probe.get(f"/api/v1/probe/items/{garbage}")
    assert response.status_code == 422
    assert response.get_json() == {"detail": [
        {"loc": ["path", "item_id"], "msg": "Input should be a valid UUID", "type": "uuid_parsing"}]}


def test_a_well_formed_path_uuid_reaches_the_view(probe):
    item_id = uuid.uuid4()
    assert probe.get(f"/api/v1/probe/items/{item_id}").get_json() == {"id": str(item_id)}


def test_malformed_json_is_a_400(probe):
    response = probe.post("/api/v1/probe/items", data='{"name": "x",', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"detail": "Malformed JSON body"}


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_json_nested_100000_deep_is_a_400(probe, opening, closing):
    body = opening * 100_000 + "1" + closing * 100_000
    response = probe.post("/api/v1/probe/items", data=body, content_type="application/json")
    assert response.status_code == 400
    assert isinstance(response.get_json()["detail"], str)


def test_json_nested_past_the_limit_is_a_400_even_when_python_can_parse_it(probe):
    body = json.dumps({"name": "x", "tags": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})
    response = probe.post("/api/v1/probe/items", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.get_json()["detail"]


@pytest.mark.parametrize("body", [{"name": "a\u0000b"}, {"na\u0000me": "x"}, {"name": "x", "list": ["\u0000"]}])
def test_a_nul_byte_in_a_json_body_is_a_400(probe, body):
    response = probe.post("/api/v1/probe/items", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"detail": "NUL bytes are not allowed in the request"}


def test_a_nul_byte_in_the_query_string_is_a_400(probe):
    response = probe.post("/api/v1/probe/items?page=%00", json={"name": "x"})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "NUL bytes are not allowed in the request"}


def test_a_nul_byte_in_a_form_body_is_a_400(probe):
    response = probe.post("/api/v1/probe/items", data={"name": "a\x00b"})
    assert response.status_code == 400
    assert response.get_json() == {"detail": "NUL bytes are not allowed in the request"}


def test_a_json_body_over_the_limit_is_a_413(make_probe_app):
    probe = make_probe_app(MAX_JSON_BODY_KB=1).test_client()
    response = probe.post("/api/v1/probe/items", json={"name": "x" * 2048})
    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body is too large"}


def test_a_default_sized_json_body_over_one_mebibyte_is_a_413(probe):
    response = probe.post("/api/v1/probe/items", json={"name": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body is too large"}


def test_a_multipart_body_over_the_upload_limit_is_a_413(make_probe_app):
    probe = make_probe_app(MAX_UPLOAD_MB=1).test_client()
    payload = b"x" * (3 * 1024 * 1024)
    response = probe.post("/api/v1/probe/upload", data={"file": (io.BytesIO(payload), "a.pdf")},
                          content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body is too large"}


def test_a_wrong_method_is_a_405_with_allow(client):
    response = client.post("/api/v1/health")
    assert response.status_code == 405
    assert response.get_json() == {"detail": "Method not allowed"}
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "OPTIONS"}


def allowed(response) -> set[str]:
    return set(response.headers["Allow"].replace(" ", "").split(","))


@pytest.mark.parametrize("method, path, methods", [
    ("patch", "/api/v1/users/me", {"GET", "HEAD", "OPTIONS", "DELETE"}),
    ("get", "/api/v1/assignments/submit", {"POST", "OPTIONS"}),
])
def test_a_fixed_path_shadowed_by_an_id_route_answers_405_with_its_own_methods(
        client, admin, auth_headers, method, path, methods):
    response = getattr(client, method)(path, headers=auth_headers(admin), json={})

    assert response.status_code == 405
    assert response.get_json() == {"detail": "Method not allowed"}
    assert allowed(response) == methods


def test_a_malformed_id_on_an_id_route_is_still_a_422(client, admin, auth_headers):
    response = client.get("/api/v1/users/not-a-uuid", headers=auth_headers(admin))

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["path", "user_id"]


def test_an_unknown_route_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json() == {"detail": "Not found"}


def test_an_unknown_route_outside_the_api_is_a_json_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 404
    assert response.is_json


def test_an_unhandled_error_is_a_500_without_the_traceback(probe):
    response = probe.get("/api/v1/probe/boom")
    assert response.status_code == 500
    assert response.get_json() == {"detail": "Internal server error"}
    text = response.get_data(as_text=True)
    assert LEAKY_MESSAGE not in text and "Traceback" not in text


def test_an_unhandled_error_is_logged_with_its_traceback(probe, capture_lms_log):
    with capture_lms_log() as log:
        probe.get("/api/v1/probe/boom", headers={"X-Request-ID": "boom-1"})
    errors = [r for r in log.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert errors[0].exc_info is not None and LEAKY_MESSAGE in str(errors[0].exc_info[1])
    assert errors[0].request_id == "boom-1"


def test_a_500_in_debug_mode_still_hides_the_traceback(make_probe_app):
    response = make_probe_app(DEBUG=True).test_client().get("/api/v1/probe/boom")
    assert response.status_code == 500
    assert response.get_json() == {"detail": "Internal server error"}


def test_an_unreachable_database_is_a_503(make_probe_app):
    probe = make_probe_app(DATABASE_URL=CLOSED_DATABASE_URL).test_client()
    response = probe.get("/api/v1/probe/db")
    assert response.status_code == 503
    assert response.get_json() == {"detail": "Database unavailable"}


def test_a_missing_token_is_a_401_with_www_authenticate(probe):
    response = probe.get("/api/v1/probe/me")
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_garbage_token_is_a_401_not_a_422(probe):
    response = probe.get("/api/v1/probe/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert isinstance(response.get_json()["detail"], str)


# --- input no view can handle, refused at the edge (§5.23, §5.36) ---------------------------------

@pytest.mark.parametrize("text", ['{"name": "\\ud800"}', '{"name": "x\\udfffy"}', '{"\\udc00": "x", "name": "x"}',
                                  '{"name": "x", "tags": ["\\ud83d"]}'])
def test_a_lone_surrogate_in_a_json_string_is_a_400(probe, text):
    response = probe.post("/api/v1/probe/items", data=text, content_type="application/json")

    assert response.status_code == 400
    assert response.get_json() == {"detail": "Lone UTF-16 surrogates are not allowed in JSON strings"}


def test_a_surrogate_pair_is_a_character_like_any_other(probe):
    response = probe.post("/api/v1/probe/items", data='{"name": "\\ud83d\\ude00"}', content_type="application/json")

    assert response.status_code == 201
    assert response.get_json()["name"] == "\U0001F600"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_a_number_json_does_not_have_is_a_400(probe, number):
    response = probe.post("/api/v1/probe/items", data=f'{{"name": "x", "count": {number}}}',
                          content_type="application/json")

    assert response.status_code == 400
    assert response.get_json() == {"detail": "Malformed JSON body"}


def test_the_public_auth_routes_refuse_a_surrogate_without_logging_in(client):
    """The review's reproduction: 500 on login, register, refresh, reset, verify and MFA, anonymously."""
    bodies = {
        "login": '{"email": "a@example.com", "password": "\\ud800\\ud800\\ud800\\ud800"}',
        "register": '{"email": "a@example.com", "password": "Password-1", "full_name": "\\ud800"}',
        "refresh": '{"refresh_token": "\\ud800"}',
        "reset-password": '{"token": "\\ud800", "new_password": "Password-1"}',
        "verify-email/confirm": '{"token": "\\ud800"}',
        "login/mfa": '{"challenge_token": "\\ud800", "code": "123456"}',
    }
    for route, body in bodies.items():
        response = client.post(f"/api/v1/auth/{route}", data=body, content_type="application/json")
        assert response.status_code == 400, route


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_chunked_body_over_the_limit_is_a_413(probe, content_type):
    too_big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'

    response = probe.post("/api/v1/probe/items", input_stream=io.BytesIO(too_big), content_type=content_type,
                          environ_overrides={"wsgi.input_terminated": True},
                          headers={"Transfer-Encoding": "chunked"})

    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body is too large"}


def test_a_chunked_body_within_the_limit_is_read_whole(probe):
    response = probe.post("/api/v1/probe/items", input_stream=io.BytesIO(b'{"name": "chunked"}'),
                          content_type="application/json", environ_overrides={"wsgi.input_terminated": True},
                          headers={"Transfer-Encoding": "chunked"})

    assert (response.status_code, response.get_json()["name"]) == (201, "chunked")


def test_a_value_the_database_refuses_is_a_400_not_a_500(probe):
    """The last guard behind validation (a DataError of the driver)."""
    response = probe.post("/api/v1/probe/db-refuses")

    if response.status_code == 200:
        pytest.skip("this database stores the value (SQLite's integers are 64-bit and loose)")
    assert response.status_code == 400
    assert response.get_json() == {"detail": "The request has a value the database cannot store"}
