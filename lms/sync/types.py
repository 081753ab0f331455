"""The object types of GET /changes: each with its model and the column that says when a row was created.

Webhook deliveries are left out: a log that the relay prunes after 30 days, not data to mirror (their
list still pages with `updated_since`/`after`)."""

from __future__ import annotations

from typing import Any

from lms.assignments.models import Assignment, Submission
from lms.certificates.models import Certificate
from lms.courses.models import Course, Lesson
from lms.enrollments.models import Enrollment, LessonProgress
from lms.files.models import StoredFile
from lms.quizzes.models import Question, Quiz, QuizAttempt
from lms.users.models import User
from lms.webhooks.models import WebhookEndpoint

TYPES: dict[str, tuple[Any, Any]] = {
    "users": (User, User.created_at),
    "courses": (Course, Course.created_at),
    "lessons": (Lesson, Lesson.created_at),
    "enrollments": (Enrollment, Enrollment.enrolled_at),
    "lesson_progress": (LessonProgress, LessonProgress.created_at),
    "quizzes": (Quiz, Quiz.created_at),
    "questions": (Question, Question.created_at),
    "quiz_attempts": (QuizAttempt, QuizAttempt.started_at),
    "assignments": (Assignment, Assignment.created_at),
    "submissions": (Submission, Submission.created_at),
    "certificates": (Certificate, Certificate.issued_at),
    "files": (StoredFile, StoredFile.created_at),
    "webhook_endpoints": (WebhookEndpoint, WebhookEndpoint.created_at),
}
DEFAULT_LIMIT = 1000  # changes per answer
MAX_LIMIT = 5000
