"""Imports every model so that metadata (Alembic, create_all) sees the whole schema."""

from lms.assignments.models import Assignment, Submission
from lms.audit.models import AuditEntry
from lms.auth.models import RefreshToken, UserToken
from lms.certificates.models import Certificate
from lms.core.tombstones import Tombstone
from lms.courses.models import Course, Lesson
from lms.enrollments.models import Enrollment, LessonProgress
from lms.files.models import StoredFile
from lms.privacy.models import DataExport
from lms.quizzes.models import Question, Quiz, QuizAttempt
from lms.users.models import User
from lms.webhooks.models import OutboxEvent, WebhookDelivery, WebhookEndpoint

__all__ = ["Assignment", "AuditEntry", "Certificate", "Course", "DataExport", "Enrollment", "Lesson",
           "LessonProgress", "OutboxEvent", "Question", "Quiz", "QuizAttempt", "RefreshToken", "StoredFile",
           "Submission", "Tombstone", "User", "UserToken", "WebhookDelivery", "WebhookEndpoint"]
