"""Webhooks: the transactional outbox of public domain events, signed delivery to the endpoints
admins register, the delivery log and redelivery."""
