"""flask-smorest glue: our Api (error bodies, security schemes), a Blueprint base and path UUIDs."""

from __future__ import annotations

import uuid

import flask_smorest
import marshmallow as ma
from flask import abort, request
from werkzeug.routing import BaseConverter

from lms.core import errors


class ErrorSchema(ma.Schema):
    """The contract's error body. `detail` is a message, or a list of validation errors."""

    detail = ma.fields.Raw(required=True, metadata={
        "description": 'A message, or for 422 a list of {"loc", "msg", "type"} objects'})


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)

    def init_app(self, app, *, spec_kwargs=None):
        app.url_map.converters["uuid"] = UUIDConverter
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_converter(UUIDConverter, lambda _converter: {"type": "string", "format": "uuid"})
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        self.spec.components.security_scheme("oauth2Password", {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": f"{app.config['API_V1_PREFIX']}/auth/token", "scopes": {}}},
        })


class Blueprint(flask_smorest.Blueprint):
    """Every module's blueprint. `url_prefix` is relative to the API prefix."""


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


def reject_invalid_path_values(endpoint, values) -> None:
    """`url_value_preprocessor`: a path parameter that failed to parse answers 422."""
    if not values:
        return
    bad = [name for name, value in values.items() if isinstance(value, InvalidPathValue)]
    if bad and request.url_rule is not None:
        detail = [{"loc": ["path", name], "msg": "Input should be a valid UUID", "type": "uuid_parsing"}
                  for name in bad]
        abort(errors.error_response(422, detail))
