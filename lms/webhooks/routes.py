"""`/webhooks`: endpoints that receive the public events, signed (Standard Webhooks); admins only."""

from __future__ import annotations

from flask.views import MethodView

from lms.core.api import Blueprint
from lms.core.pagination import PageQuerySchema, page_schema
from lms.core.permissions import Role, require_roles
from lms.webhooks import metrics, service  # noqa: F401 - metrics: its collector joins every scrape
from lms.webhooks.schemas import (DeliveryQuerySchema, WebhookDeliverySchema, WebhookEndpointCreateSchema,
                                  WebhookEndpointSchema, WebhookEndpointUpdateSchema,
                                  WebhookEndpointWithSecretSchema)

blp = Blueprint("webhooks", __name__, url_prefix="/webhooks",
                description="Webhooks: signed delivery of events to other systems, delivery log, redelivery")

ADMINS_ONLY = "Only admins can manage webhooks"


@blp.route("")
class WebhookEndpoints(MethodView):
    @blp.doc(operationId="listWebhookEndpoints")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, page_schema(WebhookEndpointSchema))
    @require_roles(Role.ADMIN, message=ADMINS_ONLY)
    def get(self, args):
        """The registered webhook endpoints, newest first (admins).

        Admins only (403 for others). Paged with `page` and `page_size`. Secrets are never listed.
        """
        return service.list_endpoints(args)

    @blp.doc(operationId="createWebhookEndpoint")
    @blp.arguments(WebhookEndpointCreateSchema)
    @blp.response(201, WebhookEndpointWithSecretSchema)
    @require_roles(Role.ADMIN, message=ADMINS_ONLY)
    def post(self, data):
        """Register an endpoint for some event types (admins); the answer shows its secret, once.

        Admins only (403 for others). Each event of the listed types is POSTed to `url` as JSON
        (`{"type", "timestamp", "data"}`) with the Standard Webhooks headers `webhook-id`, `webhook-timestamp`
        and `webhook-signature`, signed with `secret` (`whsec_…`), which this answer alone shows. A URL whose
        host is a private, loopback or link-local address is a 422 (names are checked after resolution on
        every delivery).
        """
        return service.create_endpoint(data)


@blp.route("/<uuid:endpoint_id>")
class WebhookEndpointItem(MethodView):
    @blp.doc(operationId="getWebhookEndpoint")
    @blp.response(200, WebhookEndpointSchema)
    @blp.answers(404)
    @require_roles(Role.ADMIN, message=ADMINS_ONLY)
    def get(self, endpoint_id):
        """One webhook endpoint, without its secret (admins).

        Admins only (403 for others); 404 for an unknown id. `disabled_at` says when deliveries stopped
        because every attempt failed for 24 hours.
        """
        return service.get_endpoint(endpoint_id)

    @blp.doc(operationId="updateWebhookEndpoint")
    @blp.examples(request={"events": ["enrollment.completed"], "is_active": True})
    @blp.arguments(WebhookEndpointUpdateSchema)
    @blp.response(200, WebhookEndpointSchema)
    @blp.answers(404)
    @require_roles(Role.ADMIN, message=ADMINS_ONLY)
    def patch(self, changes, endpoint_id):
        """Change an endpoint's URL, event types, description or active state (admins).

        Admins only (403 for others); 404 for an unknown id. Only the fields sent change. `is_active: true`
        re-enables an endpoint disabled for failing; its pending deliveries are then sent.
        """
        return service.update_endpoint(endpoint_id, changes)

    @blp.doc(operationId="deleteWebhookEndpoint")
    @blp.response(204)
    @blp.answers(404)
    @require_roles(Role.ADMIN, message=ADMINS_ONLY)
    def delete(self, endpoint_id):
        """Delete an endpoint and its delivery log (admins).

        Admins only (403 for others); 404 for an unknown id. Nothing more is sent to it.
        """
        service.delete_endpoint(endpoint_id)


@blp.route("/<uuid:endpoint_id>/rotate-secret")
class WebhookSecretRotation(MethodView):
    @blp.doc(operationId="rotateWebhookSecret")
    @blp.response(200, WebhookEndpointWithSecretSchema)
    @blp.answers(404)
    @require_roles(Role.ADMIN, message=ADMINS_ONLY)
    def post(self, endpoint_id):
        """Replace an endpoint's secret; the old one keeps signing for an overlap (admins).

        Admins only (403 for others); 404 for an unknown id. The answer shows the new secret, once. Until
        `previous_secret_expires_at` (24 hours by default) each delivery carries two signatures in
        `webhook-signature`, one per secret, so a receiver can switch secrets without missing a delivery.
        """
        return service.rotate_secret(endpoint_id)


@blp.route("/<uuid:endpoint_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.doc(operationId="listWebhookDeliveries")
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, page_schema(WebhookDeliverySchema))
    @blp.answers(404)
    @require_roles(Role.ADMIN, message=ADMINS_ONLY)
    def get(self, args, endpoint_id):
        """An endpoint's delivery log, newest first: event, attempts, last status and error, next try (admins).

        Admins only (403 for others); 404 for an unknown endpoint. `status` filters: `pending` (due at
        `next_attempt_at`), `succeeded` or `failed` (every attempt failed: after 5 s, 5 min, 30 min, 2 h, 5 h,
        10 h and 10 h).
        """
        return service.list_deliveries(endpoint_id, args)


@blp.route("/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/redeliver")
class WebhookRedelivery(MethodView):
    @blp.doc(operationId="redeliverWebhook")
    @blp.response(202, WebhookDeliverySchema)
    @blp.answers(404, 409)
    @require_roles(Role.ADMIN, message=ADMINS_ONLY)
    def post(self, endpoint_id, delivery_id):
        """Send a delivery again now, with the same event id and body (admins).

        Admins only (403 for others); 404 for an unknown endpoint or delivery; 409 while the endpoint is
        inactive. The delivery becomes `pending`, due now; the answer is 202 as the attempt happens in the
        background.
        """
        return service.redeliver(endpoint_id, delivery_id)
