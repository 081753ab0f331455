"""flask-smorest glue: our Api (error bodies, security schemes), a Blueprint base and path UUIDs."""

from __future__ import annotations

import uuid
from copy import deepcopy
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import abort, current_app, request
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import BaseConverter

from lms.core import errors
from lms.core.apidoc import EXAMPLES_KEY, DocumentationPlugin
from lms.core.http import UNWRAPPED_PATHS, request_json
from lms.core.schemas import Decimal2


class ErrorSchema(ma.Schema):
    """The contract's error body. `detail` is a message, or a list of validation errors."""

    detail = ma.fields.Raw(required=True, metadata={
        "description": 'A message, or for 422 a list of {"loc", "msg", "type"} objects',
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "description": "where: `body`, `query` or `path`, then the field's path",
                            "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string", "description": "the kind of error, e.g. `missing`, `value_error`"},
                }}},
        ]})


# The schema of a response body that is a file (a download), not JSON.
BINARY_BODY = {"type": "string", "format": "binary"}

_OPERATIONS = {"get", "put", "post", "patch", "delete", "head", "options"}

_UNLIMITED_PATHS = ("/health", "/ready")
# Query parameters of the lists in sync mode whose malformed values are a 400 (`lms.core.pagination`).
SYNC_PARAMETERS = frozenset({"updated_since", "after", "since"})

ETAG_HEADER = {"description": "A strong validator of the answer's body: send it back as If-None-Match (reads) "
                              "or If-Match (writes)", "schema": {"type": "string"}}
IF_NONE_MATCH_PARAMETER = {
    "name": "If-None-Match", "required": False, "schema": {"type": "string"},
    "description": "The ETag of an answer read before: 304 Not Modified while it is still the answer"}
IF_MATCH_PARAMETER = {
    "name": "If-Match", "required": False, "schema": {"type": "string"},
    "description": "The ETag of the object as last read (its GET): 412 and no change when it has changed since; "
                   "`*` only asks that it exists"}

# The document's default: an operation needs a bearer access token (or the OAuth2 password flow's,
# the same token). Public operations say `security: []`; optional ones `[{}, bearer, oauth2]`.
BEARER_SECURITY = [{"bearerAuth": []}, {"oauth2Password": []}]
OPTIONAL_BEARER_SECURITY = [{}, *BEARER_SECURITY]

API_DESCRIPTION = """\
A learning-management API: courses and lessons, enrollments and progress, quizzes, assignments,
certificates, files and analytics.

**Authentication.** `POST /auth/login` answers an access token (a JWT, short-lived) and a refresh
token. Send the access token as `Authorization: Bearer <token>`. `POST /auth/refresh` exchanges a
refresh token for a new pair and revokes the access token presented with it; `POST /auth/logout`
revokes the session. Operations marked with no security are public; those that list an empty
requirement next to the bearer scheme work anonymously and answer more to a known caller.

**Errors** are JSON: `{"detail": "..."}`, and for invalid input (422) `{"detail": [{"loc": [...],
"msg": "...", "type": "..."}]}` naming each field. 401 means no or a bad token, 403 a role or
ownership that does not allow the operation, 409 a conflict with existing data, 429 a rate limit,
503 a dependency that is down (retry later). Rate-limited answers carry `X-RateLimit-Limit`,
`X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds) and the IETF `RateLimit-Limit`,
`RateLimit-Remaining`, `RateLimit-Reset` (seconds to wait); a 429 also `Retry-After`.

**Conditional requests.** Every JSON read sends an `ETag`; send it back as `If-None-Match` to get
`304 Not Modified` while nothing changed, or as `If-Match` on a `PATCH`, `PUT` or `DELETE` of the
same URL to get `412 Precondition Failed`, and no change, when someone changed the object since.

**Safe retries.** The creating POSTs take an `Idempotency-Key`: the same key with the same request
within 24 hours answers the first answer again (`Idempotent-Replayed: true`).

**Lists** are paged with `page` and `page_size` (at most 100), answering `items`, `total`, `page`,
`page_size` and `total_pages`; a few lists of the existing API take `skip` and `limit` instead.
"""


