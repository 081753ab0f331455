"""The OpenAPI spec is complete, `/docs` works offline, and the server answers what the document says.

The fuzz run sends schemathesis-generated requests for every operation of `/openapi.json`, valid
(positive) and invalid (negative) in separate runs, as an anonymous caller, a student, an
instructor and an admin (who passes every role check, so the handlers run). Every answer must be
documented: no 5xx, a documented status, a body valid against its documented schema and media type,
and invalid data refused with a 4xx (`negative_data_rejection`). Seeds are fixed (`derandomize`) and
`LMS_FUZZ_EXAMPLES` sets the examples per operation, caller and phase (default 5, about 50 s in all).
schemathesis' pytest plugin (`from_fixture`) does not run under pytest 9, so the operations are
driven through its Python API.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Err

MAX_EXAMPLES = int(os.environ.get("LMS_FUZZ_EXAMPLES", "5"))
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
# Rules that are not part of the API: the spec itself and the docs page with its assets.
UNDOCUMENTED_RULES = {"/openapi.json", "/docs", "/docs/assets/<path:filename>", "/docs/lms-init.js"}


def spec_path(rule: str) -> str:
    """`/courses/<uuid:course_id>` -> `/courses/{course_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_route_of_the_app_is_in_the_spec(app, client):
    spec = client.get("/openapi.json").get_json()
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item
                  if method in HTTP_METHODS}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule in UNDOCUMENTED_RULES or rule.rule == "/":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (spec_path(rule.rule), method) not in documented:
                missing.append(f"{method} {rule.rule}")
    assert missing == []


def test_the_spec_names_the_api_and_its_bearer_scheme(app, client):
    spec = client.get("/openapi.json").get_json()
    assert (spec["info"]["title"], spec["info"]["version"]) == (app.config["PROJECT_NAME"], app.config["VERSION"])
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_protected_operations_declare_the_bearer_scheme_and_a_401(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue  # path-level "parameters"
            security = operation.get("security")
            if security and {} not in security:  # required, not optional, authentication
                assert {"bearerAuth": []} in security, f"{method.upper()} {path}"
                assert "401" in operation["responses"], f"{method.upper()} {path} lacks its 401"


def test_the_docs_page_loads_its_scripts_from_the_app_itself(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources, "the page loads no assets"
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by the app"
        assert client.get(source).status_code == 200, source
    assert "//" not in "".join(sources)
    assert 'data-spec-url="/openapi.json"' in page


def test_the_docs_can_be_turned_off(make_app):
    client = make_app(ENABLE_API_DOCS=False).test_client()
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


# Every answer is checked: no 5xx, a status the operation documents, a body valid against the schema
# documented for that status, the documented media type, and for invalid data a refusal.
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance,
          negative_data_rejection]
CALLERS = ("anonymous", "student", "instructor", "admin")


def fuzz_failures(app, headers: dict[str, str], mode: GenerationMode) -> list[str]:
    """Fuzz every operation with data of `mode` (valid or invalid); one report per failing operation."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # A write's If-Match is evaluated before its body is read (RFC 9110 §13.2.1): a stale tag is a
    # 412 whatever the body holds, so a 412 refuses invalid data too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "412"]
    failures = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"unusable operation in the spec: {result.err()}")
            continue
        operation = result.ok()

        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        @given(case=operation.as_strategy(mode))
        def call(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            call()
        except Unsatisfiable:
            # No invalid request exists: no parameters and no body (health), or only a path segment
            # that takes any text (a slug, a certificate number).
            assert mode is GenerationMode.NEGATIVE, f"{operation.method.upper()} {operation.path}"
        except Exception as exc:  # noqa: BLE001 - every failing operation is reported, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
@pytest.mark.parametrize("caller", CALLERS)
def test_generated_requests_get_documented_answers(app, make_user, auth_headers, caller, mode):
    headers = {} if caller == "anonymous" else auth_headers(make_user(caller))
    failures = fuzz_failures(app, headers, mode)
    assert not failures, "\n\n".join(failures)


# --- hostile values in every JSON body (§5.23, §5.36) ----------------------------------------------
# Values that JSON can carry but no column can store or no encoder can encode. Each operation with a
# JSON body gets a body built from its schema, then one field at a time is replaced by each hostile
# value of its type: a lone surrogate in a string, a non-finite or overflowing number, an integer on
# either side of the 32- and 64-bit boundaries. Nothing may answer 5xx.

HOSTILE_STRINGS = ['"\\ud800"', '"x\\udfffy"', '"\\u0000"']
HOSTILE_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]
HOSTILE_INTEGERS = [str(value) for value in (2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1)]


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:
        merged: dict = {"properties": {}}
        for part in schema["allOf"]:
            merged["properties"].update(_resolve(spec, part).get("properties", {}))
        return merged
    return schema


def _hostile_values(spec: dict, schema: dict) -> list[str]:
    schema = _resolve(spec, schema)
    kind = schema.get("type")
    if kind == "integer":
        return HOSTILE_INTEGERS + HOSTILE_NUMBERS[:2]
    if kind == "number":
        return HOSTILE_NUMBERS
    if kind == "string":
        return HOSTILE_STRINGS + (HOSTILE_NUMBERS[:2] if schema.get("format") == "decimal" else [])
    if kind in ("object", None) and not schema.get("properties"):
        return ['{"free": "\\ud800"}', '{"free": NaN}', '{"free": 1e400}']  # free-form metadata
    if kind == "array":
        return [f"[{value}]" for value in _hostile_values(spec, schema.get("items", {}))[:3]]
    return []


def json_body_operations(spec: dict):
    """(method, path, properties) of every operation that takes a JSON body."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}) if method in HTTP_METHODS else {}
            if "application/json" in content:
                schema = _resolve(spec, content["application/json"]["schema"])
                yield method, path, schema.get("properties", {})


def hostile_requests(spec: dict):
    for method, path, properties in json_body_operations(spec):
        url = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
        for name, field in properties.items():
            if field.get("readOnly"):
                continue
            for value in _hostile_values(spec, field):
                yield method, url, f'{{"{name}": {value}}}'


def test_every_json_body_has_fields_to_try(client):
    spec = client.get("/openapi.json").get_json()
    assert len(list(hostile_requests(spec))) > 300


@pytest.mark.parametrize("caller", ["anonymous", "admin", "student"])
def test_no_hostile_value_in_a_json_body_gets_a_server_error(client, auth_headers, make_user, caller):
    spec = client.get("/openapi.json").get_json()
    headers = {} if caller == "anonymous" else auth_headers(make_user(caller))
    server_errors = []
    for method, url, body in hostile_requests(spec):
        response = client.open(url, method=method.upper(), data=body, content_type="application/json",
                               headers=headers)
        if response.status_code >= 500:
            server_errors.append(f"{method.upper()} {url} {body}: {response.status_code}")
    assert server_errors == []


# --- methods the document does not list ------------------------------------------------------------

def _filled(path: str) -> str:
    """A concrete URL of a documented path: a fresh UUID for each id, a word for slugs and numbers."""
    return re.sub(r"\{([^}]+)\}", lambda match: str(uuid.uuid4()) if match.group(1).endswith("_id") else "sample",
                  path)


def test_a_method_the_document_does_not_list_is_405_with_the_documented_methods_in_allow(client):
    spec = client.get("/openapi.json").get_json()
    wrong = []
    for path, item in spec["paths"].items():
        documented = {method.upper() for method in item if method in HTTP_METHODS}
        url = _filled(path)
        for method in sorted({method.upper() for method in HTTP_METHODS} - documented):
            response = client.open(url, method=method)
            allowed = set(response.headers.get("Allow", "").replace(" ", "").split(",")) - {"HEAD", "OPTIONS", ""}
            if response.status_code != 405 or allowed != documented:
                wrong.append(f"{method} {path}: {response.status_code}, Allow {sorted(allowed)}")
    assert wrong == [], "\n".join(wrong)
