"""Domain events: a service announces what happened, the modules that react subscribe.

    events.emit(events.ENROLLMENT_COMPLETED, enrollment=enrollment)

A module never calls up into the modules that react to its news (courses into analytics,
enrollments into certificates); it emits an event, and they subscribe:

    @events.on(events.ENROLLMENT_COMPLETED)                      # inside the emitter's transaction
    def issue_certificate(enrollment, **_): ...

    @events.on(events.ENROLLMENT_CREATED, after_commit=True)     # once that transaction committed
    def refresh_listings(enrollment, **_): ...

A subscriber runs at once, inside the emitting transaction, so the rows it writes commit or roll
back with the change that caused the event. An `after_commit` subscriber (jobs, mails, cache
invalidation: effects that must not happen for a change that rolled back) is queued on the
session and runs when the service commits through `lms.core.db.commit`; a rollback drops it.
Subscribers receive the event's payload as keyword arguments (and should accept more with `**_`,
so that an event may gain fields).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from blinker import Namespace

from lms.core.db import after_commit as run_after_commit

COURSE_CHANGED = "course.changed"  # a course or one of its lessons was written (payload: course_id)
COURSE_PUBLISHED = "course.published"  # a draft became published (payload: course)
COURSE_UNPUBLISHED = "course.unpublished"  # a published course went back to draft (payload: course)
COURSE_DELETED = "course.deleted"  # (payload: course_id), announced before the row is deleted
LESSON_DELETED = "lesson.deleted"  # (payload: course_id, lesson_id), announced before the row is deleted
LESSON_COMPLETED = "lesson.completed"  # a lesson's progress became completed (payload: enrollment, progress)
USER_CREATED = "user.created"  # (payload: user)
USER_DEACTIVATED = "user.deactivated"  # (payload: user)
USER_ACTIVATED = "user.activated"  # (payload: user)
USER_ROLE_CHANGED = "user.role_changed"  # (payload: user, previous_role)
USER_PASSWORD_CHANGED = "user.password_changed"
USER_PASSWORD_RESET = "user.password_reset"  # with a mailed reset token (payload: user)
USER_MFA_ENABLED = "user.mfa_enabled"  # (payload: user)
USER_MFA_DISABLED = "user.mfa_disabled"  # (payload: user)
USER_DATA_EXPORT_REQUESTED = "user.data_export_requested"  # (payload: user, export)
USER_ERASED = "user.erased"  # personal data removed, the account anonymised (payload: user)
LOGIN_SUCCEEDED = "auth.login_succeeded"  # (payload: user)
LOGIN_FAILED = "auth.login_failed"  # (payload: email, user: None for an unknown e-mail, reason)
LOGIN_LOCKED_OUT = "auth.login_locked_out"  # failures crossed the lockout threshold (payload: email, user)
TOKEN_FAMILY_REVOKED = "auth.token_family_revoked"  # (payload: user_id, family_id, reason, actor_id)
ENROLLMENT_CREATED = "enrollment.created"  # (payload: enrollment)
ENROLLMENT_COMPLETED = "enrollment.completed"  # the first completion of an enrollment (payload: enrollment)
ENROLLMENT_REVIEWED = "enrollment.reviewed"
LEARNING_RECORDED = "learning.recorded"  # progress of an enrollment changed (payload: enrollment)
QUIZ_ATTEMPT_GRADED = "quiz_attempt.graded"  # submitted or closed at its time limit (payload: attempt)
SUBMISSION_CREATED = "submission.created"  # (payload: submission)
SUBMISSION_GRADED = "submission.graded"  # each grading, a regrade too (payload: submission, previous_grade)
CERTIFICATE_ISSUED = "certificate.issued"  # (payload: certificate)
CERTIFICATE_REVOKED = "certificate.revoked"  # the first revocation (payload: certificate)
WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint.created"  # (payload: endpoint)
WEBHOOK_ENDPOINT_UPDATED = "webhook_endpoint.updated"  # (payload: endpoint, changes: the fields sent)
WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint.deleted"  # (payload: endpoint), before the row is deleted
WEBHOOK_ENDPOINT_SECRET_ROTATED = "webhook_endpoint.secret_rotated"  # (payload: endpoint)

# The events that leave the process (webhooks): what other systems may subscribe to. The others
# are this application's internal news.
PUBLIC_EVENTS = (
    ENROLLMENT_CREATED, LESSON_COMPLETED, ENROLLMENT_COMPLETED, QUIZ_ATTEMPT_GRADED, SUBMISSION_CREATED,
    SUBMISSION_GRADED, CERTIFICATE_ISSUED, CERTIFICATE_REVOKED, COURSE_PUBLISHED, COURSE_DELETED,
    USER_CREATED, USER_DEACTIVATED,
)

_signals = Namespace()


def on(event: str, *, after_commit: bool = False) -> Callable[[Callable], Callable]:
    """Subscribe the decorated function to `event` (for the life of the process)."""

    def decorator(subscriber: Callable) -> Callable:
        if after_commit:
            def receive(_sender, **payload: Any) -> None:
                run_after_commit(functools.partial(subscriber, **payload))
        else:
            def receive(_sender, **payload: Any) -> None:
                subscriber(**payload)
        _signals.signal(event).connect(receive, weak=False)
        return subscriber

    return decorator


def signal(event: str):
    """The blinker signal behind `event` (e.g. for `signal(...).connected_to(receiver)` in tests)."""
    return _signals.signal(event)


def emit(event: str, **payload: Any) -> None:
    """Announce `event` to its subscribers (see the module docstring for when each runs)."""
    _signals.signal(event).send(None, **payload)