def _nullable_reference(_converter, field, ret: dict) -> dict:
    """A nullable nested object as `allOf: [$ref]` with `nullable: true`, which client generators
    read as the referenced type, rather than apispec's `anyOf` with a generic object."""
    alternatives = ret.get("anyOf", [])
    references = [alternative for alternative in alternatives if "$ref" in alternative]
    if isinstance(field, ma.fields.Nested) and field.allow_none and len(references) == 1:
        del ret["anyOf"]
        ret.update({"allOf": references, "nullable": True})
    return {}


def _bounds_and_nulls(_converter, field, ret: dict) -> dict:
    """What apispec leaves out or gets wrong about a field's documented values:
    - a bound that excludes its value (`Range(min=0, min_inclusive=False)`) as `exclusiveMinimum`;
    - a decimal's bounds, which apispec writes as non-standard `x-minimum` on a string, belong to the
      field's own documentation (`Decimal2.documentation`);
    - a field whose null the service refuses (`NULL_REFUSED`) is not nullable."""
    if isinstance(field, Decimal2):
        ret.pop("x-minimum", None)
        ret.pop("x-maximum", None)
    for validator in field.validators:
        if isinstance(validator, ma.validate.Range):
            if "minimum" in ret and validator.min is not None and not validator.min_inclusive:
                ret["exclusiveMinimum"] = True
            if "maximum" in ret and validator.max is not None and not validator.max_inclusive:
                ret["exclusiveMaximum"] = True
    if field.metadata.get("null_refused"):
        ret.pop("nullable", None)
        if "enum" in ret:
            ret["enum"] = [value for value in ret["enum"] if value is not None]
    return {}


