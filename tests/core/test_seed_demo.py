"""`flask seed-demo`: demo data in bulk that the app takes as if it came through the API (lms.demo)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms.cli import register
from lms.core.db import utcnow
from lms.core.schemas import to_decimal2
from lms.courses.models import Course, Lesson
from lms.demo import DEMO_PASSWORD, TOPICS, DemoSizes, demo_email, plan_demo
from lms.enrollments.models import Enrollment, LessonProgress
from lms.core.extensions import db
from lms.quizzes.grading import answer_key_problem
from lms.quizzes.models import Question, Quiz
from lms.users.models import User
from tests.helpers import API

SEED = 7
SIZES = {"users": 40, "instructors": 4, "courses": 12, "lessons": 60, "enrollments": 80, "progress": 200,
         "quizzes": 3}


@pytest.fixture
def seed_demo(app):
    """`seed_demo(*args)`: run `flask seed-demo` inside the test's transaction."""
    register(app)
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["seed-demo", *args])


def size_args(**sizes: int) -> list[str]:
    return [part for name, value in sizes.items() for part in (f"--{name}", str(value))]


@pytest.fixture
def seeded(seed_demo):
    result = seed_demo(*size_args(**SIZES), "--seed", str(SEED))
    assert result.exit_code == 0, result.output
    return result


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_command_adds_the_requested_rows_and_says_so(seeded):
    assert {model.__tablename__: count(model) for model in (User, Course, Lesson, Quiz, Question, Enrollment,
                                                            LessonProgress)} == {
        "users": 40, "courses": 12, "lessons": 60, "quizzes": 3, "questions": 12, "enrollments": 80,
        "lesson_progress": 200}
    assert Counter(db.session.scalars(select(User.role))) == {"student": 36, "instructor": 4}
    assert "Added 40 users, 12 courses, 60 lessons, 3 quizzes, 12 questions, 80 enrollments, 200 lesson_progress" \
        in seeded.output
    assert "lesson_progress: 200 rows in" in seeded.output


def test_emails_are_lower_case_and_unique_and_slugs_unique(seeded):
    emails = db.session.scalars(select(User.email)).all()
    assert all(email == email.lower() for email in emails) and len(set(emails)) == len(emails)
    slugs = db.session.scalars(select(Course.slug)).all()
    assert len(set(slugs)) == len(slugs)


def test_each_course_numbers_its_lessons_from_one_with_distinct_slugs(seeded):
    lessons = db.session.execute(select(Lesson.course_id, Lesson.order_index, Lesson.slug, Lesson.lesson_type)
                                 .order_by(Lesson.course_id, Lesson.order_index)).all()
    by_course: dict = {}
    for course_id, order_index, slug, lesson_type in lessons:
        by_course.setdefault(course_id, []).append((order_index, slug, lesson_type))
    for rows in by_course.values():
        assert [order for order, _, _ in rows] == list(range(1, len(rows) + 1))
        assert len({slug for _, slug, _ in rows}) == len(rows)
    assert {lesson_type for *_, lesson_type in lessons} <= {"video", "text", "quiz"}


def test_courses_mix_categories_and_levels_and_most_are_published(seeded):
    courses = db.session.scalars(select(Course)).all()
    assert len({course.category for course in courses}) > 1
    assert len({course.difficulty_level for course in courses}) > 1
    assert sum(course.is_published for course in courses) > len(courses) / 2
    instructors = set(db.session.scalars(select(User.id).where(User.role == "instructor")))
    assert {course.instructor_id for course in courses} <= instructors


def test_students_enroll_once_per_published_course(seeded):
    rows = db.session.execute(select(Enrollment.student_id, Course.is_published, User.role)
                              .join(Course, Course.id == Enrollment.course_id)
                              .join(User, User.id == Enrollment.student_id)).all()
    assert len({student for student, _, _ in rows}) > 1
    assert all(published and role == "student" for _, published, role in rows)


def test_every_progress_row_is_for_a_lesson_of_its_enrollments_course(seeded):
    outside = db.session.scalar(
        select(func.count()).select_from(LessonProgress)
        .join(Enrollment, Enrollment.id == LessonProgress.enrollment_id)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(Lesson.course_id != Enrollment.course_id))
    assert outside == 0


