"""The OpenAPI document is valid and documents the answers that app-wide mechanisms give."""

import re

import pytest
from openapi_spec_validator import validate

OPERATIONS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                yield path, method, operation


def test_the_document_is_a_valid_openapi_3_document(spec):
    validate(spec)


def test_every_operation_with_a_path_parameter_documents_the_422_for_a_malformed_one(spec):
    missing = [f"{method.upper()} {path}" for path, method, operation in operations(spec)
               if "{" in path and "422" not in operation["responses"]]
    assert missing == []


def test_every_operation_with_a_body_documents_malformed_and_oversized_bodies(spec):
    missing = [f"{method.upper()} {path}" for path, method, operation in operations(spec)
               if "requestBody" in operation and not {"400", "413"} <= set(operation["responses"])]
    assert missing == []


def test_every_rate_limited_operation_documents_429_and_every_operation_503(spec):
    for path, method, operation in operations(spec):
        assert "503" in operation["responses"], f"{method.upper()} {path}"
        if not path.endswith(("/health", "/ready")):
            assert "429" in operation["responses"], f"{method.upper()} {path}"


def operation_ids(spec):
    return {f"{method.upper()} {path}": operation.get("operationId") for path, method, operation in operations(spec)}


def test_every_operation_has_a_unique_camel_case_operation_id(spec):
    """Client generators name their functions after it (`listCourses`, `completeLesson`)."""
    ids = operation_ids(spec)
    assert [operation for operation, operation_id in ids.items() if not operation_id] == []
    assert len(set(ids.values())) == len(ids)
    assert [operation_id for operation_id in ids.values() if not re.fullmatch(r"[a-z][a-zA-Z]*", operation_id)] == []


def test_operation_ids_do_not_depend_on_the_api_prefix(spec, make_app):
    moved = make_app(API_V1_PREFIX="/lms/v9").test_client().get("/openapi.json").json
    ids = {operation_id: operation.split(" ")[0] for operation, operation_id in operation_ids(spec).items()}
    moved_ids = {operation_id: operation.split(" ")[0] for operation, operation_id in operation_ids(moved).items()}
    assert moved_ids == ids
    assert any(path.startswith("/lms/v9/") for path in moved["paths"])


def test_the_document_requires_a_bearer_token_by_default_and_marks_public_operations(spec):
    """Generators must not demand an authenticated client for public operations."""
    assert spec["security"] == [{"bearerAuth": []}, {"oauth2Password": []}]
    by_id = {operation["operationId"]: operation for _path, _method, operation in operations(spec)}
    assert by_id["logIn"]["security"] == []
    assert by_id["verifyCertificateByNumber"]["security"] == []
    assert by_id["listCourses"]["security"] == [{}, {"bearerAuth": []}, {"oauth2Password": []}]
    assert by_id["getCurrentUser"]["security"] == spec["security"]
    assert all("security" in operation for operation in by_id.values())


def test_the_document_names_its_server_and_describes_the_api_and_every_tag(spec, app):
    assert spec["servers"] == [{"url": app.config["PUBLIC_API_BASE_URL"], "description": "this deployment"}]
    assert "Authorization: Bearer" in spec["info"]["description"]
    assert [tag["name"] for tag in spec["tags"] if not tag.get("description")] == []


def test_every_property_of_every_schema_has_a_type_or_a_reference(spec):
    untyped = [f"{name}.{prop}" for name, schema in spec["components"]["schemas"].items()
               for prop, definition in schema.get("properties", {}).items()
               if not {"type", "$ref", "allOf", "oneOf"} & set(definition)]
    assert untyped == []


def test_a_nullable_nested_object_reads_as_its_own_type(spec):
    assert spec["components"]["schemas"]["Verification"]["properties"]["certificate"] == {
        "allOf": [{"$ref": "#/components/schemas/VerifiedCertificate"}], "nullable": True}


def test_an_error_detail_is_a_message_or_a_list_of_located_validation_errors(spec):
    message, located = spec["components"]["schemas"]["Error"]["properties"]["detail"]["oneOf"]
    assert message == {"type": "string"}
    assert located["items"]["required"] == ["loc", "msg", "type"]


def test_the_downloads_declare_a_binary_body_of_their_media_type(spec):
    by_id = {operation["operationId"]: operation for _path, _method, operation in operations(spec)}
    assert by_id["downloadCertificate"]["responses"]["200"]["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert by_id["downloadFile"]["responses"]["200"]["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def test_registration_offers_only_the_roles_a_sign_up_can_have(spec):
    assert spec["components"]["schemas"]["Register"]["properties"]["role"]["enum"] == ["student", "instructor"]


def test_component_names_do_not_repeat_a_word(spec):
    doubled = [name for name in spec["components"]["schemas"] if re.search(r"([A-Z][a-z]+)\1", name)]
    assert doubled == []
