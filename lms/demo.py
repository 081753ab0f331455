"""`flask seed-demo`: add demo data to the configured database (PostgreSQL or SQLite), in bulk.

    flask seed-demo --users 100000 --courses 10000 --lessons 100000 --enrollments 200000 \\
                    --progress 1000000 [--instructors 1000] [--quizzes 2000] [--seed 42]

adds, next to whatever the database holds:

- `--users` accounts, `--instructors` of them instructors (default users/100) and the rest students,
  all active and verified, with e-mails `demo-<seed>-<role>-<n>@example.com` and the one password
  `DEMO_PASSWORD` (hashed once with the app's bcrypt settings, not once per user);
- `--courses` courses of those instructors, nine in ten published, in several categories and
  difficulty levels, with titles and descriptions made of `TOPICS` and a few other words, so that a
  catalog search for a topic ("python", "guitar"...) finds some;
- `--lessons` lessons spread over the courses (unique `order_index` 1, 2, … per course), video or
  text; the first lesson of each course is a preview;
- `--quizzes` published graded quizzes (at most one per course, on its last lesson, of type
  `quiz`), each with `QUESTIONS_PER_QUIZ` questions of the gradable types;
- `--enrollments` enrollments of the students in published courses (popular courses get more),
  each (student, course) pair at most once;
- `--progress` lesson-progress rows spread over the enrollments, each learner going through the
  course's lessons in order. Every enrollment's figures (lessons completed and total, percentage,
  time spent, last access, status `completed` with `completed_at` once every lesson is done) are
  those its progress rows give, as the API computes them. A lesson with a graded quiz is completed
  by passing the quiz, so its progress row stays `in_progress` (no attempts are seeded) and the
  enrollments of those courses stay active. Some enrollments past 20 % carry a review.

Counts that the rest cannot hold are lowered (enrollments to students × published courses,
progress to the lessons of the enrolled courses, quizzes to the published courses with lessons)
and the output says so. No certificates, quiz attempts, assignments, files or tokens are made.

The data comes from `random.Random(seed)`: the same seed gives the same rows (timestamps are
relative to the time of the run). Without `--seed` a random one is drawn and printed. A seed names
the run's e-mails and slugs, so a seed already used in this database is refused.

It is fast because it writes `BATCH_ROWS` rows per statement with one commit per batch and no ORM
object per row: on PostgreSQL with `COPY … FROM STDIN`, elsewhere with a Core `insert(table)`
executemany. It prints a progress bar and the time taken per table. The full size above takes about
80 s on two busy cores with PostgreSQL 15; with executemany (SQLAlchemy's multi-row INSERTs, whose
per-value binding dominates) it took 230 s, 170 s of them for the million progress rows.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import secrets
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import click
from sqlalchemy import Table, insert, select

from lms.core.db import utcnow
from lms.core.schemas import to_decimal2
from lms.core.security import hash_password
from lms.courses.models import DIFFICULTY_LEVELS, Course, Lesson
from lms.courses.service import slugify
from lms.enrollments.models import Enrollment, LessonProgress
from lms.enrollments.service import REVIEW_THRESHOLD
from lms.core.extensions import db
from lms.quizzes.models import Question, Quiz
from lms.users.models import User

DEMO_PASSWORD = "Demo-password-1"
BATCH_ROWS = 5000
QUESTIONS_PER_QUIZ = 4
PUBLISHED_SHARE = 0.9
REVIEW_SHARE = 0.3

# Each course teaches one topic of its category; its title and description name the topic.
TOPICS = {
    "programming": ("Python", "JavaScript", "Rust", "Go", "SQL", "Kubernetes"),
    "data-science": ("Machine Learning", "Statistics", "Data Visualization", "Pandas"),
    "design": ("Typography", "Photoshop", "Figma", "Color Theory"),
    "business": ("Accounting", "Negotiation", "Project Management", "Leadership"),
    "marketing": ("SEO", "Copywriting", "Social Media", "Email Marketing"),
    "languages": ("Spanish", "Japanese", "German", "French"),
    "music": ("Guitar", "Piano", "Music Theory", "Songwriting"),
    "photography": ("Portrait Photography", "Lightroom", "Street Photography"),
    "health": ("Nutrition", "Yoga", "Running"),
}
TITLE_OPENINGS = ("Practical", "Complete", "Modern", "Essential", "Hands-on", "Applied", "Fundamentals of")
TITLE_ENDINGS = ("Bootcamp", "Masterclass", "for Beginners", "in 30 Days", "Workshop", "from Scratch")
SKILLS = ("the core concepts", "real-world projects", "best practices", "common pitfalls", "testing your work",
          "working in a team", "performance tuning", "the tools professionals use")
LESSON_SUBJECTS = ("Introduction", "Setting up", "Core concepts", "A first project", "Going further",
                   "Common mistakes", "Case study", "Practice session", "Review and next steps")
FIRST_NAMES = ("Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
               "Radia", "Guido", "Katherine", "Tim", "Hedy", "John", "Sophie", "Niklaus", "Anita", "Donald")
LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen",
              "Dijkstra", "Perlman", "van Rossum", "Johnson", "Berners-Lee", "Lamarr", "McCarthy", "Wilson",
              "Wirth", "Borg", "Knuth")
REVIEWS = {1: "Not what I expected at all.", 2: "Some good parts, too slow overall.",
           3: "A decent course, worth the time.", 4: "Clear explanations and useful exercises.",
           5: "Excellent course, I recommend it to everyone."}


# --- the plan: ids, relations and counts, decided before any row is written --------------------

@dataclass(frozen=True, slots=True)
class LessonPlan:
    id: uuid.UUID
    order_index: int
    lesson_type: str
    duration_minutes: int
    created_at: datetime


@dataclass(slots=True)
class CoursePlan:
    id: uuid.UUID
    number: int
    instructor_id: uuid.UUID
    category: str
    topic: str
    title: str
    created_at: datetime
    is_published: bool
    lessons: list[LessonPlan] = field(default_factory=list)
    quiz_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class EnrollmentPlan:
    id: uuid.UUID
    student_id: uuid.UUID
    course: CoursePlan
    enrolled_at: datetime
    lessons_done: int  # progress rows: the course's first `lessons_done` lessons
    seed: int  # of the progress rows' values, generated twice (figures, then rows) and identical


@dataclass
class DemoPlan:
    seed: int
    now: datetime
    instructor_ids: list[uuid.UUID]
    student_ids: list[uuid.UUID]
    courses: list[CoursePlan]
    enrollments: list[EnrollmentPlan]
    notes: list[str]

    @property
    def quiz_courses(self) -> list[CoursePlan]:
        return [course for course in self.courses if course.quiz_id is not None]


def new_id(rng: random.Random) -> uuid.UUID:
    """A random (version 4) UUID drawn from `rng`, so that a seed gives the same ids."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def demo_email(seed: int, role: str, number: int) -> str:
    return f"demo-{seed}-{role}-{number}@example.com"


