"""Analytics endpoints (contract §4.8)."""

from flask.views import MethodView

from lms.analytics import service
from lms.analytics.schemas import (
    CourseAnalyticsSchema,
    InstructorOverviewSchema,
    StudentDashboardSchema,
    StudentProgressSchema,
    SystemOverviewSchema,
)
from lms.core.api import Blueprint
from lms.core.permissions import Role, current_user, login_required, require_roles

blp = Blueprint("analytics", __name__, url_prefix="/analytics",
                description="Progress and dashboards: a student's own, a course's, an instructor's, the whole system's")


@blp.route("/my-progress")
class MyProgress(MethodView):
    @blp.doc(operationId="getMyProgress")
    @blp.response(200, StudentProgressSchema)
    @login_required
    def get(self):
        """The caller's learning summary (zeros for non-students).

        The caller's figures across enrollments and quizzes; zeros for instructors and admins. Decimals are
        strings with two decimals.
        """
        return service.student_progress(current_user())


@blp.route("/my-dashboard")
class MyDashboard(MethodView):
    @blp.doc(operationId="getMyDashboard")
    @blp.response(200, StudentDashboardSchema)
    @login_required
    def get(self):
        """The caller's summary, per-course figures and daily activity of the last 30 UTC days.

        The figures of `GET /analytics/my-progress`, each course's progress, and one entry per UTC day of the
        last 30 with the lessons completed and the time spent.
        """
        return service.student_dashboard(current_user())


@blp.route("/courses/<uuid:course_id>")
class CourseAnalytics(MethodView):
    @blp.doc(operationId="getCourseAnalytics")
    @blp.response(200, CourseAnalyticsSchema)
    @blp.answers(404)
    @require_roles(Role.INSTRUCTOR, Role.ADMIN)
    def get(self, course_id):
        """Enrollment figures of a course, for its instructor or an admin (fresh within 60 s).

        The course's instructor or an admin: 403 for students even for an unknown course (the role is checked
        first), 403 for other instructors, 404 for an unknown course. Computed at most 60 seconds ago.
        """
        return service.course_analytics(course_id, current_user())


@blp.route("/instructors/<uuid:instructor_id>/overview")
class InstructorOverview(MethodView):
    @blp.doc(operationId="getInstructorOverview")
    @blp.response(200, InstructorOverviewSchema)
    @blp.answers(403, 404)
    @login_required
    def get(self, instructor_id):
        """An instructor's courses and students, for that instructor or an admin.

        That instructor or an admin (403 for anyone else); 404 when the id is not an instructor.
        """
        return service.instructor_overview(instructor_id, current_user())


@blp.route("/system/overview")
class SystemOverview(MethodView):
    @blp.doc(operationId="getSystemOverview")
    @blp.response(200, SystemOverviewSchema)
    @require_roles(Role.ADMIN)
    def get(self):
        """Platform-wide counts (admins only).

        Admins only (403 for others). Counts of users by role, courses and enrollments.
        """
        return service.system_overview()
