"""E-mail: plain-text messages sent over SMTP as jobs on the `emails` queue (contract §1.9, §5.24).

With no `SMTP_HOST` the message is written to the log instead ("dry-run"). Each message carries an
idempotency key so that a retried job does not send it twice.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage

from flask import current_app, render_template

from lms.core.state import state_store
from lms.core.tasks import enqueue

log = logging.getLogger(__name__)

SENT_MARKER_TTL_SECONDS = 7 * 24 * 3600


def send_email(to: str, subject: str, template: str, **context) -> None:
    """Render `lms/templates/<template>` and queue the message."""
    body = render_template(template, **context)
    enqueue(deliver_email, to, subject, body, str(uuid.uuid4()), queue="emails")


def build_message(to: str, subject: str, body: str, message_key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["EMAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["X-LMS-Message-Key"] = message_key
    message.set_content(body)
    return message


def deliver_email(to: str, subject: str, body: str, message_key: str) -> None:
    """The job: send one message unless this key was already sent."""
    config = current_app.config
    marker = f"mail:sent:{message_key}"
    sent = state_store(fail_closed=False)
    if sent.get(marker):
        log.info("mail %s already sent, skipping", message_key)
        return
    message = build_message(to, subject, body, message_key)
    if not config["SMTP_HOST"]:
        log.info("mail dry-run (no SMTP_HOST): to=%s subject=%r\n%s", to, subject, body)
    else:
        _send_smtp(message)
    sent.set(marker, "1", SENT_MARKER_TTL_SECONDS)


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT_SECONDS"]
    if config["SMTP_USE_SSL"]:
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if config["SMTP_USE_TLS"] and not config["SMTP_USE_SSL"]:
            client.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        client.send_message(message)
