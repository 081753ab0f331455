"""What the OpenAPI document adds to each operation beyond flask-smorest: path parameter
descriptions, a request and a response example built from the schemas (or given by the route), and
the wrapped answers when API_RESPONSE_ENVELOPE_ENABLED is on.

A route gives its own examples with `Blueprint.examples(request=..., response=...)`; otherwise each
body gets one built from its schema: the example or default a field declares, else a value of its
name (`NAMED_VALUES`) or of its type and format, within the schema's bounds. The tests validate every
example against its schema.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from apispec import BasePlugin

# The key a route's own examples travel under until the plugin puts them in place.
EXAMPLES_KEY = "x-lms-examples"

ENVELOPE_MESSAGE = "Success"

PATH_PARAMETERS = {
    "user_id": "The user's id",
    "course_id": "The course's id (a UUID; `GET /courses/slug/{slug}` finds one by its slug)",
    "slug": "The course's slug, as in its `slug` field",
    "lesson_id": "The lesson's id",
    "enrollment_id": "The enrollment's id (from `POST /enrollments` or `GET /enrollments/my-courses`)",
    "quiz_id": "The quiz's id",
    "question_id": "The question's id",
    "attempt_id": "The attempt's id (from `POST /quizzes/{quiz_id}/attempts`)",
    "instructor_id": "The instructor's user id",
    "file_id": "The file's id (the last segment of its `file_url`)",
    "certificate_id": "The certificate's id",
    "certificate_number": "The number printed on the certificate, e.g. `CERT-20250115-1A2B3C4D`",
    "assignment_id": "The assignment's id",
    "submission_id": "The submission's id",
    "endpoint_id": "The webhook endpoint's id",
    "delivery_id": "The delivery's id (from `GET /webhooks/{endpoint_id}/deliveries`)",
    "export_id": "The export's id (from `POST /users/me/export`, and in the mailed link)",
}

# Realistic values of the fields that recur across the schemas, by property name.
NAMED_VALUES: dict[str, Any] = {
    "email": "ada@example.com",
    "username": "ada@example.com",
    "password": "correct-horse-42",
    "new_password": "battery-staple-77",
    "full_name": "Ada Lovelace",
    "instructor_name": "Grace Hopper",
    "student_name": "Ada Lovelace",
    "student_email": "ada@example.com",
    "enrollment_status": "active",
    "title": "Introduction to Python",
    "course_title": "Introduction to Python",
    "slug": "introduction-to-python",
    "description": "Variables, functions and the standard library, with exercises.",
    "long_description": "Eight weeks from first steps to small programs.",
    "content": "A variable names a value; `x = 3` binds the name x.",
    "instructions": "Write a function that reverses a list, with tests.",
    "category": "programming",
    "currency": "USD",
    "status": "active",
    "review": "Clear explanations and well-chosen exercises.",
    "feedback": "Well structured; test the empty list too.",
    "question_text": "What does len([1, 2, 3]) return?",
    "option_text": "3",
    "option_id": "a",
    "selected_option_id": "a",
    "correct_answer": "3",
    "answer_text": "3",
    "explanation": "len counts the items of a list.",
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl",
    "refresh_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
    "challenge_token": "mfa_6f1c2b9e7d4a4f0c",
    "token": "Zk3q9w7c1Yt2Vb8N",
    "token_type": "bearer",
    "code": "123456",
    "folder": "uploads",
    "filename": "9f86d081884c7d65.pdf",
    "original_filename": "report.pdf",
    "mime_type": "application/pdf",
    "file_type": "document",
    "storage_provider": "local",
    "certificate_number": "CERT-20250115-1A2B3C4D",
    "grading_type": "points",
    "submission_type": "text",
    "message": "Success",
    "thumbnail_url": "https://cdn.example.com/courses/python.png",
    "preview_video_url": "https://videos.example.com/python/preview.mp4",
    "video_url": "https://videos.example.com/python/lesson-1.mp4",
    "requirements": "A computer with Python 3.12",
    "learning_objectives": "Write and test small programs",
    "file_urls": "https://docs.example.com/essay.pdf",
    "feedback_attachments": "https://docs.example.com/essay-annotated.pdf",
    "average_rating": 4.5,
    "average_progress": 62.5,
    "progress_percentage": 62.5,
    "completion_percentage": 100,
    "percentage": 85,
    "score": 17,
    "max_score": 20,
    "points": 2,
    "total_points": 20,
    "passing_score": 70,
    "detail": "Not found",
    "page": 1,
    "page_size": 20,
    "total": 1,
    "total_pages": 1,
    "order_index": 1,
    "rating": 5,
    "expires_in": 900,
    "expires_in_seconds": 600,
    "file_size": 48213,
    "estimated_duration_minutes": 90,
    "duration_minutes": 15,
    "time_limit_minutes": 20,
    "max_attempts": 3,
    "max_points": 100,
    "grade": 87.5,
    "max_grade": 100,
}

_UUIDS = ("3fa85f64-5717-4562-b3fc-2c963f66afa6", "7c9e6679-7425-40de-944b-e07fc1f90ae7")
_STRING_FORMATS = {
    "uuid": _UUIDS[0],
    "date-time": "2025-01-15T09:30:00Z",
    "date": "2025-01-15",
    "email": "ada@example.com",
    "uri": "https://example.com/notes/week-1.pdf",
    "uri-reference": "/api/v1/files/download/" + _UUIDS[1],
    "password": "correct-horse-42",
    "decimal": "70.00",
}
_MAX_DEPTH = 6


def schema_named(components: dict, reference: str) -> dict:
    return components[reference.rsplit("/", 1)[-1]]


def example_of(schema: dict, components: dict, *, writing: bool, name: str = "", depth: int = 0) -> Any:
    """A value valid against `schema`: as a request sends it (`writing`) or an answer has it."""
    if "$ref" in schema:
        return example_of(schema_named(components, schema["$ref"]), components, writing=writing, name=name,
                          depth=depth)
    if "example" in schema:
        return deepcopy(schema["example"])
    if "default" in schema and schema["default"] is not None:
        return deepcopy(schema["default"])
    if "enum" in schema:
        choices = [choice for choice in schema["enum"] if choice is not None]
        return NAMED_VALUES[name] if NAMED_VALUES.get(name) in choices else choices[0]
    for combination in ("allOf", "oneOf", "anyOf"):
        if combination in schema:
            return example_of(schema[combination][0], components, writing=writing, name=name, depth=depth)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "object":
        return _object_example(schema, components, writing=writing, depth=depth)
    if kind == "array":
        item = example_of(schema.get("items", {}), components, writing=writing, name=name, depth=depth + 1)
        return [] if item is None else [item]
    if kind in ("integer", "number"):
        return _number_example(schema, name, integer=kind == "integer")
    if kind == "boolean":
        return not name.startswith(("is_preview", "mfa", "shuffle"))
    if kind == "string":
        return _string_example(schema, name)
    return None


def _object_example(schema: dict, components: dict, *, writing: bool, depth: int) -> dict:
    properties = schema.get("properties", {})
    if depth >= _MAX_DEPTH or not properties:
        return {}
    hidden = "readOnly" if writing else "writeOnly"
    shown = {name: definition for name, definition in properties.items() if not definition.get(hidden)}
    if writing:  # a request example sends what is needed, and the fields that have a telling example
        required = set(schema.get("required", ()))
        chosen = {name: definition for name, definition in shown.items()
                  if name in required or "example" in definition}
        shown = chosen or dict(list(shown.items())[:2])
    return {name: example_of(definition, components, writing=writing, name=name, depth=depth + 1)
            for name, definition in shown.items()}


def _number_example(schema: dict, name: str, *, integer: bool) -> int | float:
    value = NAMED_VALUES.get(name, 1 if integer else 2.5)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        value = 1
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and (value < low or (schema.get("exclusiveMinimum") and value <= low)):
        value = low + 1
    if high is not None and value > high:
        value = high
    return int(value) if integer else value


def _string_example(schema: dict, name: str) -> str:
    value = NAMED_VALUES.get(name)
    if isinstance(value, (int, float)) and schema.get("format") == "decimal":
        value = f"{value:.2f}"
    if not isinstance(value, str):
        value = _STRING_FORMATS.get(schema.get("format", ""), name.replace("_", " ") or "text")
    minimum, maximum = schema.get("minLength", 0), schema.get("maxLength")
    if len(value) < minimum:
        value = value.ljust(minimum, "x")
    return value[:maximum] if maximum else value


def wrapped_in_envelope(schema: dict) -> dict:
    """The answer's schema as API_RESPONSE_ENVELOPE_ENABLED serves it (`lms.core.http`)."""
    return {"type": "object", "required": ["success", "data", "message"], "properties": {
        "success": {"type": "boolean", "enum": [True]},
        "data": schema,
        "message": {"type": "string", "example": ENVELOPE_MESSAGE},
    }}


