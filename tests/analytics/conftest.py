"""Analytics fixtures: a fixed, hand-checked data set built with the models and the shared factories."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from lms.core.db import utcnow
from lms.courses.models import Lesson
from lms.enrollments.models import Enrollment, LessonProgress
from lms.core.extensions import db
from tests.analytics.helpers import attempt, counters, utc_midnight
from tests.helpers import lessons_of


@pytest.fixture
def add_progress(make_progress):
    """`add_progress(enrollment, lesson, seconds=, updated_at=, completed_at=None)`: a lesson completed at
    `completed_at`, or half done without it."""

    def add(enrollment: Enrollment, lesson: Lesson, *, seconds: int, updated_at: datetime,
            completed_at: datetime | None = None) -> LessonProgress:
        return make_progress(enrollment, lesson, status="completed" if completed_at else "in_progress",
                             completed_at=completed_at, time_spent_seconds=seconds, updated_at=updated_at,
                             completion_percentage=Decimal("100" if completed_at else "50"))

    return add


@pytest.fixture
def dataset(make_user, make_course, make_quiz, make_enrollment, add_progress):
    """The fixed data set the analytics expectations in test_figures.py are computed from.

    Instructor `ines` owns courses A (3 lessons), B (2 lessons) and the draft D; `otto` owns C.
    Enrollments (progress, lessons completed/total, seconds, rating):
      e1 stu-A active 33.33 1/3 2400 -     e2 stu-B completed 100 2/2 5400 5
      e3 sam-A completed 100 3/3 9000 4    e4 dee-A dropped 66.67 2/3 600 2
      e5 sam-C active 0 0/1 0 -
    Graded attempts of stu: a1 3/4 (d-2), a2 2/4 (d-2), a3 9/10 (d0), a5 5/10 (one second before
    the 30-day window), a6 10/10 (first second of the window); a4 is in progress.
    """
    ines = make_user("instructor", full_name="Ines Tructor")
    otto = make_user("instructor", full_name="Otto Other")
    stu = make_user("student", full_name="Stu Dent")
    sam = make_user("student", full_name="Sam Second")
    dee = make_user("student", full_name="Dee Dropped")
    admin = make_user("admin", full_name="Ada Min")

    course_a = make_course(ines, lessons=3, title="Course A")
    course_b = make_course(ines, lessons=2, title="Course B")
    course_c = make_course(otto, lessons=1, title="Course C")
    course_d = make_course(ines, lessons=1, title="Course D", published=False)
    a1, a2, a3 = lessons_of(course_a)
    b1, b2 = lessons_of(course_b)
    quiz_a = make_quiz(course_a, lesson=a3)
    quiz_b = make_quiz(course_b, lesson=b2)

    day0, day1, day2 = utc_midnight(0), utc_midnight(1), utc_midnight(2)
    window_start = utc_midnight(29)
    e1 = make_enrollment(stu, course_a, **counters("33.33", 1, 3, 2400), enrolled_at=utcnow() - timedelta(days=10))
    e2 = make_enrollment(stu, course_b, status="completed", **counters("100", 2, 2, 5400), rating=5,
                         enrolled_at=utcnow() - timedelta(days=5))
    e3 = make_enrollment(sam, course_a, status="completed", **counters("100", 3, 3, 9000), rating=4)
    e4 = make_enrollment(dee, course_a, status="dropped", **counters("66.67", 2, 3, 600), rating=2)
    make_enrollment(sam, course_c, total_lessons_count=1)

    add_progress(e1, a1, seconds=1800, completed_at=day2 + timedelta(hours=10), updated_at=day2 + timedelta(hours=10))
    add_progress(e1, a2, seconds=600, updated_at=utc_midnight(40))
    add_progress(e2, b1, seconds=3000, completed_at=day1 + timedelta(hours=9), updated_at=day1 + timedelta(hours=9))
    # Completed just before midnight, time last recorded just after it: two different days.
    add_progress(e2, b2, seconds=2400, completed_at=day1 + timedelta(hours=23, minutes=30),
                 updated_at=day0 + timedelta(minutes=15))
    for lesson in (a1, a2, a3):
        add_progress(e3, lesson, seconds=3000, completed_at=day0 + timedelta(hours=1),
                     updated_at=day0 + timedelta(hours=1))
    add_progress(e4, a1, seconds=600, completed_at=day0 + timedelta(hours=2), updated_at=day0 + timedelta(hours=2))
    add_progress(e4, a2, seconds=0, completed_at=day0 + timedelta(hours=3), updated_at=day0 + timedelta(hours=3))

    attempt(e1, quiz_a, 1, score="3", graded_at=day2 + timedelta(hours=11))
    attempt(e1, quiz_a, 2, score="2", graded_at=day2 + timedelta(hours=12))
    attempt(e1, quiz_a, 3)
    attempt(e2, quiz_b, 1, score="9", max_score="10", graded_at=day0 + timedelta(minutes=5))
    attempt(e2, quiz_b, 2, score="5", max_score="10", graded_at=window_start - timedelta(seconds=1))
    attempt(e2, quiz_b, 3, score="10", max_score="10", graded_at=window_start)
    attempt(e3, quiz_a, 1, score="4", graded_at=day0 + timedelta(hours=1))
    attempt(e4, quiz_a, 1, score="1", graded_at=day0 + timedelta(hours=2))
    db.session.commit()

    return SimpleNamespace(ines=ines, otto=otto, stu=stu, sam=sam, dee=dee, admin=admin,
                           course_a=course_a, course_b=course_b, course_c=course_c, course_d=course_d)
