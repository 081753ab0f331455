"""Courses (`/courses`) and their lessons (`/courses/{id}/lessons`, `/lessons/{id}`), contract §4.2–4.3."""

from __future__ import annotations

import uuid

from flask import request
from flask.views import MethodView

from lms.core.api import Blueprint, answers_with_etag
from lms.core.auth import bearer_token
from lms.core.cache import CachedRead, answer_reads_from_cache, cached_json_response
from lms.core.idempotency import idempotent
from lms.core.http import etagged_json_response
from lms.core.pagination import UnpagedQuerySchema
from lms.core.permissions import Permission, current_user, login_optional, login_required, require_permissions
from lms.courses import service
from lms.courses.schemas import (
    CourseCreateSchema,
    CoursePageSchema,
    CourseQuerySchema,
    CourseSchema,
    CourseUpdateSchema,
    LessonCreateSchema,
    LessonListSchema,
    LessonSchema,
    LessonUpdateSchema,
)

blp = Blueprint("courses", __name__, url_prefix="/courses",
                description="The course catalog: drafts, publishing, search, and each course's figures")
lessons_blp = Blueprint("lessons", __name__, url_prefix="/",
                        description="The lessons of a course, in order; content only for enrolled students and staff")


def _admit_course_reader(access: service.CourseAccessValues) -> None:
    """A cached course is answered only to those who may read it (a draft: its instructor, admins)."""
    service.check_can_read_course(current_user(), access)


def _cached_read() -> CachedRead | None:
    """A course, or an anonymous catalog page, is answered from its cached answer when there is one."""
    if request.method != "GET":
        return None
    if request.endpoint == "courses.CourseItem":
        return CachedRead(service.course_cache_key(request.view_args["course_id"]), admit=_admit_course_reader)
    if request.endpoint == "courses.CourseList" and bearer_token() is None:
        scope = service.catalog_scope(None, mine=False)
        return CachedRead(service.catalog_cache_key(scope, list(request.args.items(multi=True))))
    return None


answer_reads_from_cache(_cached_read)


@blp.route("")
class CourseList(MethodView):
    @blp.doc(operationId="listCourses")
    @blp.arguments(CourseQuerySchema, location="query")
    @blp.response(200, CoursePageSchema)
    @blp.alt_response(401, response="UNAUTHORIZED", description="`mine=true` without a valid bearer token")
    @login_optional
    @answers_with_etag
    def get(self, args):
        """The catalog, newest first: published courses, all for admins, one's own with `mine`.

        Anonymous callers, students and instructors see published courses; admins see every course;
        `mine=true` (a bearer token required, else 401) gives the caller's own courses, drafts included.
        Filters: `category` and `difficulty_level` exactly, `search` in the title or description. Answers
        carry an `ETag`; send it back as `If-None-Match` for a 304 while the page is unchanged (it is cached
        for a short time).
        """
        scope = service.catalog_scope(current_user(), args["mine"])
        return cached_json_response(service.catalog_cache_key(scope, list(request.args.items(multi=True))),
                                    lambda: CoursePageSchema().dump(service.list_courses(args, scope)),
                                    group=service.CATALOG_CACHE_GROUP)

    @idempotent
    @blp.doc(operationId="createCourse")
    @blp.arguments(CourseCreateSchema)
    @blp.response(201, CourseSchema)
    @blp.answers(409)
    @require_permissions(Permission.CREATE_COURSE)
    def post(self, data):
        """Create a draft course (instructors and admins); the slug defaults to one of the title.

        Instructors and admins (403 for students). The course starts as a draft owned by the caller; `slug`
        defaults to one made from the title. Figures the server computes (`enrollment_count`,
        `average_rating`, `total_reviews`) are ignored if sent. 409 when the slug is taken.
        """
        return service.create_course(data, current_user())


@blp.route("/<uuid:course_id>")
class CourseItem(MethodView):
    @blp.doc(operationId="getCourse")
    @blp.response(200, CourseSchema)
    @blp.answers(404)
    @login_optional
    @answers_with_etag
    def get(self, course_id):
        """Get a course (a draft only for its instructor or an admin).

        A draft, or a course that does not exist, answers 404 to everyone but its instructor and admins (a
        draft's existence is not revealed). Answers carry an `ETag`; `If-None-Match` with it gives a 304 while
        the course is unchanged.
        """
        return cached_json_response(
            service.course_cache_key(course_id),
            lambda: CourseSchema().dump(service.load_course_for_reading(course_id, current_user())),
            remember=lambda course: service.CourseAccessValues(course["is_published"], uuid.UUID(course["instructor_id"])),
            admit=_admit_course_reader)

    @blp.doc(operationId="updateCourse")

    @blp.examples(request={"title": "Introduction to Python 3", "is_published": True})
    @blp.arguments(CourseUpdateSchema)
    @blp.response(200, CourseSchema)
    @blp.answers(400, 403, 404)
    @login_required
    def patch(self, data, course_id):
        """Update a course (its instructor or an admin); may publish or unpublish it.

        The course's instructor or an admin (others 403; a draft they may not see is 404). Only the fields
        sent change; `is_published` publishes or unpublishes. An explicit null for `title` or `is_published`
        is a 400; computed figures are ignored if sent.
        """
        return service.update_course(course_id, data, current_user())

    @blp.doc(operationId="deleteCourse")
    @blp.response(204)
    @blp.answers(403, 404)
    @login_required
    def delete(self, course_id):
        """Delete a course with its lessons, enrollments, progress, quizzes, certificates and assignments.

        The course's instructor or an admin (403 otherwise). Deletes everything that belongs to the course:
        lessons, enrollments and progress, quizzes and attempts, certificates, assignments and submissions.
        Irreversible.
        """
        service.delete_course(course_id, current_user())