def spread(total: int, capacities: Sequence[int], rng: random.Random) -> list[int]:
    """`total` split over slots at random around the mean, each at most its capacity; the counts sum
    to min(total, sum(capacities)) exactly."""
    target = min(total, sum(capacities))
    if not capacities:
        return []
    mean = target / len(capacities)
    counts = [min(capacity, round(rng.uniform(0, 2 * mean))) for capacity in capacities]
    missing = target - sum(counts)
    slots = list(range(len(capacities)))
    while missing:
        rng.shuffle(slots)
        step = 1 if missing > 0 else -1
        for slot in slots:
            if missing and 0 <= counts[slot] + step <= capacities[slot]:
                counts[slot] += step
                missing -= step
    return counts


def plan_courses(rng: random.Random, count: int, instructor_ids: list[uuid.UUID], now: datetime) -> list[CoursePlan]:
    courses = []
    for number in range(1, count + 1):
        category = rng.choice(tuple(TOPICS))
        topic = rng.choice(TOPICS[category])
        courses.append(CoursePlan(
            id=new_id(rng), number=number, instructor_id=rng.choice(instructor_ids), category=category,
            topic=topic, title=f"{rng.choice(TITLE_OPENINGS)} {topic} {rng.choice(TITLE_ENDINGS)}",
            created_at=now - timedelta(days=rng.uniform(2, 365)), is_published=rng.random() < PUBLISHED_SHARE))
    return courses


def plan_lessons(rng: random.Random, courses: list[CoursePlan], count: int) -> None:
    """Give each course its lessons; a course to be quizzed ends with a `quiz` lesson."""
    for course, lessons in zip(courses, spread(count, [count] * len(courses), rng)):
        course.lessons = [
            LessonPlan(id=new_id(rng), order_index=order, lesson_type=rng.choice(("video", "video", "text")),
                       duration_minutes=rng.randint(3, 30), created_at=course.created_at + timedelta(minutes=order))
            for order in range(1, lessons + 1)]