def _nullable_enumeration(converter, field, ret: dict) -> dict:
    """A nullable enumeration as a named enum component (`DifficultyLevel`, after the field) or null:
    `anyOf: [$ref, {enum: [null]}]`. Written inline, OpenAPI 3.0.3 needs null among the enum's values
    (`nullable` does not extend an `enum`), and client generators then emit several copies of the
    enum for each field; `allOf: [$ref]` with `nullable` would not admit null at all. This form
    validates null and gives generators one enum type, optional where the field is."""
    if not (ret.get("nullable") and "enum" in ret):
        return {}
    name = field.metadata.get("enum_name") or "".join(part.title() for part in field.name.split("_"))
    enumeration = {"type": ret.pop("type", "string"), "enum": [value for value in ret.pop("enum") if value is not None]}
    schemas = converter.spec.components.schemas
    if name not in schemas:
        converter.spec.components.schema(name, enumeration)
    elif schemas[name] != enumeration:
        raise ValueError(f"two nullable enumerations named {name} differ: name one with metadata enum_name")
    ret.pop("nullable")
    ret["anyOf"] = [{"$ref": f"#/components/schemas/{name}"},
                    {"type": enumeration["type"], "nullable": True, "enum": [None]}]
    return {}


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)

    def register_blueprint(self, blp, *, parameters=None, **options):
        super().register_blueprint(blp, parameters=parameters, **options)
        self._document_app_wide_answers()

    def _document_app_wide_answers(self) -> None:
        """Answers that come from app-wide mechanisms rather than the view, on every operation they
        can reach: 422 for a malformed path UUID, 400/413 for a bad or oversized body (400 also for
        a malformed sync parameter of a list, `lms.core.pagination`), 429 from the
        rate limiter, 503 when the database or the revocation store is down, and the conditional
        requests of `lms.core.conditional` (ETag and 304 on JSON reads, If-Match and 412 on the
        writes of a path that has a read)."""
        for path, path_item in self.spec._paths.items():  # apispec keeps no public view of them
            for method, operation in path_item.items():
                if method not in _OPERATIONS:
                    continue
                self._document_conditional_requests(method, operation, has_read="get" in path_item)
                answers = operation.setdefault("responses", {})
                if "{" in path:
                    answers.setdefault("422", self.spec.components.get_ref("response", "UNPROCESSABLE_ENTITY"))
                if "requestBody" in operation or any(
                        parameter.get("name") in SYNC_PARAMETERS for parameter in operation.get("parameters", [])):
                    answers.setdefault("400", self.spec.components.get_ref("response", "BAD_REQUEST"))
                    answers.setdefault("413", self.spec.components.get_ref("response", "REQUEST_ENTITY_TOO_LARGE"))
                if not path.endswith(_UNLIMITED_PATHS):
                    answers.setdefault("429", self.spec.components.get_ref("response", "TOO_MANY_REQUESTS"))
                answers.setdefault("503", self.spec.components.get_ref("response", "SERVICE_UNAVAILABLE"))
                operation.setdefault("security", [])  # no guard on the view: public

    def _document_conditional_requests(self, method: str, operation: dict, *, has_read: bool) -> None:
        components = self.spec.components
        parameters = operation.setdefault("parameters", [])
        answers = operation.setdefault("responses", {})
        if method == "get" and "application/json" in answers.get("200", {}).get("content", {}):
            if "NOT_MODIFIED" not in components.responses:
                components.response("NOT_MODIFIED", {"description": "Not Modified"})
            answers["200"].setdefault("headers", {})["ETag"] = components.get_ref("header", "ETAG")
            answers.setdefault("304", components.get_ref("response", "NOT_MODIFIED"))
            reference = components.get_ref("parameter", "IF_NONE_MATCH")
            if reference not in parameters:
                parameters.append(reference)
        elif method in ("patch", "put", "delete") and has_read:
            if "PRECONDITION_FAILED" not in components.responses:
                components.response("PRECONDITION_FAILED", {
                    "description": "Precondition Failed: the object changed since the ETag in If-Match was read",
                    "content": {"application/json": {"schema": components.get_ref("schema", "Error")}}})
            answers.setdefault("412", components.get_ref("response", "PRECONDITION_FAILED"))
            reference = components.get_ref("parameter", "IF_MATCH")
            if reference not in parameters:
                parameters.append(reference)

    def _register_pagination_header(self):
        """Not registered: lists page in the body (`lms.core.pagination`), never with flask-smorest's
        `X-Pagination` header, whose schema would be an unused component of the document."""

    def init_app(self, app, *, spec_kwargs=None):
        app.url_map.converters["uuid"] = UUIDConverter
        plugin = DocumentationPlugin(envelope=app.config["API_RESPONSE_ENVELOPE_ENABLED"],
                                     unwrapped_paths=UNWRAPPED_PATHS)
        super().init_app(app, spec_kwargs={**(spec_kwargs or {}), "extra_plugins": [plugin]})
        self.register_converter(UUIDConverter, lambda _converter: {"type": "string", "format": "uuid"})
        self.ma_plugin.converter.add_attribute_function(_nullable_reference)
        self.ma_plugin.converter.add_attribute_function(_bounds_and_nulls)
        self.ma_plugin.converter.add_attribute_function(_nullable_enumeration)
        # flask-smorest's ETag components (registered lazily: kept only where used) say how this app's
        # conditional requests work, If-Match being optional; apispec has no public way to replace them.
        lazy = self.spec.components._subsections_lazy
        lazy["header"]["ETAG"] = ETAG_HEADER
        lazy["parameter"]["IF_NONE_MATCH"] = {"in": "header", **IF_NONE_MATCH_PARAMETER}
        lazy["parameter"]["IF_MATCH"] = {"in": "header", **IF_MATCH_PARAMETER}
        self.spec.options["security"] = BEARER_SECURITY
        self.spec.options["servers"] = [{"url": app.config["PUBLIC_API_BASE_URL"], "description": "this deployment"}]
        self.spec.options.setdefault("info", {})["description"] = API_DESCRIPTION
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        self.spec.components.security_scheme("oauth2Password", {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": f"{app.config['API_V1_PREFIX']}/auth/token", "scopes": {}}},
        })


def answers_with_etag(view):
    """Document a read answered by `lms.core.http.json_response(..., etag=...)`: its ETag header,
    `If-None-Match` and the 304, as flask-smorest documents its own ETag feature (whose runtime,
    which would require `If-Match` on writes, is not used)."""
    view._apidoc = {**deepcopy(getattr(view, "_apidoc", {})), "etag": True}
    return view


