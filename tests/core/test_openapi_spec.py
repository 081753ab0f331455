"""The OpenAPI document is valid and documents the answers that app-wide mechanisms give."""

import re

import pytest
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
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
               if not {"type", "$ref", "allOf", "oneOf", "anyOf"} & set(definition)]
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


# --- words and examples (issue 15, item 4) ------------------------------------------------------

def test_every_operation_has_a_description_beyond_its_summary(spec):
    missing = [f"{method.upper()} {path}" for path, method, operation in operations(spec)
               if len(operation.get("description", "")) < 40]
    assert missing == []


def test_every_path_parameter_is_described(spec):
    undescribed = [f"{path} {parameter['name']}" for path, item in spec["paths"].items()
                   for parameter in item.get("parameters", []) if not parameter.get("description")]
    assert undescribed == []


def _validator(spec, schema, validator_class):
    """A validator of `schema` whose `#/components/...` references resolve in the document."""
    return validator_class({**schema, "components": spec["components"]},
                           format_checker=validator_class.FORMAT_CHECKER)


def request_examples(spec):
    for path, method, operation in operations(spec):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            yield f"{method.upper()} {path} {media_type}", content


def response_examples(spec):
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("2") and "application/json" in response.get("content", {}):
                yield f"{method.upper()} {path} {status}", response["content"]["application/json"]


def test_every_request_body_has_an_example_valid_against_its_schema(spec):
    problems = []
    for where, content in request_examples(spec):
        if "example" not in content:
            problems.append(f"{where}: no example")
            continue
        validator = _validator(spec, content["schema"], OAS30WriteValidator)
        problems += [f"{where}: {error.message}" for error in validator.iter_errors(content["example"])]
    assert problems == []


def test_every_json_answer_has_an_example_valid_against_its_schema(spec):
    problems = []
    for where, content in response_examples(spec):
        if "example" not in content:
            problems.append(f"{where}: no example")
            continue
        validator = _validator(spec, content["schema"], OAS30ReadValidator)
        problems += [f"{where}: {error.message}" for error in validator.iter_errors(content["example"])]
    assert problems == []


def test_the_operations_without_a_json_answer_answer_nothing_or_a_file(spec):
    """So that every operation that answers JSON is covered by the example test above."""
    with_json = {where.rsplit(" ", 1)[0] for where, _content in response_examples(spec)}
    others = {f"{method.upper()} {path}": operation for path, method, operation in operations(spec)
              if f"{method.upper()} {path}" not in with_json}
    for name, operation in others.items():
        successes = {status: response for status, response in operation["responses"].items() if status.startswith("2")}
        assert successes, name
        for status, response in successes.items():
            assert status == "204" or set(response.get("content", {})) <= {"application/pdf", "application/zip",
                                                                            "application/octet-stream"}, name


# --- the response envelope (issue 15, item 6) ---------------------------------------------------

@pytest.fixture
def enveloped_spec(make_app):
    return make_app(API_RESPONSE_ENVELOPE_ENABLED=True).test_client().get("/openapi.json").json


def test_with_the_envelope_on_the_document_describes_the_wrapped_answers(spec, enveloped_spec):
    def answer(document, path, method, status):
        return document["paths"][f"/api/v1{path}"][method]["responses"][status]["content"]["application/json"]

    wrapped = answer(enveloped_spec, "/courses", "get", "200")
    assert wrapped["schema"]["properties"]["data"] == answer(spec, "/courses", "get", "200")["schema"]
    assert wrapped["schema"]["required"] == ["success", "data", "message"]
    assert wrapped["example"]["data"] == answer(spec, "/courses", "get", "200")["example"]
    for path in ("/health", "/ready"):  # served unwrapped, documented unwrapped
        assert answer(enveloped_spec, path, "get", "200") == answer(spec, path, "get", "200")
    tokens = enveloped_spec["paths"]["/api/v1/auth/token"]["post"]["responses"]["200"]["content"]
    assert tokens["application/json"]["schema"] == {"$ref": "#/components/schemas/Tokens"}
    errors = enveloped_spec["paths"]["/api/v1/courses"]["post"]["responses"]["422"]
    assert errors == {"$ref": "#/components/responses/UNPROCESSABLE_ENTITY"}  # errors are never wrapped
    test_every_json_answer_has_an_example_valid_against_its_schema(enveloped_spec)


def test_with_the_envelope_on_real_answers_validate_against_the_document(app, client, monkeypatch, enveloped_spec,
                                                                         auth_headers, instructor, student,
                                                                         make_course):
    monkeypatch.setitem(app.config, "API_RESPONSE_ENVELOPE_ENABLED", True)
    course = make_course(instructor)
    samples = [
        ("post", "/auth/register", {"json": {"email": "wrapped@example.com", "password": "correct-horse-42",
                                             "full_name": "Wrapped Reader"}}),
        ("get", "/auth/me", {"headers": auth_headers(student)}),
        ("get", "/courses", {}),
        ("get", "/courses/{course_id}", {}),
        ("post", "/enrollments", {"headers": auth_headers(student), "json": {"course_id": str(course.id)}}),
        ("get", "/health", {}),
    ]
    for method, path, request in samples:
        response = client.open(f"/api/v1{path.replace('{course_id}', str(course.id))}", method=method.upper(),
                               **request)
        documented = enveloped_spec["paths"][f"/api/v1{path}"][method]["responses"][str(response.status_code)]
        validator = _validator(enveloped_spec, documented["content"]["application/json"]["schema"],
                               OAS30ReadValidator)
        assert [error.message for error in validator.iter_errors(response.get_json())] == [], f"{method} {path}"


def test_a_nullable_enumeration_is_one_named_enum_or_null(spec):
    """Inline, a nullable enum must list null among its values, and generators then emit several
    enum types per field; as a reference to one component or null, a client gets one enum type."""
    schemas = spec["components"]["schemas"]
    inline_nulls = [f"{name}.{prop}" for name, schema in schemas.items()
                    for prop, definition in schema.get("properties", {}).items()
                    if None in definition.get("enum", [])]
    assert inline_nulls == []
    references = {schemas[name]["properties"]["difficulty_level"]["anyOf"][0]["$ref"]
                  for name in ("Course", "CourseCreate", "CourseUpdate")}
    assert references == {"#/components/schemas/DifficultyLevel"}
    assert schemas["DifficultyLevel"] == {"type": "string", "enum": ["beginner", "intermediate", "advanced"]}
    assert schemas["Course"]["properties"]["difficulty_level"]["anyOf"][1] == {
        "type": "string", "nullable": True, "enum": [None]}
