"""Enrollments, lesson progress and reviews (`/enrollments`, contract §4.4)."""

from __future__ import annotations

from flask.views import MethodView

from lms.core.api import Blueprint
from lms.core.idempotency import idempotent
from lms.core.pagination import PageQuerySchema
from lms.core.permissions import Role, current_user, login_required, require_roles
from lms.enrollments import service
from lms.enrollments.schemas import (
    CourseEnrollmentStatsSchema,
    EnrollmentCreateSchema,
    EnrollmentPageSchema,
    EnrollmentSchema,
    LessonProgressSchema,
    LessonProgressUpdateSchema,
    ReviewSchema,
)

blp = Blueprint("enrollments", __name__, url_prefix="/enrollments",
                description="Enrolling in courses, lesson progress and completion, reviews")


@blp.route("")
class EnrollmentCreate(MethodView):
    @idempotent
    @blp.doc(operationId="enroll")
    @blp.arguments(EnrollmentCreateSchema)
    @blp.response(201, EnrollmentSchema)
    @blp.answers(404)
    @require_roles(Role.STUDENT, Role.ADMIN, message="Only students can enroll")
    def post(self, data):
        """Enroll in a published course; enrolling again returns the existing enrollment (201).

        Students (and admins); 403 for instructors. Enrolling again in the same course returns the existing
        enrollment, also with 201, so a retry is safe. 404 for an unknown course or a draft the caller may not
        see; 403 for an admin enrolling in a draft.
        """
        return service.enroll(data["course_id"], current_user())


@blp.route("/my-courses")
class MyEnrollments(MethodView):
    @blp.doc(operationId="listMyEnrollments")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, EnrollmentPageSchema)
    @login_required
    def get(self, args):
        """The caller's enrollments, newest first.

        The caller's own enrollments, newest first, paged with `page` and `page_size`.
        """
        return service.my_enrollments(args, current_user())


@blp.route("/<uuid:enrollment_id>")
class EnrollmentItem(MethodView):
    @blp.doc(operationId="getEnrollment")
    @blp.response(200, EnrollmentSchema)
    @blp.answers(404)
    @login_required
    def get(self, enrollment_id):
        """Get an enrollment (its student, the course's instructor or an admin).

        Its student, the course's instructor, or an admin; 404 for anyone else, so that others' enrollments
        are not revealed.
        """
        return service.get_enrollment_for_reading(enrollment_id, current_user())


@blp.route("/<uuid:enrollment_id>/lessons/<uuid:lesson_id>/progress")
class LessonProgressItem(MethodView):
    @blp.doc(operationId="updateLessonProgress")
    @blp.examples(request={"status": "in_progress", "time_spent_seconds": 600, "last_position_seconds": 320,
                           "completion_percentage": 40})
    @blp.arguments(LessonProgressUpdateSchema)
    @blp.response(200, LessonProgressSchema)
    @blp.answers(400, 403, 404, 409)
    @login_required
    def put(self, data, enrollment_id, lesson_id):
        """Set a lesson's progress (the enrollment's student or an admin) and recompute the enrollment.

        Sets (does not add to) the values sent; an empty body changes nothing. `completion_percentage` of 100
        or `status: completed` completes the lesson, and a completed lesson cannot go back (400). The
        enrollment's figures are recomputed, and completing the last lesson completes the course and issues
        its certificate. 403 for another student's enrollment or an instructor; 404 for a lesson of another
        course.
        """
        return service.update_progress(enrollment_id, lesson_id, data, current_user())


@blp.route("/<uuid:enrollment_id>/lessons/<uuid:lesson_id>/complete")
class LessonCompletion(MethodView):
    @blp.doc(operationId="completeLesson")
    @blp.response(200, LessonProgressSchema)
    @blp.answers(400, 403, 404, 409)
    @login_required
    def post(self, enrollment_id, lesson_id):
        """Mark a lesson completed (the enrollment's student or an admin) and recompute the enrollment.

        The same as setting `status: completed` with `PUT .../progress`: the lesson at 100 %, the enrollment
        recomputed, and the certificate issued when it was the course's last lesson. Completing an already
        completed lesson answers it unchanged.
        """
        return service.complete_lesson_for(enrollment_id, lesson_id, current_user())


@blp.route("/<uuid:enrollment_id>/review")
class EnrollmentReview(MethodView):
    @blp.doc(operationId="reviewCourse")
    @blp.arguments(ReviewSchema)
    @blp.response(200, EnrollmentSchema)
    @blp.answers(403, 404)
    @login_required
    def post(self, data, enrollment_id):
        """Rate and review the course after completing at least 20 % of it; replaces an earlier review.

        The enrollment's student (or an admin) after completing at least 20 % of the course (403 before). A
        later review replaces the earlier one; the course's `average_rating` follows at once.
        """
        return service.review_course(enrollment_id, data, current_user())


@blp.route("/courses/<uuid:course_id>")
class CourseEnrollments(MethodView):
    @blp.doc(operationId="listCourseEnrollments")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, EnrollmentPageSchema)
    @blp.answers(403, 404)
    @login_required
    def get(self, args, course_id):
        """A course's enrollments, newest first (its instructor or an admin).

        The course's instructor or an admin (403 otherwise; 404 for an unknown course). Paged with `page` and
        `page_size`.
        """
        return service.course_enrollments(course_id, args, current_user())


@blp.route("/courses/<uuid:course_id>/stats")
class CourseEnrollmentStats(MethodView):
    @blp.doc(operationId="getCourseEnrollmentStats")
    @blp.response(200, CourseEnrollmentStatsSchema)
    @blp.answers(403, 404)
    @login_required
    def get(self, course_id):
        """Enrollment counts by status and the mean progress of a course (its instructor or an admin).

        The course's instructor or an admin (403 otherwise; 404 for an unknown course). `average_progress` is
        a decimal string.
        """
        return service.course_enrollment_stats(course_id, current_user())
