"""The transactional outbox: each public event, as the JSON a receiver gets, written in the
transaction of the change that caused it.

A subscriber (inside the emitting transaction) notes the event; just before that transaction
commits, the notes become `outbox_events` rows, after a flush, so that the objects they describe
have their ids and defaults. The rows commit or roll back with the change: nothing is announced for
a change that rolled back, and nothing is lost when Redis or the worker is down at commit time. Once
committed, the relay is nudged (`relay.nudge`); its periodic run catches up with what a nudge missed.
An event type that no active endpoint subscribes to is not written (`subscriptions`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import event as sa_event

from lms.core import events
from lms.core.db import Session, utcnow
from lms.core.extensions import db
from lms.webhooks.models import OutboxEvent
from lms.webhooks.relay import nudge
from lms.webhooks.subscriptions import wanted_event_types

_NOTED = "lms.outbox.noted"  # session.info: the events of this transaction, still to write
_WRITTEN = "lms.outbox.written"  # session.info: this transaction wrote outbox rows


def json_value(value: Any) -> Any:
    """Values as the API writes them: ids as strings, UTC times with `Z`, decimals with two places."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def _fields(row: Any, *names: str, **renamed: str) -> dict[str, Any]:
    """`names` of `row`, and `renamed` ones (`enrollment_id="id"`) under another key."""
    data = {name: json_value(getattr(row, name)) for name in names}
    data.update({key: json_value(getattr(row, attribute)) for key, attribute in renamed.items()})
    return data


ENROLLMENT_FIELDS = ("id", "student_id", "course_id", "status", "progress_percentage", "enrolled_at", "completed_at")
ATTEMPT_FIELDS = ("id", "quiz_id", "enrollment_id", "attempt_number", "score", "max_score", "percentage",
                  "is_passed", "graded_at")
SUBMISSION_FIELDS = ("id", "assignment_id", "enrollment_id", "status", "is_late", "submitted_at")
CERTIFICATE_FIELDS = ("id", "certificate_number", "enrollment_id", "student_id", "course_id", "issued_at",
                      "is_revoked", "revoked_at")

# The `data` of each public event: ids, states and figures, no personal data (a receiver that needs
# a name or an e-mail reads the object through the API).
DATA: dict[str, Callable[..., dict[str, Any]]] = {
    events.ENROLLMENT_CREATED: lambda enrollment, **_: _fields(enrollment, *ENROLLMENT_FIELDS),
    events.ENROLLMENT_COMPLETED: lambda enrollment, **_: _fields(enrollment, *ENROLLMENT_FIELDS),
    events.LESSON_COMPLETED: lambda enrollment, progress, **_: {
        **_fields(progress, "lesson_id", "completed_at"),
        **_fields(enrollment, "student_id", "course_id", enrollment_id="id")},
    events.QUIZ_ATTEMPT_GRADED: lambda attempt, **_: _fields(attempt, *ATTEMPT_FIELDS),
    events.SUBMISSION_CREATED: lambda submission, **_: _fields(submission, *SUBMISSION_FIELDS),
    events.SUBMISSION_GRADED: lambda submission, **_: _fields(submission, *SUBMISSION_FIELDS, "grade", "max_grade",
                                                              "graded_at"),
    events.CERTIFICATE_ISSUED: lambda certificate, **_: _fields(certificate, *CERTIFICATE_FIELDS),
    events.CERTIFICATE_REVOKED: lambda certificate, **_: _fields(certificate, *CERTIFICATE_FIELDS),
    events.COURSE_PUBLISHED: lambda course, **_: _fields(course, "id", "slug", "instructor_id", "is_published"),
    events.COURSE_DELETED: lambda course_id, **_: {"id": json_value(course_id)},
    events.USER_CREATED: lambda user, **_: _fields(user, "id", "role", "is_active", "created_at"),
    events.USER_DEACTIVATED: lambda user, **_: _fields(user, "id", "role", "is_active"),
}
if set(DATA) != set(events.PUBLIC_EVENTS):
    raise RuntimeError("every public event needs its webhook data")


def _note(event_type: str) -> Callable[..., None]:
    def note(**payload: Any) -> None:
        wanted = wanted_event_types()
        if wanted is not None and event_type not in wanted:
            return  # no active endpoint subscribes to it
        db.session.info.setdefault(_NOTED, []).append((event_type, payload, utcnow()))
    return note


for _event_type in events.PUBLIC_EVENTS:
    events.on(_event_type)(_note(_event_type))


@sa_event.listens_for(Session, "before_commit")
def _write_noted_events(session: Session) -> None:
    """Before the transaction commits (not a savepoint's release): the noted events become rows."""
    if session.in_nested_transaction() or not session.info.get(_NOTED):
        return
    session.flush()  # the ids and defaults of the rows the events describe
    for event_type, payload, occurred_at in session.info.pop(_NOTED):
        session.add(OutboxEvent(id=uuid.uuid4(), event_type=event_type, created_at=occurred_at, payload={
            "type": event_type, "timestamp": json_value(occurred_at), "data": DATA[event_type](**payload)}))
    session.info[_WRITTEN] = True


@sa_event.listens_for(Session, "after_commit")
def _nudge_relay(session: Session) -> None:
    if session.info.pop(_WRITTEN, False):
        nudge()


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_noted_events(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_NOTED, None)
        session.info.pop(_WRITTEN, None)
