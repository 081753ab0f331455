"""Courses and lessons: catalog, management, visibility.

The access helpers at the top are the one way every module checks who may see or manage a course.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, with_expression

from lms.core import events, tombstones
from lms.core.cache import get_app_cache
from lms.core.db import commit, contains_text, escape_like, utcnow
from lms.core.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from lms.core.pagination import collect, paginate
from lms.core.schemas import INT32_MAX
from lms.courses.models import Course, Lesson
from lms.core.extensions import db
from lms.users.models import User

MANAGE_DENIED = "Not authorized to manage this course"


# --- who may do what with a course -------------------------------------------------------------
# One vocabulary across the modules: `can_<verb>_<thing>(user, thing)` answers yes or no;
# `get_<thing>_for_<reading|managing>(id, user)` fetches the thing and refuses with 404 when the
# caller may not see it, 403 when they may see but not manage it (§5.19).

class CourseAccess(Protocol):
    """What the checks need of a course: a Course row, or the two values kept with a cached one."""

    is_published: bool
    instructor_id: uuid.UUID


@dataclass(frozen=True)
class CourseAccessValues:
    is_published: bool
    instructor_id: uuid.UUID


def can_teach_course(user: User, course: CourseAccess) -> bool:
    """The course's own instructor, still an instructor (what only the teacher may do, not admins)."""
    return user.is_instructor and user.id == course.instructor_id


def can_manage_course(user: User | None, course: CourseAccess) -> bool:
    """Its instructor, or any admin. Ownership alone is not enough: an owner demoted to student
    loses the course at once (§5.34)."""
    return user is not None and (user.is_admin or can_teach_course(user, course))


def can_read_course(user: User | None, course: CourseAccess) -> bool:
    """Published courses are public; drafts belong to those who manage them."""
    return course.is_published or can_manage_course(user, course)


def check_can_read_course(user: User | None, course: CourseAccess) -> None:
    if not can_read_course(user, course):
        raise NotFound("Course not found")


def get_course(course_id: uuid.UUID) -> Course:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("Course not found")
    return course


def get_course_for_reading(course_id: uuid.UUID, user: User | None) -> Course:
    """A course the caller may read: published, or theirs to manage. Drafts are 404 to others (§5.19)."""
    course = get_course(course_id)
    check_can_read_course(user, course)
    return course


def get_course_for_managing(course_id: uuid.UUID, user: User, message: str = MANAGE_DENIED) -> Course:
    """A course the caller manages; 404 when they may not even see it, 403 when they only may read it."""
    course = get_course_for_reading(course_id, user)
    if not can_manage_course(user, course):
        raise Forbidden(message)
    return course


def get_course_lesson(course: Course, lesson_id: uuid.UUID) -> Lesson:
    """A lesson of this course; 404 for any other id."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id:
        raise NotFound("Lesson not found")
    return lesson


def lesson_count(course_id: ColumnElement | uuid.UUID) -> ColumnElement:
    """The number of lessons of a course, as a scalar subquery (correlated when `course_id` is a column)."""
    return select(func.count(Lesson.id)).where(Lesson.course_id == course_id).scalar_subquery()


# --- reading courses ----------------------------------------------------------------------------

COURSE_SLUG_TAKEN = "A course with this slug already exists"
# Cached answers (lms.core.cache): catalog pages form one group; each course has its own key.
CATALOG_CACHE_GROUP = "courses:catalog"
COURSE_CACHE_PREFIX = "courses:item:"


# --- what the modules built on courses add ------------------------------------------------------
# This module imports none of them: at import, they add the figures a course shows (enrollments:
# its enrollment count and ratings) and who else may read its lessons (enrollments: its learners).

_FIGURES: list[tuple[QueryableAttribute, ColumnElement]] = []
_LESSON_CONTENT_GRANTS: list[Callable[[User, uuid.UUID], bool]] = []


def add_course_figure(attribute: QueryableAttribute, expression: ColumnElement) -> None:
    """Load `expression` (a scalar subquery correlated with `Course.id`) into `attribute`, one of
    Course's `query_expression` figures, wherever courses are read with `course_statement`."""
    _FIGURES.append((attribute, expression))


