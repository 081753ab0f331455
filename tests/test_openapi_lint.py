"""The OpenAPI document passes a linter (issue 15, item 8): openapi-spec-validator for the structure,
then the rules of Spectral's `spectral:oas` ruleset, written here in Python so the suite needs no Node.

Rules checked here (Spectral's names): operation-description, operation-operationId(-unique,
-valid-in-url), operation-tags, operation-tag-defined, tag-description, operation-success-response,
operation-parameters (no duplicates), path-params (each declared, each used), path-keys-no-trailing-slash,
path-not-include-query, no-$ref-siblings, typed-enum, duplicated-entry-in-enum, oas3-api-servers,
oas3-server-trailing-slash, oas3-operation-security-defined, oas3-unused-component,
no-script-tags-in-markdown, info-description. Valid examples (oas3-valid-media-example) are checked
in tests/core/test_openapi_spec.py.

Skipped, on purpose: info-contact and info-license (a deployment's contact and the project's licence
are not the API's to state: the document is served by whoever runs it); openapi-tags-alphabetical
(off in spectral:oas too; the tags follow the order of the modules, which reads better).
"""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate

METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/openapi.json").json


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, item, method, operation


def test_the_document_validates_against_the_openapi_3_0_schema(spec):
    validate(spec)


def test_operations_are_described_named_tagged_and_answer_a_success(spec):
    tags = {tag["name"] for tag in spec["tags"]}
    problems = []
    for path, _item, method, operation in operations(spec):
        where = f"{method.upper()} {path}"
        if not operation.get("description"):
            problems.append(f"{where}: operation-description")
        if not re.fullmatch(r"[A-Za-z0-9_.~-]+", operation.get("operationId", "")):
            problems.append(f"{where}: operation-operationId-valid-in-url")
        if not operation.get("tags") or not set(operation["tags"]) <= tags:
            problems.append(f"{where}: operation-tags / operation-tag-defined")
        if not any(status.startswith(("2", "3")) for status in operation["responses"]):
            problems.append(f"{where}: operation-success-response")
    ids = [operation["operationId"] for *_rest, operation in operations(spec)]
    assert len(ids) == len(set(ids)), "operation-operationId-unique"
    assert [tag["name"] for tag in spec["tags"] if not tag.get("description")] == [], "tag-description"
    assert problems == []


def test_paths_and_their_parameters_agree(spec):
    problems = []
    for path in spec["paths"]:
        if path.endswith("/") and path != "/":
            problems.append(f"{path}: path-keys-no-trailing-slash")
        if "?" in path:
            problems.append(f"{path}: path-not-include-query")
    for path, item, method, operation in operations(spec):
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        named = [(parameter["in"], parameter["name"]) for parameter in parameters if "$ref" not in parameter]
        if len(named) != len(set(named)):
            problems.append(f"{method.upper()} {path}: operation-parameters")
        in_path = {name for where, name in named if where == "path"}
        if in_path != set(re.findall(r"\{([^}]+)\}", path)):
            problems.append(f"{method.upper()} {path}: path-params")
    assert problems == []


def _walk(node, where="#"):
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def test_schemas_have_no_ref_siblings_and_typed_unique_enums(spec):
    types = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
    problems = []
    for where, node in _walk(spec):
        if not isinstance(node, dict):
            continue
        if "$ref" in node and len(node) > 1:
            problems.append(f"{where}: no-$ref-siblings")
        if isinstance(node.get("enum"), list) and node.get("type") in types:
            values = [value for value in node["enum"] if not (value is None and node.get("nullable"))]
            if any(not isinstance(value, types[node["type"]]) for value in values):
                problems.append(f"{where}: typed-enum")
            if len(node["enum"]) != len({json.dumps(value) for value in node["enum"]}):
                problems.append(f"{where}: duplicated-entry-in-enum")
    assert problems == []


def test_servers_security_and_markdown(spec):
    assert spec["servers"] and all(not server["url"].endswith("/") for server in spec["servers"]), "oas3-api-servers"
    assert spec["info"].get("description"), "info-description"
    schemes = set(spec["components"]["securitySchemes"])
    requirements = [*spec["security"], *(requirement for *_rest, operation in operations(spec)
                                         for requirement in operation.get("security", []))]
    assert {name for requirement in requirements for name in requirement} <= schemes, "oas3-operation-security-defined"
    texts = [node for _where, node in _walk(spec) if isinstance(node, str)]
    assert not [text for text in texts if "<script" in text.lower()], "no-script-tags-in-markdown"


def test_every_component_is_used(spec):
    """oas3-unused-component: a component nothing else refers to is noise for client generators."""
    unused = []
    for kind, members in spec["components"].items():
        if kind == "securitySchemes":  # used by name in security requirements (checked above)
            continue
        for name in members:
            others = {**spec, "components": {**spec["components"],
                                             kind: {key: value for key, value in members.items() if key != name}}}
            if f'"#/components/{kind}/{name}"' not in json.dumps(others):
                unused.append(f"{kind}/{name}")
    assert unused == []
