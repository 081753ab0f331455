"""Assignment fixtures: assignments and submissions built with the models, and a world of who is who."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from lms.assignments.models import Assignment, Submission
from lms.core.db import utcnow
from lms.courses.models import Course
from lms.enrollments.models import Enrollment
from lms.extensions import db


@pytest.fixture
def make_assignment():
    """`make_assignment(course, published=True, **fields)`; published means status and flag both set."""

    def factory(course: Course, *, published: bool = True, **fields) -> Assignment:
        values = {"title": f"Assignment {uuid.uuid4().hex[:8]}", "max_points": 10,
                  "status": "published" if published else "draft", "is_published": published, **fields}
        assignment = Assignment(course_id=course.id, instructor_id=course.instructor_id, **values)
        db.session.add(assignment)
        db.session.commit()
        return assignment

    return factory


@pytest.fixture
def make_submission():
    def factory(assignment: Assignment, enrollment: Enrollment, **fields) -> Submission:
        submission = Submission(assignment_id=assignment.id, enrollment_id=enrollment.id, submitted_at=utcnow(),
                                status="submitted", content="My answer", **fields)
        db.session.add(submission)
        db.session.commit()
        return submission

    return factory


@pytest.fixture
def world(make_user, make_course, make_enrollment, make_assignment):
    """Who is who: `owner` teaches `course` (published) and `draft_course`; `stranger` teaches `other_course`.

    `learner` and `peer` are enrolled in `course`; `outsider` is not enrolled anywhere; `dropout` has a
    dropped enrollment. `assignment` is open to students, `draft` is not.
    """
    owner = make_user("instructor", full_name="Owen Owner")
    stranger = make_user("instructor", full_name="Stan Stranger")
    admin = make_user("admin")
    learner = make_user("student", full_name="Lea Learner")
    peer = make_user("student", full_name="Pete Peer")
    outsider = make_user("student")
    dropout = make_user("student")
    course = make_course(owner)
    draft_course = make_course(owner, published=False)
    other_course = make_course(stranger)
    return SimpleNamespace(
        owner=owner, stranger=stranger, admin=admin, learner=learner, peer=peer, outsider=outsider,
        dropout=dropout, course=course, draft_course=draft_course, other_course=other_course,
        enrollment=make_enrollment(learner, course), peer_enrollment=make_enrollment(peer, course),
        dropped_enrollment=make_enrollment(dropout, course, status="dropped"),
        assignment=make_assignment(course, title="Essay on testing"),
        draft=make_assignment(course, published=False, title="Unfinished"),
    )