def add_lesson_content_grant(grants: Callable[[User, uuid.UUID], bool]) -> None:
    """`grants(user, course_id)` opens a course's lesson content to a reader besides its managers."""
    _LESSON_CONTENT_GRANTS.append(grants)


def course_statement() -> Select:
    """Courses with their computed figures, all in the one statement (no query per course)."""
    lessons = lesson_count(Course.id)
    instructor_name = select(User.full_name).where(User.id == Course.instructor_id).scalar_subquery()
    figures = [(Course.instructor_name, instructor_name), (Course.computed_total_lessons, lessons), *_FIGURES]
    return (
        select(Course)
        .options(*(with_expression(attribute, expression) for attribute, expression in figures))
        # Figures are loaded only by a fresh load; courses already in the session get them too.
        .execution_options(populate_existing=True)
    )


def load_course(course_id: uuid.UUID) -> Course:
    """A course with its figures, whoever asks (callers have checked access)."""
    course = db.session.scalar(course_statement().where(Course.id == course_id))
    if course is None:
        raise NotFound("Course not found")
    return course


def load_course_for_reading(course_id: uuid.UUID, user: User | None) -> Course:
    """A course with its figures; a draft is 404 to all but those who manage it (§5.19)."""
    return _readable_with_figures(course_statement().where(Course.id == course_id), user)


def load_course_by_slug_for_reading(slug: str, user: User | None) -> Course:
    return _readable_with_figures(course_statement().where(Course.slug == slug), user)


def _readable_with_figures(statement: Select, user: User | None) -> Course:
    course = db.session.scalar(statement)
    if course is None:
        raise NotFound("Course not found")
    check_can_read_course(user, course)
    return course


@dataclass(frozen=True)
class CatalogScope:
    """Which courses a catalog reader sees: published ones, all of them, or one instructor's."""

    published_only: bool
    instructor_id: uuid.UUID | None = None

    @property
    def cache_part(self) -> str:
        visibility = "published" if self.published_only else "all"
        if self.instructor_id is not None:
            return f"instructor:{self.instructor_id}:{visibility}"
        return visibility


def catalog_scope(user: User | None, mine: bool) -> CatalogScope:
    """`mine` lists the caller's own courses, drafts included; admins see every course (§4.2)."""
    if mine:
        if user is None:
            raise Unauthorized("Not authenticated")
        # Drafts only while the caller may manage them (an owner demoted to student sees none).
        return CatalogScope(published_only=not (user.is_admin or user.is_instructor), instructor_id=user.id)
    return CatalogScope(published_only=user is None or not user.is_admin)


def catalog_cache_key(scope: CatalogScope, query: list[tuple[str, str]]) -> str:
    """Every query parameter as sent and the viewer's scope are part of the key (§5.2)."""
    query = json.dumps(sorted(query))
    return f"{CATALOG_CACHE_GROUP}:{scope.cache_part}:{hashlib.sha256(query.encode()).hexdigest()}"


def course_cache_key(course_id: uuid.UUID) -> str:
    return f"{COURSE_CACHE_PREFIX}{course_id}"


def list_courses(args: dict[str, Any], scope: CatalogScope) -> dict[str, Any]:
    """The catalog page for a scope, newest first, filtered by category, difficulty and search."""
    stmt = course_statement()
    if scope.published_only:
        stmt = stmt.where(Course.is_published.is_(True))
    if scope.instructor_id is not None:
        stmt = stmt.where(Course.instructor_id == scope.instructor_id)
    if args.get("category"):
        stmt = stmt.where(Course.category == args["category"])
    if args.get("difficulty_level"):
        stmt = stmt.where(Course.difficulty_level == args["difficulty_level"])
    if args.get("search"):
        stmt = stmt.where(or_(contains_text(Course.title, args["search"]),
                              contains_text(Course.description, args["search"])))
    return paginate(stmt.order_by(Course.created_at.desc(), Course.id.desc()), args)


def invalidate_course_listings(course_id: uuid.UUID) -> None:
    """The course or its figures changed (a course, lesson, enrollment or review write): its cached
    answer and every cached catalog page may be stale (§1.11, §5.2)."""
    app_cache = get_app_cache()
    app_cache.delete(course_cache_key(course_id))
    app_cache.delete_group(CATALOG_CACHE_GROUP)


