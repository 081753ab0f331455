"""Webhook endpoints and their delivery log."""

from __future__ import annotations

from urllib.parse import urlsplit

import marshmallow as ma
from flask import current_app

from lms.core import events
from lms.core.pagination import PageQuerySchema
from lms.core.schemas import Boolean, HttpUrl, UTCDateTime, one_of
from lms.webhooks.models import DELIVERY_STATUSES
from lms.webhooks.outbound import RefusedTarget, check_literal_host

EVENT_TYPES = list(events.PUBLIC_EVENTS)
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL_EXAMPLE = "https://sis.example.edu/hooks/lms"


class WebhookUrl(HttpUrl):
    """Where deliveries go: an absolute http(s) URL whose host is not a non-public IP literal or
    `localhost` (unless WEBHOOK_ALLOW_PRIVATE_TARGETS); names are checked after resolution, on
    every delivery."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"example": URL_EXAMPLE}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        url = super()._deserialize(value, attr, data, **kwargs)
        try:
            check_literal_host(urlsplit(url).hostname or "", current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"])
        except RefusedTarget as refusal:
            raise ma.ValidationError(str(refusal)) from refusal
        return url


def _event_types(**kwargs) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=one_of(*EVENT_TYPES), metadata={"enum": EVENT_TYPES}),
        validate=ma.validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"description": "The event types sent to this endpoint (at least one)",
                  "example": ["enrollment.completed", "certificate.issued"]}, **kwargs)


class WebhookEndpointSchema(ma.Schema):
    """A registered endpoint (its secret is shown only when created or rotated)."""

    id = ma.fields.UUID(required=True)
    url = ma.fields.String(required=True, metadata={"format": "uri", "example": URL_EXAMPLE})
    description = ma.fields.String(required=True, allow_none=True)
    events = ma.fields.List(ma.fields.String(metadata={"enum": EVENT_TYPES}), required=True)
    is_active = ma.fields.Boolean(required=True)
    disabled_at = UTCDateTime(required=True, allow_none=True, metadata={
        "description": "When deliveries stopped because every attempt failed for 24 hours (null otherwise)"})
    disabled_reason = ma.fields.String(required=True, allow_none=True)
    previous_secret_expires_at = UTCDateTime(required=True, allow_none=True, metadata={
        "description": "Until when the secret before the last rotation also signs (null: only the current one)"})
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class WebhookEndpointWithSecretSchema(WebhookEndpointSchema):
    """An endpoint with its signing secret: the answer of its creation and of a rotation only."""

    secret = ma.fields.String(required=True, metadata={
        "example": SECRET_EXAMPLE,
        "description": "`whsec_` and the base64 key that signs deliveries (Standard Webhooks); shown only now"})


class WebhookEndpointCreateSchema(ma.Schema):
    url = WebhookUrl(required=True)
    events = _event_types(required=True)
    is_active = Boolean(load_default=True)
    description = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))


class WebhookEndpointUpdateSchema(ma.Schema):
    """Only the fields sent change; `is_active: true` also re-enables an endpoint disabled for failing."""

    url = WebhookUrl()
    events = _event_types()
    is_active = Boolean()
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))


class DeliveryQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=one_of(*DELIVERY_STATUSES), metadata={"enum": list(DELIVERY_STATUSES)})


class WebhookDeliverySchema(ma.Schema):
    """One event sent to one endpoint: its attempts so far and what the last one got."""

    id = ma.fields.UUID(required=True)
    endpoint_id = ma.fields.UUID(required=True)
    event_id = ma.fields.String(required=True, attribute="message_id", metadata={
        "example": "evt_3f2c9a8e1b5d4c7a9e0f1a2b3c4d5e6f",
        "description": "The event's id, sent as `webhook-id` on every attempt"})
    event_type = ma.fields.String(required=True, metadata={"enum": EVENT_TYPES})
    status = ma.fields.String(required=True, metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = ma.fields.Integer(required=True)
    last_status_code = ma.fields.Integer(required=True, allow_none=True, metadata={"example": 500})
    last_error = ma.fields.String(required=True, allow_none=True, metadata={"example": "HTTP 500"})
    last_attempt_at = UTCDateTime(required=True, allow_none=True)
    next_attempt_at = UTCDateTime(required=True, allow_none=True, metadata={
        "description": "When the next attempt is due (null once delivered or failed for good)"})
    delivered_at = UTCDateTime(required=True, allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True, metadata={"description": "Last change (filter lists with `updated_since`)"})