def test_enrollment_figures_are_those_of_their_progress_rows(seeded):
    lessons_per_course = Counter(db.session.scalars(select(Lesson.course_id)))
    progress: dict = {}
    for row in db.session.scalars(select(LessonProgress)):
        progress.setdefault(row.enrollment_id, []).append(row)
    statuses = Counter()
    for enrollment in db.session.scalars(select(Enrollment)):
        rows = progress.get(enrollment.id, [])
        total = lessons_per_course[enrollment.course_id]
        done = [row for row in rows if row.status == "completed"]
        finished = total > 0 and len(done) == total
        assert enrollment.total_lessons_count == total
        assert enrollment.completed_lessons_count == len(done)
        assert enrollment.progress_percentage == (to_decimal2(Decimal(len(done)) * 100 / total) if total else 0)
        assert enrollment.total_time_spent_seconds == sum(row.time_spent_seconds for row in rows)
        assert enrollment.status == ("completed" if finished else "active")
        assert enrollment.completed_at == (max(row.completed_at for row in done) if finished else None)
        assert enrollment.last_accessed_at == max((row.updated_at for row in rows), default=None)
        statuses[enrollment.status] += 1
    assert statuses["active"] and statuses["completed"]


def test_dates_follow_each_other_up_to_now(seeded):
    now = utcnow()
    rows = db.session.execute(
        select(User.created_at, Course.created_at, Enrollment.enrolled_at, LessonProgress.started_at,
               LessonProgress.updated_at)
        .join(Enrollment, Enrollment.id == LessonProgress.enrollment_id)
        .join(Course, Course.id == Enrollment.course_id)
        .join(User, User.id == Enrollment.student_id)).all()
    assert rows and all(joined < created < enrolled <= started <= touched <= now
                        for joined, created, enrolled, started, touched in rows)


def test_quizzes_are_published_graded_on_a_quiz_lesson_with_sound_questions(seeded):
    for quiz in db.session.scalars(select(Quiz)):
        lesson = db.session.get(Lesson, quiz.lesson_id)
        last = db.session.scalar(select(func.max(Lesson.order_index)).where(Lesson.course_id == quiz.course_id))
        assert (quiz.is_published, quiz.quiz_type, lesson.lesson_type) == (True, "graded", "quiz")
        assert (lesson.course_id, lesson.order_index) == (quiz.course_id, last)
        questions = db.session.scalars(select(Question).where(Question.quiz_id == quiz.id)).all()
        assert [answer_key_problem(q.question_type, q.options, q.correct_answer) for q in questions] == [None] * 4
    quiz_lesson_done = select(func.count()).select_from(LessonProgress).join(
        Quiz, Quiz.lesson_id == LessonProgress.lesson_id).where(LessonProgress.status == "completed")
    assert db.session.scalar(quiz_lesson_done) == 0  # only a passed attempt completes a quiz lesson


def test_a_seeded_user_logs_in_with_the_demo_password(seeded, client):
    response = client.post(f"{API}/auth/login", json={"email": demo_email(SEED, "student", 1),
                                                       "password": DEMO_PASSWORD})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user"]["role"] == "student"


def test_catalog_search_finds_the_seeded_courses_that_name_the_word(seeded, client):
    published = db.session.scalars(select(Course).where(Course.is_published.is_(True))).all()
    word = next(topic.lower() for topics in TOPICS.values() for topic in topics if topic in published[0].title)
    expected = {course.title for course in published
                if word in course.title.lower() or word in course.description.lower()}
    assert 0 < len(expected) < len(published)

    response = client.get(f"{API}/courses", query_string={"search": word, "page_size": 100})

    assert response.status_code == 200
    assert {course["title"] for course in response.get_json()["items"]} == expected


def test_a_seed_already_used_is_refused_with_exit_code_1(seeded, seed_demo):
    result = seed_demo(*size_args(**SIZES), "--seed", str(SEED))

    assert result.exit_code == 1
    assert f"seed {SEED} was already used" in result.output
    assert count(User) == 40


def test_counts_beyond_what_the_data_holds_are_lowered_with_a_note(seed_demo):
    result = seed_demo(*size_args(users=3, instructors=1, courses=1, lessons=2, enrollments=50, progress=500),
                       "--seed", "1")  # its one course is published

    assert result.exit_code == 0, result.output
    assert "note: enrollments: 50 asked, 2 possible" in result.output
    assert (count(Enrollment), count(LessonProgress)) == (2, 4)


def test_the_same_seed_plans_the_same_data():
    sizes = DemoSizes(**SIZES)
    now = utcnow()
    first, second = plan_demo(sizes, SEED, now), plan_demo(sizes, SEED, now)

    assert first.enrollments == second.enrollments
    assert [course.lessons for course in first.courses] == [course.lessons for course in second.courses]