@events.on(events.COURSE_CHANGED, after_commit=True)
def _refresh_course_answers(course_id: uuid.UUID, **_: Any) -> None:
    invalidate_course_listings(course_id)


@events.on(events.ENROLLMENT_CREATED, after_commit=True)
@events.on(events.ENROLLMENT_REVIEWED, after_commit=True)
def _refresh_course_figures(enrollment, **_: Any) -> None:
    """Enrollment counts and ratings are part of the course's answers."""
    invalidate_course_listings(enrollment.course_id)


def _commit_course_change(course_id: uuid.UUID) -> None:
    """Commit a write to a course or its lessons, announcing it (cached answers, analytics)."""
    events.emit(events.COURSE_CHANGED, course_id=course_id)
    commit()


# --- writing courses ----------------------------------------------------------------------------

SLUG_ATTEMPTS = 5
_SLUG_DROPPED = re.compile(r"[^a-z0-9 -]")
_SLUG_SEPARATORS = re.compile(r"[ -]+")


def slugify(text: str) -> str:
    """Lower-case; characters other than `[a-z0-9 -]` removed; runs of spaces/hyphens -> `-`."""
    return _SLUG_SEPARATORS.sub("-", _SLUG_DROPPED.sub("", text.lower())).strip("-")


def _with_suffix(base: str, suffix: str) -> str:
    return f"{base[:255 - len(suffix) - 1]}-{suffix}"


def _free_generated_slug(base: str) -> str:
    """`base`, or `base-2`, `base-3`... : the first one no course has (as far as this transaction sees)."""
    taken = set(db.session.scalars(select(Course.slug).where(
        or_(Course.slug == base, Course.slug.like(f"{escape_like(base)}-%", escape="\\")))))
    if base not in taken:
        return base
    number = 2
    while _with_suffix(base, str(number)) in taken:
        number += 1
    return _with_suffix(base, str(number))


def _flush_or_conflict(message: str) -> None:
    """Flush; a unique constraint hit (a concurrent write included) is a 409 with `message`."""
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(message) from error


def _is_slug_conflict(error: IntegrityError) -> bool:
    return "slug" in str(error.orig).lower()


def _insert_course_in_savepoint(course: Course) -> bool:
    """Insert; False when the slug is taken, with the rest of the transaction intact."""
    try:
        with db.session.begin_nested():
            db.session.add(course)
            db.session.flush()
    except IntegrityError as error:
        if not _is_slug_conflict(error):
            raise
        return False
    return True


def create_course(data: dict[str, Any], user: User) -> Course:
    """A draft course owned by the caller.

    An explicit slug that is taken is a 409. A slug generated from the title takes the next free
    `-2`, `-3`... suffix, so concurrent creates with one title each get a course and distinct slugs.
    """
    requested_slug = data.pop("slug", None)
    course = Course(**data, instructor_id=user.id, is_published=False)
    if requested_slug is not None:
        course.slug = requested_slug
        db.session.add(course)
        _flush_or_conflict(COURSE_SLUG_TAKEN)  # the slug is the course's only unique value
    else:
        base = slugify(course.title)[:255].strip("-") or "course"
        for attempt in range(SLUG_ATTEMPTS + 1):
            # After several lost races a random suffix ends the contest.
            course.slug = (_free_generated_slug(base) if attempt < SLUG_ATTEMPTS
                           else _with_suffix(base, secrets.token_hex(4)))
            if _insert_course_in_savepoint(course):
                break
        else:
            raise Conflict(COURSE_SLUG_TAKEN)
    _commit_course_change(course.id)
    return load_course(course.id)


def _reject_nulls(data: dict[str, Any], fields: dict[str, str]) -> None:
    for field, message in fields.items():
        if field in data and data[field] is None:
            raise BadRequest(message)


def update_course(course_id: uuid.UUID, data: dict[str, Any], user: User) -> Course:
    """Change any field the owner (or an admin) sends; `is_published` may be flipped either way."""
    course = get_course_for_managing(course_id, user)
    _reject_nulls(data, {"title": "Course title cannot be null",
                         "is_published": "Course is_published cannot be null"})
    was_published = course.is_published
    for field, value in data.items():
        setattr(course, field, value)
    _announce_publication(course, was_published)
    _commit_course_change(course.id)
    return load_course(course.id)


