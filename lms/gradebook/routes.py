"""`GET /courses/{course_id}/gradebook`: JSON pages, or the whole gradebook streamed as CSV."""

from __future__ import annotations

from flask import Response, request, stream_with_context
from flask.views import MethodView

from lms.core.api import Blueprint
from lms.core.permissions import Role, current_user, require_roles
from lms.gradebook import service
from lms.gradebook.schemas import GradebookQuerySchema, GradebookSchema

blp = Blueprint("gradebook", __name__, url_prefix="/courses",
                description="A course's gradebook: progress, quiz scores, assignment grades and a weighted total")

CSV = "text/csv"
ANSWER = "A page of the gradebook as JSON, or all of it as CSV (`Accept: text/csv` or `?format=csv`)"
CSV_EXAMPLE = (
    "student_id,student_name,student_email,enrollment_status,progress_percentage,quiz: Basics [best %],"
    "assignment: Essay [grade],assignment: Essay [final grade],assignment: Essay [%],assignment: Essay [days late],"
    "weighted_total\r\n3fa85f64-5717-4562-b3fc-2c963f66afa6,Stu Dent,stu@example.com,active,50.00,80.00,9.0,8.1,"
    "81.00,1,80.50\r\n")


def wants_csv(args: dict) -> bool:
    if "format" in args:
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", CSV]) == CSV


@blp.route("/<uuid:course_id>/gradebook")
class Gradebook(MethodView):
    @blp.doc(operationId="getCourseGradebook")
    @blp.arguments(GradebookQuerySchema, location="query")
    @blp.response(200, GradebookSchema, description=ANSWER)
    @blp.alt_response(200, description=ANSWER,
                      content_type=CSV, schema={"type": "string"}, example=CSV_EXAMPLE, success=True)
    @blp.answers(404)
    @require_roles(Role.INSTRUCTOR, Role.ADMIN)
    def get(self, args, course_id):
        """A course's gradebook, one row per enrolled student, for its instructor or an admin.

        The course's instructor (while an instructor) or an admin: 403 for students and other instructors,
        404 for an unknown course. Each row: the student, the enrollment's status and progress, the best
        graded percentage of each published quiz, each published assignment's submission (raw `grade`,
        `final_grade` after the late penalty, late flags) and a `weighted_total` over what is graded so far,
        each item counted by its `weight` (set on the quiz or assignment; 1 by default). Rows by student
        name, paged with `page` and `page_size`. With `Accept: text/csv` or `?format=csv`, every row is
        streamed as CSV with a header row (paging does not apply).
        """
        if wants_csv(args):
            filename, lines = service.gradebook_csv(course_id, current_user())
            return Response(stream_with_context(lines), mimetype=CSV,
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        return service.gradebook_page(course_id, current_user(), args)