def plan_quizzes(rng: random.Random, courses: list[CoursePlan], count: int, notes: list[str]) -> None:
    """Quiz the last lesson of `count` published courses that have lessons."""
    candidates = [course for course in courses if course.is_published and course.lessons]
    if count > len(candidates):
        notes.append(f"quizzes: {count} asked, {len(candidates)} published courses with lessons")
    for course in rng.sample(candidates, min(count, len(candidates))):
        last = course.lessons[-1]
        course.lessons[-1] = LessonPlan(last.id, last.order_index, "quiz", last.duration_minutes, last.created_at)
        course.quiz_id = new_id(rng)


def enrollment_pairs(rng: random.Random, students: int, courses: int, count: int) -> list[tuple[int, int]]:
    """`count` distinct (student, course) index pairs; popular courses (a heavy-tailed weight each)
    get more students. A dense request is sampled uniformly instead, which needs no retries."""
    if count * 2 > students * courses:
        return [divmod(pair, courses) for pair in rng.sample(range(students * courses), count)]
    weights = list(itertools.accumulate(rng.paretovariate(1.5) for _ in range(courses)))
    pairs: dict[tuple[int, int], None] = {}
    while len(pairs) < count:
        need = count - len(pairs)
        for course in rng.choices(range(courses), cum_weights=weights, k=need):
            pairs.setdefault((rng.randrange(students), course))
    return list(pairs)


def plan_enrollments(rng: random.Random, plan: DemoPlan, count: int, progress: int) -> list[EnrollmentPlan]:
    published = [course for course in plan.courses if course.is_published]
    possible = len(plan.student_ids) * len(published)
    if count > possible:
        plan.notes.append(f"enrollments: {count} asked, {possible} possible (students × published courses)")
    pairs = enrollment_pairs(rng, len(plan.student_ids), len(published), min(count, possible))
    chosen = [published[course] for _, course in pairs]
    lessons_done = spread(progress, [len(course.lessons) for course in chosen], rng)
    if progress > sum(lessons_done):
        plan.notes.append(f"progress: {progress} asked, {sum(lessons_done)} lessons in the enrolled courses")
    return [
        EnrollmentPlan(id=new_id(rng), student_id=plan.student_ids[student], course=course,
                       enrolled_at=course.created_at + (plan.now - course.created_at) * rng.uniform(0.3, 1.0),
                       lessons_done=done, seed=rng.getrandbits(64))
        for (student, _), course, done in zip(pairs, chosen, lessons_done)]


@dataclass(frozen=True)
class DemoSizes:
    users: int
    instructors: int
    courses: int
    lessons: int
    enrollments: int
    progress: int
    quizzes: int


def plan_demo(sizes: DemoSizes, seed: int, now: datetime) -> DemoPlan:
    rng = random.Random(seed)
    instructor_ids = [new_id(rng) for _ in range(sizes.instructors)]
    student_ids = [new_id(rng) for _ in range(sizes.users - sizes.instructors)]
    plan = DemoPlan(seed=seed, now=now, instructor_ids=instructor_ids, student_ids=student_ids,
                    courses=plan_courses(rng, sizes.courses, instructor_ids, now), enrollments=[], notes=[])
    plan_lessons(rng, plan.courses, sizes.lessons)
    plan_quizzes(rng, plan.courses, sizes.quizzes, plan.notes)
    plan.enrollments = plan_enrollments(rng, plan, sizes.enrollments, sizes.progress)
    return plan


# --- rows ----------------------------------------------------------------------------------------

def user_rows(plan: DemoPlan, password_hash: str) -> Iterator[dict[str, Any]]:
    """Users join a year or more before any course exists, so every later date follows theirs."""
    rng = random.Random(f"{plan.seed}:users")
    for role, ids in (("instructor", plan.instructor_ids), ("student", plan.student_ids)):
        for number, user_id in enumerate(ids, start=1):
            joined = plan.now - timedelta(days=rng.uniform(366, 1095))
            yield {"id": user_id, "email": demo_email(plan.seed, role, number),
                   "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "role": role,
                   "password_hash": password_hash, "is_active": True, "mfa_enabled": False,
                   "email_verified_at": joined + timedelta(minutes=rng.randint(1, 120)),
                   "created_at": joined, "updated_at": joined}