def _announce_publication(course: Course, was_published: bool) -> None:
    if course.is_published and not was_published:
        events.emit(events.COURSE_PUBLISHED, course=course)
    elif was_published and not course.is_published:
        events.emit(events.COURSE_UNPUBLISHED, course=course)


def publish_course(course_id: uuid.UUID, user: User) -> Course:
    """The owner or an admin publishes; no instructor verification gate (§5.11). Idempotent."""
    course = get_course_for_managing(course_id, user)
    was_published = course.is_published
    course.is_published = True
    _announce_publication(course, was_published)
    _commit_course_change(course.id)
    return load_course(course.id)


def delete_course(course_id: uuid.UUID, user: User) -> None:
    """The database cascades to lessons, enrollments, progress, quizzes, certificates, assignments;
    `course.deleted` lets the modules with rows and files of their own record their tombstones and
    remove the files."""
    course = get_course_for_managing(course_id, user)
    tombstones.record_one("courses", course.id, course.id)
    tombstones.record("lessons", select(Lesson.id, Lesson.course_id).where(Lesson.course_id == course.id))
    events.emit(events.COURSE_DELETED, course_id=course.id)
    db.session.delete(course)
    _commit_course_change(course_id)


# --- lessons ------------------------------------------------------------------------------------

LESSON_MANAGE_DENIED = "Not authorized to manage lessons for this course"
ORDER_INDEX_TAKEN = "A lesson with this order_index already exists in this course"


class ReaderLesson:
    """A lesson as one reader sees it: `content` and `video_url` only when unlocked (§5.18)."""

    def __init__(self, lesson: Lesson, unlocked: bool) -> None:
        self._lesson = lesson
        self.content = lesson.content if unlocked else None
        self.video_url = lesson.video_url if unlocked else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lesson, name)


def lessons_unlocked_for(user: User | None, course: Course) -> bool:
    """Whether every lesson's content is open to the reader: its managers, and whom the modules
    built on courses grant it (enrolled learners)."""
    if can_manage_course(user, course):
        return True
    return user is not None and any(grants(user, course.id) for grants in _LESSON_CONTENT_GRANTS)


def list_lessons_for_reader(course_id: uuid.UUID, user: User | None, args: dict[str, Any]) -> dict[str, Any]:
    """A visible course's lessons by `order_index`, gated per §5.18."""
    course = get_course_for_reading(course_id, user)
    unlocked = lessons_unlocked_for(user, course)
    answer = collect(select(Lesson).where(Lesson.course_id == course.id).order_by(Lesson.order_index), args, "items")
    return {**answer, "items": [ReaderLesson(lesson, unlocked or lesson.is_preview) for lesson in answer["items"]]}