class DocumentationPlugin(BasePlugin):
    """An apispec plugin, run after marshmallow's (the schemas are references by then)."""

    def __init__(self, *, envelope: bool, unwrapped_paths: tuple[str, ...]):
        self.envelope = envelope
        self.unwrapped_paths = unwrapped_paths
        self.spec = None

    def init_spec(self, spec) -> None:
        self.spec = spec

    def path_helper(self, path=None, operations=None, parameters=None, **kwargs):
        for parameter in parameters or ():
            if parameter.get("in") == "path" and parameter.get("name") in PATH_PARAMETERS:
                parameter.setdefault("description", PATH_PARAMETERS[parameter["name"]])
        return None

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        components = self.spec.components.schemas
        wrap = self.envelope and not path.endswith(self.unwrapped_paths)
        for operation in (operations or {}).values():
            given = operation.pop(EXAMPLES_KEY, {})
            for content in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in content:
                    content.setdefault("example", deepcopy(given["request"]) if "request" in given else
                                       example_of(content["schema"], components, writing=True))
            for status, response in operation.get("responses", {}).items():
                if not str(status).startswith("2") or not isinstance(response, dict):
                    continue
                content = response.get("content", {}).get("application/json")
                if not content or "schema" not in content:
                    continue
                example = deepcopy(given["response"]) if "response" in given else \
                    example_of(content["schema"], components, writing=False)
                if wrap:
                    content["schema"] = wrapped_in_envelope(content["schema"])
                    example = {"success": True, "data": example, "message": ENVELOPE_MESSAGE}
                content.setdefault("example", example)
