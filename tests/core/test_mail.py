"""E-mail: SMTP delivery as a job on the `emails` queue, a log dry-run without SMTP (§1.9, §5.24)."""

from __future__ import annotations

import uuid

import pytest
from jinja2 import ChoiceLoader, DictLoader

from lms.core import tasks
from lms.core.mail import deliver_email, send_email
from tests.helpers import work_off

TEMPLATE = "email/probe.txt"


def with_probe_template(application):
    application.jinja_loader = ChoiceLoader([DictLoader({TEMPLATE: "Hello {{ name }},\nToken: {{ token }}\n"}),
                                             application.jinja_loader])
    return application


@pytest.mark.redis
def test_a_mail_job_is_delivered_to_smtp_by_a_worker(make_app, redis_url, mail_outbox, monkeypatch):
    application = with_probe_template(make_app(TASKS_FORCE_INLINE=False, EMAIL_FROM="lms@school.example"))
    monkeypatch.setattr(tasks, "_worker_app", application)
    with application.app_context():
        send_email("learner@example.com", "Welcome to LMS", TEMPLATE, name="Ada", token="abc.def")
    assert mail_outbox.messages == []  # queued, not sent in the request
    work_off(application, "emails")
    [message] = mail_outbox.wait_for(1)
    assert message["From"] == "lms@school.example"
    assert message["To"] == "learner@example.com"
    assert message["Subject"] == "Welcome to LMS"
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert message.get_payload(decode=True).decode().replace("\r\n", "\n") == "Hello Ada,\nToken: abc.def\n"


def test_an_inline_mail_reaches_the_smtp_sink(make_app, mail_outbox):
    application = with_probe_template(make_app())
    with application.app_context():
        send_email("inline@example.com", "Your LMS login verification code", TEMPLATE, name="Bo", token="t")
    [message] = mail_outbox.wait_for(1)
    assert message["To"] == "inline@example.com"
    assert message["Subject"] == "Your LMS login verification code"
    assert message["From"] == application.config["EMAIL_FROM"]


def test_a_retried_mail_job_does_not_send_twice(app, mail_outbox):
    key = str(uuid.uuid4())
    deliver_email("once@example.com", "Once", "body", key)
    deliver_email("once@example.com", "Once", "body", key)
    deliver_email("once@example.com", "Once", "body", str(uuid.uuid4()))
    assert len(mail_outbox.wait_for(2)) == 2
    assert mail_outbox.messages[0]["X-LMS-Message-Key"] == key


def test_without_smtp_host_the_mail_is_written_to_the_log(make_app, mail_outbox, capture_lms_log):
    application = make_app(SMTP_HOST="")
    with application.app_context(), capture_lms_log() as log:
        deliver_email("dry@example.com", "Dry run", "the body", str(uuid.uuid4()))
    assert mail_outbox.messages == []
    [line] = [m for m in log.messages("lms.core.mail") if "dry-run" in m]
    assert "dry@example.com" in line and "Dry run" in line and "the body" in line


def test_a_failed_send_does_not_change_the_answer(make_app, mail_outbox):
    """SMTP down: the inline job fails, is logged, and the caller carries on (§5.24)."""
    from tests.helpers import free_port

    application = with_probe_template(make_app(SMTP_PORT=free_port(), SMTP_TIMEOUT_SECONDS=1))
    with application.app_context():
        send_email("nobody@example.com", "Lost", TEMPLATE, name="X", token="t")
    assert mail_outbox.messages == []