def course_rows(plan: DemoPlan) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{plan.seed}:courses")
    for course in plan.courses:
        skills = rng.sample(SKILLS, 3)
        yield {"id": course.id, "title": course.title,
               "slug": f"{slugify(course.title)}-s{plan.seed}-{course.number}",
               "description": f"Learn {course.topic} step by step: {skills[0]}, {skills[1]} and {skills[2]}.",
               "instructor_id": course.instructor_id, "category": course.category,
               "difficulty_level": rng.choices(DIFFICULTY_LEVELS, weights=(5, 3, 2))[0],
               "is_published": course.is_published,
               "estimated_duration_minutes": sum(lesson.duration_minutes for lesson in course.lessons),
               "created_at": course.created_at, "updated_at": course.created_at}


def lesson_rows(plan: DemoPlan) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{plan.seed}:lessons")
    for course in plan.courses:
        for lesson in course.lessons:
            subject = "Final quiz" if lesson.lesson_type == "quiz" else rng.choice(LESSON_SUBJECTS)
            title = f"Lesson {lesson.order_index}: {subject}"
            yield {"id": lesson.id, "course_id": course.id, "title": title, "slug": slugify(title),
                   "description": f"{subject} in {course.topic}.",
                   "content": (f"{subject}: {rng.choice(SKILLS)} in {course.topic}."
                               if lesson.lesson_type == "text" else None),
                   "lesson_type": lesson.lesson_type, "order_index": lesson.order_index,
                   "duration_minutes": lesson.duration_minutes,
                   "video_url": (f"https://videos.example.com/{course.id}/{lesson.order_index}.mp4"
                                 if lesson.lesson_type == "video" else None),
                   "is_preview": lesson.order_index == 1,
                   "created_at": lesson.created_at, "updated_at": lesson.created_at}


def quiz_rows(plan: DemoPlan) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{plan.seed}:quizzes")
    for course in plan.quiz_courses:
        lesson = course.lessons[-1]
        yield {"id": course.quiz_id, "course_id": course.id, "lesson_id": lesson.id,
               "title": f"{course.topic} final quiz", "description": f"Check what you learned about {course.topic}.",
               "quiz_type": "graded", "time_limit_minutes": rng.choice((None, 15, 30)),
               "passing_score": Decimal("70.00"), "max_attempts": rng.choice((None, 3)),
               "shuffle_questions": True, "shuffle_options": True, "show_correct_answers": True,
               "is_published": True, "created_at": lesson.created_at, "updated_at": lesson.created_at}


def question_rows(plan: DemoPlan) -> Iterator[dict[str, Any]]:
    """Questions whose answer keys follow `lms.quizzes.grading.answer_key_problem`."""
    rng = random.Random(f"{plan.seed}:questions")
    for course in plan.quiz_courses:
        created = course.lessons[-1].created_at
        for order, (kind, text, options, answer, points) in enumerate(quiz_questions(rng, course.topic), start=1):
            yield {"id": new_id(rng), "quiz_id": course.quiz_id, "question_text": text, "question_type": kind,
                   "points": points, "options": options, "correct_answer": answer, "order_index": order,
                   "created_at": created, "updated_at": created}


def quiz_questions(rng: random.Random, topic: str) -> list[tuple]:
    """QUESTIONS_PER_QUIZ (type, text, options, correct answer, points) about `topic`."""

    def choice_options(correct: str, wrong: Sequence[str]) -> list[dict[str, Any]]:
        texts = [correct, *wrong]
        rng.shuffle(texts)
        return [{"option_id": f"option-{number}", "option_text": text, "is_correct": text == correct}
                for number, text in enumerate(texts, start=1)]

    return [
        ("multiple_choice", f"Which habit helps most when learning {topic}?",
         choice_options("Regular practice", ("Skipping the exercises", "Reading only the titles",
                                             "Never asking questions")), None, Decimal("1.00")),
        ("true_false", f"This course is about {topic}.", None, "true", Decimal("1.00")),
        ("short_answer", "Name the subject of this course.", None, topic.lower(), Decimal("2.00")),
        ("multiple_choice", f"What does a {topic} project start with?",
         choice_options("A clear goal", ("A finished product", "A certificate")), None, Decimal("1.00")),
    ]