@blp.route("/slug/<string:slug>")
class CourseBySlug(MethodView):
    @blp.doc(operationId="getCourseBySlug")
    @blp.response(200, CourseSchema)
    @blp.answers(404)
    @login_optional
    def get(self, slug):
        """Get a course by its slug (a draft only for its instructor or an admin).

        As `GET /courses/{course_id}`, found by the slug: 404 for an unknown slug or a draft the caller may
        not see.
        """
        return service.load_course_by_slug_for_reading(slug, current_user())


@blp.route("/<uuid:course_id>/publish")
class CoursePublish(MethodView):
    @blp.doc(operationId="publishCourse")
    @blp.response(200, CourseSchema)
    @blp.answers(403, 404)
    @login_required
    def post(self, course_id):
        """Publish a course (its instructor or an admin).

        The course's instructor (who must still have the instructor role) or an admin; 403 otherwise, 404 for
        an unknown course.
        """
        return service.publish_course(course_id, current_user())


@lessons_blp.route("/courses/<uuid:course_id>/lessons")
class LessonList(MethodView):
    @lessons_blp.doc(operationId="listLessons")
    @lessons_blp.arguments(UnpagedQuerySchema, location="query")
    @lessons_blp.response(200, LessonListSchema)
    @lessons_blp.answers(404)
    @login_optional
    @answers_with_etag
    def get(self, args, course_id):
        """A course's lessons by order_index; content and video only for learners, owner, admins, previews.

        In `order_index` order. `content` and `video_url` are null unless the caller is enrolled, the course's
        instructor or an admin, or the lesson `is_preview`. 404 for an unknown course or a draft the caller
        may not see. Answers carry an `ETag` for `If-None-Match` (304). `updated_since`/`after` page them for
        incremental sync (ascending id, `limit` per page, `next_cursor`).
        """
        return etagged_json_response(LessonListSchema().dump(
            service.list_lessons_for_reader(course_id, current_user(), args)))

    @idempotent
    @lessons_blp.doc(operationId="createLesson")

    @lessons_blp.examples(request={"title": "Variables and names", "lesson_type": "text",
                                   "content": "A variable names a value.", "duration_minutes": 15, "is_preview": True})
    @lessons_blp.arguments(LessonCreateSchema)
    @lessons_blp.response(201, LessonSchema)
    @lessons_blp.answers(400, 403, 404, 409)
    @login_required
    def post(self, data, course_id):
        """Add a lesson to a course (its instructor or an admin).

        The course's instructor or an admin (403 otherwise). `order_index` defaults to after the last lesson;
        an index in use is a 409. `video_url` (or its alias `video_link`) is allowed on video lessons only,
        else 400; a `parent_lesson_id` of another course or one making a cycle is a 400, an unknown one 404.
        """
        return service.create_lesson(course_id, data, current_user())


@lessons_blp.route("/lessons/<uuid:lesson_id>")
class LessonItem(MethodView):
    @lessons_blp.doc(operationId="getLesson")
    @lessons_blp.response(200, LessonSchema)
    @lessons_blp.answers(404)
    @login_optional
    def get(self, lesson_id):
        """Get a lesson; content and video only for learners, the owner, admins, or previews.

        `content` and `video_url` are null unless the caller is enrolled, the course's instructor or an admin,
        or the lesson `is_preview`. 404 for an unknown lesson or one of a draft the caller may not see.
        """
        return service.get_lesson_for_reading(lesson_id, current_user())

    @lessons_blp.doc(operationId="updateLesson")

    @lessons_blp.examples(request={"title": "Variables, names and values", "order_index": 2})
    @lessons_blp.arguments(LessonUpdateSchema)
    @lessons_blp.response(200, LessonSchema)
    @lessons_blp.answers(400, 403, 404, 409)
    @login_required
    def patch(self, data, lesson_id):
        """Update a lesson (the course's instructor or an admin).

        The course's instructor or an admin (403 otherwise). Only the fields sent change. An explicit null for
        `title`, `lesson_type`, `order_index` or `is_preview` is a 400; an `order_index` in use is a 409;
        changing the type away from `video` clears `video_url`.
        """
        return service.update_lesson(lesson_id, data, current_user())

    @lessons_blp.doc(operationId="deleteLesson")
    @lessons_blp.response(204)
    @lessons_blp.answers(403, 404)
    @login_required
    def delete(self, lesson_id):
        """Delete a lesson with its progress rows (the course's instructor or an admin).

        The course's instructor or an admin (403 otherwise). The lesson's progress rows go with it, and the
        enrollments' figures are recomputed.
        """
        service.delete_lesson(lesson_id, current_user())
