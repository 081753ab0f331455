"""The OpenAPI document is valid and documents the answers that app-wide mechanisms give."""

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