def progress_rows_of(enrollment: EnrollmentPlan, now: datetime) -> list[dict[str, Any]]:
    """The enrollment's progress rows: its first lessons in order, spread between enrollment and now.

    All are completed but the last, which may be in progress; a quiz lesson stays in progress (it
    completes with a passed attempt). Drawn from the enrollment's own seed, so both callers (its
    figures, then its rows) get identical rows.
    """
    rng = random.Random(enrollment.seed)
    lessons = enrollment.course.lessons[:enrollment.lessons_done]
    finishes_course = len(lessons) == len(enrollment.course.lessons)
    step = (now - enrollment.enrolled_at) / (len(lessons) + 1)
    rows = []
    for position, lesson in enumerate(lessons):
        started_at = enrollment.enrolled_at + step * (position + rng.random() / 2)
        last_activity = started_at + step * (rng.random() / 2)
        is_last = position == len(lessons) - 1
        completed = lesson.lesson_type != "quiz" and (not is_last or finishes_course or rng.random() < 0.5)
        length = lesson.duration_minutes * 60
        time_spent = round(length * rng.uniform(0.6, 1.4)) if completed else 1 + round(length * rng.uniform(0, 0.9))
        rows.append({
            "id": new_id(rng), "enrollment_id": enrollment.id, "lesson_id": lesson.id,
            "status": "completed" if completed else "in_progress", "started_at": started_at,
            "completed_at": last_activity if completed else None, "time_spent_seconds": time_spent,
            "last_position_seconds": (length if completed else min(time_spent, length))
            if lesson.lesson_type == "video" else 0,
            "completion_percentage": Decimal("100.00") if completed else to_decimal2(rng.uniform(1, 99)),
            "notes": None, "created_at": started_at, "updated_at": last_activity})
    return rows


def enrollment_row(enrollment: EnrollmentPlan, now: datetime, rng: random.Random) -> dict[str, Any]:
    """The enrollment with the figures its progress rows give (`apply_figures` in the API)."""
    progress = progress_rows_of(enrollment, now)
    total = len(enrollment.course.lessons)
    completed = sum(row["status"] == "completed" for row in progress)
    percentage = to_decimal2(Decimal(completed) * 100 / total) if total else Decimal("0.00")
    finished = total > 0 and completed == total
    last_access = max((row["updated_at"] for row in progress), default=None)
    reviewed = percentage >= REVIEW_THRESHOLD and rng.random() < REVIEW_SHARE
    rating = rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 3, 6, 6))[0] if reviewed else None
    return {"id": enrollment.id, "student_id": enrollment.student_id, "course_id": enrollment.course.id,
            "enrolled_at": enrollment.enrolled_at, "started_at": enrollment.enrolled_at,
            "completed_at": max(row["completed_at"] for row in progress) if finished else None,
            "status": "completed" if finished else "active", "progress_percentage": percentage,
            "completed_lessons_count": completed, "total_lessons_count": total,
            "total_time_spent_seconds": sum(row["time_spent_seconds"] for row in progress),
            "last_accessed_at": last_access, "rating": rating, "review": REVIEWS[rating] if reviewed else None,
            "reviewed_at": last_access if reviewed else None, "updated_at": last_access or enrollment.enrolled_at}


def enrollment_rows(plan: DemoPlan) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{plan.seed}:enrollments")
    return (enrollment_row(enrollment, plan.now, rng) for enrollment in plan.enrollments)


def progress_rows(plan: DemoPlan) -> Iterator[dict[str, Any]]:
    for enrollment in plan.enrollments:
        yield from progress_rows_of(enrollment, plan.now)


# --- writing -------------------------------------------------------------------------------------

def batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def copy_text(value: Any) -> str:
    """A value in COPY's text format. Timestamps keep their UTC offset; lists and dicts are JSON."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_batch(table: Table, batch: list[dict[str, Any]]) -> None:
    """One `COPY table (columns) FROM STDIN` of the batch, on the session's connection (and transaction)."""
    columns = list(batch[0])
    data = io.StringIO("".join("\t".join(copy_text(row[column]) for column in columns) + "\n" for row in batch))
    column_list = ", ".join(f'"{column}"' for column in columns)
    with db.session.connection().connection.cursor() as cursor:
        cursor.copy_expert(f'COPY "{table.name}" ({column_list}) FROM STDIN', data)


def insert_batch(table: Table, batch: list[dict[str, Any]]) -> None:
    db.session.execute(insert(table), batch)