def _get_lesson_for_reading(lesson_id: uuid.UUID, user: User | None) -> tuple[Lesson, Course]:
    """A lesson of a course the caller may read; anything else is 404 (§5.19)."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        raise NotFound("Lesson not found")
    course = get_course(lesson.course_id)
    if not can_read_course(user, course):
        raise NotFound("Lesson not found")
    return lesson, course


def get_lesson_for_reading(lesson_id: uuid.UUID, user: User | None) -> ReaderLesson:
    lesson, course = _get_lesson_for_reading(lesson_id, user)
    return ReaderLesson(lesson, lesson.is_preview or lessons_unlocked_for(user, course))


def _get_lesson_for_managing(lesson_id: uuid.UUID, user: User) -> tuple[Lesson, Course]:
    lesson, course = _get_lesson_for_reading(lesson_id, user)
    if not can_manage_course(user, course):
        raise Forbidden(LESSON_MANAGE_DENIED)
    return lesson, course


def _check_video_url(lesson_type: str, video_url: str | None) -> None:
    """A video URL (its form checked by the schema) belongs to video lessons only."""
    if video_url is not None and lesson_type != "video":
        raise BadRequest("video_url is only allowed on video lessons")


def _check_parent(course: Course, parent_id: uuid.UUID | None, user: User, lesson: Lesson | None = None) -> None:
    """The parent exists (404), is in the same course and is not the lesson or its descendant (400).

    A parent in a course the caller may not read is "not found" too (§5.19).
    """
    if parent_id is None:
        return
    parent = db.session.get(Lesson, parent_id)
    if parent is None or (parent.course_id != course.id and not can_read_course(user, get_course(parent.course_id))):
        raise NotFound("Parent lesson not found")
    if parent.course_id != course.id:
        raise BadRequest("Parent lesson must belong to the same course")
    if lesson is None:
        return  # a new lesson has no descendants
    parents = dict(db.session.execute(
        select(Lesson.id, Lesson.parent_lesson_id).where(Lesson.course_id == course.id)).all())
    ancestor: uuid.UUID | None = parent_id
    seen: set[uuid.UUID] = set()
    while ancestor is not None and ancestor not in seen:
        if ancestor == lesson.id:
            raise BadRequest("A lesson cannot be nested under itself or one of its descendants")
        seen.add(ancestor)
        ancestor = parents.get(ancestor)


def _next_order_index(course_id: uuid.UUID) -> int:
    """The course's highest order_index + 1. Locks the course row first (PostgreSQL), so that
    concurrent lesson creates take their turns and each sees the index the previous one took."""
    db.session.execute(select(Course.id).where(Course.id == course_id).with_for_update(key_share=True))
    highest = db.session.scalar(select(func.max(Lesson.order_index)).where(Lesson.course_id == course_id))
    if highest is not None and highest >= INT32_MAX:
        raise Conflict("The course's last lesson has the largest order_index there is: send an order_index")
    return (highest or 0) + 1


def create_lesson(course_id: uuid.UUID, data: dict[str, Any], user: User) -> ReaderLesson:
    """A lesson in a course the caller manages; `order_index` defaults to the highest + 1."""
    course = get_course_for_managing(course_id, user, LESSON_MANAGE_DENIED)
    _check_video_url(data["lesson_type"], data.get("video_url"))
    _check_parent(course, data.get("parent_lesson_id"), user)
    order_index = data.pop("order_index", None) or _next_order_index(course.id)
    slug = data.pop("slug", None) or slugify(data["title"]) or "lesson"
    lesson = Lesson(**data, slug=slug, order_index=order_index, course_id=course.id)
    db.session.add(lesson)
    _flush_or_conflict(ORDER_INDEX_TAKEN)
    _commit_course_change(course.id)
    return ReaderLesson(lesson, True)


def update_lesson(lesson_id: uuid.UUID, data: dict[str, Any], user: User) -> ReaderLesson:
    """Partial update; leaving the `video` type clears `video_url`."""
    lesson, course = _get_lesson_for_managing(lesson_id, user)
    _reject_nulls(data, {"title": "Lesson title cannot be null",
                         "lesson_type": "Lesson lesson_type cannot be null",
                         "order_index": "Lesson order_index cannot be null",
                         "is_preview": "Lesson is_preview cannot be null"})
    lesson_type = data.get("lesson_type", lesson.lesson_type)
    if "video_url" in data:
        _check_video_url(lesson_type, data["video_url"])
    elif lesson_type != "video":
        data["video_url"] = None
    if "parent_lesson_id" in data:
        _check_parent(course, data["parent_lesson_id"], user, lesson)
    if "slug" in data and data["slug"] is None:
        data["slug"] = slugify(data.get("title") or lesson.title) or "lesson"
    for field, value in data.items():
        setattr(lesson, field, value)
    _flush_or_conflict(ORDER_INDEX_TAKEN)
    _commit_course_change(course.id)
    return ReaderLesson(lesson, True)


def delete_lesson(lesson_id: uuid.UUID, user: User) -> None:
    """Its progress rows and quiz go with it (FK actions); child lessons lose their parent.

    `lesson.deleted`, announced before the row is deleted, lets the modules record the tombstones of
    what goes with it, and the enrollments recompute once it is gone (one that now has every
    remaining lesson done is completed without waiting for another progress write).
    """
    lesson, course = _get_lesson_for_managing(lesson_id, user)
    tombstones.record_one("lessons", lesson.id, course.id)
    # The database would set the children's parent to NULL without touching their `updated_at`, which
    # sync clients go by: done here, stamped.
    db.session.execute(update(Lesson).where(Lesson.parent_lesson_id == lesson.id)
                       .values(parent_lesson_id=None, updated_at=utcnow()))
    events.emit(events.LESSON_DELETED, course_id=course.id, lesson_id=lesson.id)
    db.session.delete(lesson)
    _commit_course_change(course.id)