class RequestParser(FlaskParser):
    """webargs' Flask parser with the app's input rules.

    - The JSON body is the one `guard_request` parsed and checked (parsed once, strictly).
    - An optional query parameter sent empty (`?difficulty_level=`) is the same as one not sent,
      as the existing API treats it (contract §5.32); a non-empty invalid value stays a 422.
    """

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        return request_json()

    def load_querystring(self, req, schema):
        present = MultiDict((name, value) for name, value in req.args.items(multi=True) if value != "")
        return self._makeproxy(present, schema)


# The app's usual error answers, documented by their components (see `Blueprint.answers`).
ERROR_RESPONSES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
                   413: "REQUEST_ENTITY_TOO_LARGE", 429: "TOO_MANY_REQUESTS", 503: "SERVICE_UNAVAILABLE"}


class Blueprint(flask_smorest.Blueprint):
    """Every module's blueprint. `url_prefix` is relative to the API prefix."""

    ARGUMENTS_PARSER = RequestParser()

    def answers(self, *statuses: int):
        """Document a view's usual error answers in one line: `@blp.answers(400, 403, 404)`."""

        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, response=ERROR_RESPONSES[status])(func)
            return func

        return decorator

    def examples(self, *, request: Any = None, response: Any = None):
        """A route's own request and/or success-answer examples, where the ones built from the
        schemas (`lms.core.apidoc`) would not show what matters."""
        given = {key: value for key, value in (("request", request), ("response", response)) if value is not None}
        return self.doc(**{EXAMPLES_KEY: given})

    def arguments(self, schema, *args, **kwargs):
        """As flask-smorest's, with one schema instance per view: webargs would build one per request.

        A JSON body whose fields are all optional (a partial update) may be left out: the request
        then changes nothing, so the document says `requestBody.required: false`."""
        if isinstance(schema, type):
            schema = schema()
        if kwargs.get("location", "json") == "json" and not any(field.required for field in schema.fields.values()):
            kwargs.setdefault("required", False)
        return super().arguments(schema, *args, **kwargs)


class InvalidPathValue(str):
    """A path segment that should have been a UUID; rejected with 422 before the view runs."""


class UUIDConverter(BaseConverter):
    """Accept any segment so that a malformed UUID is a 422 (contract §1.1), not a routing 404."""

    regex = r"[^/]+"

    def to_python(self, value: str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return InvalidPathValue(value)

    def to_url(self, value) -> str:
        return str(value)


def reject_methods_fixed_paths_lack() -> None:
    """`before_request`, ahead of the access check: a fixed path (`/users/me`) that lacks the
    method is a 405 for every caller, not the 401 or 422 of the id route (`/users/{user_id}`) that
    shadows it; its `Allow` lists only the methods of the routes the path really matches (routing's
    would add the id route's)."""
    if isinstance(request.routing_exception, MethodNotAllowed):
        request.routing_exception.valid_methods = (sorted(_methods_of_fixed_paths())
                                                   or request.routing_exception.valid_methods)
    values = request.view_args
    if values and any(isinstance(value, InvalidPathValue) for value in values.values()):
        other_methods = _methods_of_fixed_paths()
        if other_methods:
            raise MethodNotAllowed(valid_methods=sorted(other_methods))


def reject_invalid_path_values() -> None:
    """`before_request`: a path parameter that failed to parse answers 422."""
    values = request.view_args
    if not values:
        return
    bad = [name for name, value in values.items() if isinstance(value, InvalidPathValue)]
    if bad and request.url_rule is not None:
        detail = [{"loc": ["path", name], "msg": "Input should be a valid UUID", "type": "uuid_parsing"}
                  for name in bad]
        abort(errors.error_response(422, detail))


def _methods_of_fixed_paths() -> set[str]:
    """The methods for which this path matches a route with no unparsable id: a fixed path like
    `/users/me` that an id route (`/users/{user_id}`) shadowed for the request's method."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    methods = set()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        try:
            _rule, values = adapter.match(request.path, method=method, return_rule=True)
        except HTTPException:
            continue
        if not any(isinstance(value, InvalidPathValue) for value in values.values()):
            methods.add(method)
    return methods