def insert_rows(table: Table, rows: Iterable[dict[str, Any]], total: int) -> int:
    """Write the rows a batch at a time, one commit per batch, with a progress bar; returns the count."""
    write = copy_batch if db.session.connection().dialect.name == "postgresql" else insert_batch
    started, count = time.perf_counter(), 0
    with click.progressbar(length=total, label=f"{table.name:<16}", show_pos=True) as bar:
        for batch in batches(rows, BATCH_ROWS):
            write(table, batch)
            db.session.commit()
            count += len(batch)
            bar.update(len(batch))
    seconds = time.perf_counter() - started
    click.echo(f"{table.name}: {count:,} rows in {seconds:.1f} s ({count / seconds if seconds else 0:,.0f} rows/s)")
    return count


def write_demo(plan: DemoPlan, password_hash: str) -> dict[str, int]:
    """Insert the plan table by table, parents first; the rows added per table."""
    tables = (
        (User, user_rows(plan, password_hash), len(plan.instructor_ids) + len(plan.student_ids)),
        (Course, course_rows(plan), len(plan.courses)),
        (Lesson, lesson_rows(plan), sum(len(course.lessons) for course in plan.courses)),
        (Quiz, quiz_rows(plan), len(plan.quiz_courses)),
        (Question, question_rows(plan), QUESTIONS_PER_QUIZ * len(plan.quiz_courses)),
        (Enrollment, enrollment_rows(plan), len(plan.enrollments)),
        (LessonProgress, progress_rows(plan), sum(enrollment.lessons_done for enrollment in plan.enrollments)),
    )
    return {model.__tablename__: insert_rows(model.__table__, rows, total) for model, rows, total in tables}


def check_sizes(users: int, instructors: int, courses: int, lessons: int) -> None:
    if instructors > users:
        raise click.ClickException("--instructors cannot exceed --users")
    if courses and not instructors:
        raise click.ClickException("courses need an instructor: give --users (and --instructors) above 0")
    if lessons and not courses:
        raise click.ClickException("lessons need courses: give --courses above 0")


def ensure_seed_unused(seed: int) -> None:
    """A seed names its run's e-mails and slugs: the same seed twice would collide on them."""
    taken = db.session.scalar(select(User.id).where(User.email.like(f"demo-{seed}-%")).limit(1))
    if taken is not None:
        raise click.ClickException(f"seed {seed} was already used in this database; pick another --seed")


@click.command("seed-demo")
@click.option("--users", type=click.IntRange(min=0), required=True, help="Accounts to add (instructors included).")
@click.option("--courses", type=click.IntRange(min=0), required=True, help="Courses to add.")
@click.option("--lessons", type=click.IntRange(min=0), required=True, help="Lessons, spread over the courses.")
@click.option("--enrollments", type=click.IntRange(min=0), required=True,
              help="Enrollments of the students in published courses.")
@click.option("--progress", type=click.IntRange(min=0), required=True,
              help="Lesson-progress rows, spread over the enrollments.")
@click.option("--instructors", type=click.IntRange(min=0), default=None,
              help="How many of the users are instructors (default users/100, at least 1).")
@click.option("--quizzes", type=click.IntRange(min=0), default=0, show_default=True,
              help="Published graded quizzes, on the last lesson of as many courses.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the generator (default: a random one, printed).")
def seed_demo(users: int, courses: int, lessons: int, enrollments: int, progress: int,
              instructors: int | None, quizzes: int, seed: int | None) -> None:
    """Add demo users, courses, lessons, quizzes, enrollments and progress in bulk (see lms.demo)."""
    if instructors is None:
        instructors = max(1, users // 100) if users else 0
    check_sizes(users, instructors, courses, lessons)
    seed = secrets.randbelow(1_000_000) if seed is None else seed
    ensure_seed_unused(seed)
    started = time.perf_counter()
    plan = plan_demo(DemoSizes(users, instructors, courses, lessons, enrollments, progress, quizzes), seed, utcnow())
    click.echo(f"seed {seed}: planned in {time.perf_counter() - started:.1f} s")
    for note in plan.notes:
        click.echo(f"note: {note}")
    added = write_demo(plan, hash_password(DEMO_PASSWORD))
    click.echo(f"Added {', '.join(f'{count:,} {table}' for table, count in added.items())} "
               f"in {time.perf_counter() - started:.1f} s.")
    if plan.student_ids:
        click.echo(f"Log in as {demo_email(seed, 'student', 1)} (or any demo user) with password {DEMO_PASSWORD}.")
