"""Assignments and submissions (`/assignments`, contract §4.11; rate rule: assignments)."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from lms.assignments import service
from lms.assignments.schemas import (
    AssignmentCreateSchema,
    AssignmentSchema,
    AssignmentUpdateSchema,
    GradeSchema,
    SubmissionCreateSchema,
    SubmissionSchema,
    SubmissionUpdateSchema,
)
from lms.core.api import Blueprint
from lms.core.idempotency import idempotent
from lms.core.pagination import SkipLimitQuerySchema, skip_limit_schema
from lms.core.permissions import Role, current_user, login_required, require_roles
from lms.core.ratelimit import assignment_rate_limit

blp = Blueprint("assignments", __name__, url_prefix="/assignments",
                description="Assignments of a course, students' submissions and their grades")
assignment_rate_limit(blp)  # every route: per client, per endpoint

INSTRUCTORS_ONLY = "Only instructors can manage assignments"
STUDENTS_ONLY = "Only students can submit assignments"
GRADERS_ONLY = "Only instructors can grade submissions"

AssignmentListSchema = skip_limit_schema(AssignmentSchema, "assignments")
SubmissionListSchema = skip_limit_schema(SubmissionSchema, "submissions")


@blp.route("")
class AssignmentCreate(MethodView):
    @blp.doc(operationId="createAssignment")
    @blp.examples(request={"course_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "title": "Reverse a list",
                           "instructions": "Write a function that reverses a list, with tests.",
                           "due_date": "2025-02-01T23:59:00Z", "max_points": 100})
    @blp.arguments(AssignmentCreateSchema)
    @blp.response(201, AssignmentSchema)
    @blp.answers(404)
    @require_roles(Role.INSTRUCTOR, message=INSTRUCTORS_ONLY)
    def post(self, data):
        """Create an assignment in a course the calling instructor owns.

        An instructor who owns the course (admins and others 403; 404 for an unknown course). Starts as a
        `draft` unless `status` and `is_published` say otherwise; students see it once both say published.
        Rate rule: assignments.
        """
        return service.create_assignment(data, current_user())


@blp.route("/<uuid:assignment_id>")
class AssignmentItem(MethodView):
    @blp.doc(operationId="getAssignment")
    @blp.response(200, AssignmentSchema)
    @blp.answers(404)
    @login_required
    def get(self, assignment_id):
        """Get an assignment (its instructor, an admin, or an enrolled student once it is published).

        Its instructor, an admin, or a student enrolled in the course once it is published (`status:
        published` and `is_published`); 404 for anyone else.
        """
        return service.get_assignment(assignment_id, current_user())

    @blp.doc(operationId="updateAssignment")

    @blp.examples(request={"status": "published", "is_published": True})
    @blp.arguments(AssignmentUpdateSchema)
    @blp.response(200, AssignmentSchema)
    @blp.answers(404)
    @require_roles(Role.INSTRUCTOR, message=INSTRUCTORS_ONLY)
    def put(self, data, assignment_id):
        """Change an assignment of the caller's course, publishing included (`status`, `is_published`).

        Partial, although the method is PUT: only the fields sent change, and an empty body changes nothing.
        The owning instructor only (403 otherwise). `title`, `status` and `is_published` cannot be null.
        """
        return service.update_assignment(assignment_id, data, current_user())

    @blp.doc(operationId="deleteAssignment")
    @blp.response(204)
    @blp.answers(404)
    @require_roles(Role.INSTRUCTOR, message=INSTRUCTORS_ONLY)
    def delete(self, assignment_id):
        """Delete an assignment of the caller's course, with its submissions.

        The owning instructor only (403 otherwise). Its submissions go with it.
        """
        service.delete_assignment(assignment_id, current_user())


@blp.route("/course/<uuid:course_id>")
class CourseAssignments(MethodView):
    @blp.doc(operationId="listCourseAssignments")
    @blp.arguments(SkipLimitQuerySchema, location="query")
    @blp.response(200, AssignmentListSchema)
    @blp.answers(403, 404)
    @login_required
    def get(self, args, course_id):
        """A course's assignments: all for its instructor and admins, the published ones for its students.

        Paged with `skip` and `limit`. The course's instructor and admins see every assignment; an enrolled
        student the published ones; 403 for anyone else.
        """
        return service.list_course_assignments(course_id, current_user(), args)


@blp.route("/submit")
class SubmissionCreate(MethodView):
    @idempotent
    @blp.doc(operationId="submitAssignment")
    @blp.examples(request={"assignment_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                           "enrollment_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                           "content": "My solution and its tests.",
                           "file_urls": ["https://docs.example.com/essay.pdf"]})
    @blp.arguments(SubmissionCreateSchema)
    @blp.response(201, SubmissionSchema)
    @blp.answers(400, 404, 409)
    @require_roles(Role.STUDENT, message=STUDENTS_ONLY)
    def post(self, data):
        """Submit work for an assignment of the caller's course: once per assignment, late ones marked.

        A student enrolled in the course, with their own `enrollment_id`, once per assignment (409 for a
        second submission). `status` and `submitted_at` are set by the server and ignored if sent; a
        submission after the due date is accepted, marked `is_late` with its `days_late` and the
        `late_penalty_percent` of the assignment's late policy, until the policy's `late_cutoff_at` (409
        after it). A download URL of someone else's upload in `file_urls` is a 400. Rate rule: assignments.
        """
        return service.submit(data, current_user(), request.host)


@blp.route("/submissions/<uuid:submission_id>")
class SubmissionItem(MethodView):
    @blp.doc(operationId="getSubmission")
    @blp.response(200, SubmissionSchema)
    @blp.answers(404)
    @login_required
    def get(self, submission_id):
        """Get a submission (its student, the course's instructor or an admin).

        Its student, the course's instructor or an admin; 404 for anyone else.
        """
        return service.get_submission(submission_id, current_user())

    @blp.doc(operationId="updateSubmission")

    @blp.examples(request={"status": "returned", "feedback": "Well structured; test the empty list too."})
    @blp.arguments(SubmissionUpdateSchema)
    @blp.response(200, SubmissionSchema)
    @blp.answers(400, 404)
    @require_roles(Role.INSTRUCTOR, message=GRADERS_ONLY)
    def put(self, data, submission_id):
        """Change the fields sent on a submission to the caller's course.

        Partial, although the method is PUT: only the fields sent change. The course's instructor only (403
        otherwise). `grade` must stay between 0 and the maximum in force (400).
        """
        return service.update_submission(submission_id, data, current_user())


@blp.route("/submissions/<uuid:submission_id>/grade")
class SubmissionGrade(MethodView):
    @blp.doc(operationId="gradeSubmission")
    @blp.examples(request={"grade": 87.5, "feedback": "Well structured; test the empty list too."})
    @blp.arguments(GradeSchema)
    @blp.response(200, SubmissionSchema)
    @blp.answers(400, 404)
    @require_roles(Role.INSTRUCTOR, message=GRADERS_ONLY)
    def post(self, data, submission_id):
        """Grade a submission to the caller's course (0..max) and mail the student.

        The course's instructor only (403 otherwise). `max_grade` defaults to the assignment's `max_points`
        (else 100); a grade outside 0..max is a 400. Sets `status: graded` and `graded_at`, and mails the
        student.
        """
        return service.grade_submission(submission_id, data, current_user())


@blp.route("/submissions/assignment/<uuid:assignment_id>")
class AssignmentSubmissions(MethodView):
    @blp.doc(operationId="listAssignmentSubmissions")
    @blp.arguments(SkipLimitQuerySchema, location="query")
    @blp.response(200, SubmissionListSchema)
    @blp.answers(404)
    @require_roles(Role.INSTRUCTOR, Role.ADMIN)
    def get(self, args, assignment_id):
        """Every submission to an assignment (the course's instructor or an admin), oldest first.

        Paged with `skip` and `limit`, oldest first. The course's instructor or an admin (403 for other roles,
        404 for an instructor who does not own it).
        """
        return service.list_assignment_submissions(assignment_id, current_user(), args)


@blp.route("/submissions/enrollment/<uuid:enrollment_id>")
class EnrollmentSubmissions(MethodView):
    @blp.doc(operationId="listEnrollmentSubmissions")
    @blp.arguments(SkipLimitQuerySchema, location="query")
    @blp.response(200, SubmissionListSchema)
    @blp.answers(404)
    @login_required
    def get(self, args, enrollment_id):
        """An enrollment's submissions (its student, the course's instructor or an admin), oldest first.

        Paged with `skip` and `limit`, oldest first. The enrollment's student, the course's instructor or an
        admin; 404 for anyone else.
        """
        return service.list_enrollment_submissions(enrollment_id, current_user(), args)
