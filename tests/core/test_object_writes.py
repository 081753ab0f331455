"""`insert_object` and `update_object`: one object written at once with a Core statement, and left in
the session as the unit of work leaves a flushed one."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import delete, inspect, select
from sqlalchemy.orm.exc import StaleDataError

from lms.core.db import insert_object, update_object, utcnow
from lms.core.extensions import db
from lms.courses.models import Course
from lms.enrollments.models import Enrollment, LessonProgress
from tests.helpers import lessons_of


@pytest.fixture
def enrollment(student, instructor, make_course, make_enrollment):
    return make_enrollment(student, make_course(instructor, lessons=1))


def stored_row(model, object_id):
    return db.session.execute(select(model.__table__).where(model.__table__.c.id == object_id)).one()._asdict()


def new_progress(enrollment, **fields):
    now = utcnow()
    [lesson] = lessons_of(db.session.get(Course, enrollment.course_id))
    return LessonProgress(**{"id": uuid.uuid4(), "enrollment_id": enrollment.id, "lesson_id": lesson.id,
                             "status": "in_progress", "started_at": now, "time_spent_seconds": 5,
                             "last_position_seconds": 3, "completion_percentage": Decimal("12.00"),
                             "created_at": now, "updated_at": now, **fields})


def test_an_inserted_object_is_stored_and_persistent_with_nothing_to_flush(enrollment):
    progress = new_progress(enrollment)

    insert_object(progress)

    state = inspect(progress)
    assert state.persistent and not state.modified and progress not in db.session.new
    assert db.session.get(LessonProgress, progress.id) is progress
    row = stored_row(LessonProgress, progress.id)
    assert row["completion_percentage"] == Decimal("12.00") and row["status"] == "in_progress"
    assert progress.completed_at is None and progress.notes is None  # unset: stored NULL, read without SQL
    assert row["completed_at"] is None and row["notes"] is None


def test_an_object_missing_a_column_with_a_default_is_refused(enrollment):
    progress = new_progress(enrollment)
    del progress.updated_at

    with pytest.raises(ValueError, match="updated_at"):
        insert_object(progress)


def test_an_update_is_stored_and_recorded_with_its_updated_at(enrollment):
    before = enrollment.updated_at

    update_object(enrollment, {"completed_lessons_count": 1, "progress_percentage": Decimal("50.00")})

    assert not inspect(enrollment).modified and enrollment not in db.session.dirty
    assert enrollment.completed_lessons_count == 1 and enrollment.updated_at > before
    row = stored_row(Enrollment, enrollment.id)
    assert (row["completed_lessons_count"], row["progress_percentage"], row["updated_at"]) == (
        1, Decimal("50.00"), enrollment.updated_at)


def test_a_later_change_through_the_orm_is_flushed_as_usual(enrollment):
    update_object(enrollment, {"completed_lessons_count": 1})
    issued_at = utcnow()

    enrollment.certificate_issued_at = issued_at
    db.session.flush()

    row = stored_row(Enrollment, enrollment.id)
    assert (row["completed_lessons_count"], row["certificate_issued_at"]) == (1, issued_at)


def test_updating_a_row_that_is_gone_fails_as_a_flush_would(enrollment):
    db.session.execute(delete(Enrollment.__table__).where(Enrollment.__table__.c.id == enrollment.id))

    with pytest.raises(StaleDataError):
        update_object(enrollment, {"completed_lessons_count": 1})
