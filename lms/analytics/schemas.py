"""Analytics response bodies (contract §4.8, plus `average_quiz_percentage` of §5.6)."""

from __future__ import annotations

import marshmallow as ma

from lms.core.schemas import Decimal2

_MEAN_SCORE = "Mean raw score (points) of graded quiz attempts"
_MEAN_PERCENTAGE = "Mean percentage of graded quiz attempts"


class StudentProgressSchema(ma.Schema):
    student_id = ma.fields.UUID(required=True)
    total_enrollments = ma.fields.Integer(required=True)
    active_enrollments = ma.fields.Integer(required=True)
    completed_enrollments = ma.fields.Integer(required=True)
    average_progress = Decimal2(required=True)
    total_time_hours = Decimal2(required=True)
    total_lessons_completed = ma.fields.Integer(required=True)
    quizzes_taken = ma.fields.Integer(required=True, metadata={"description": "Graded quiz attempts"})
    quizzes_passed = ma.fields.Integer(required=True)
    average_quiz_score = Decimal2(required=True, metadata={"description": _MEAN_SCORE})
    average_quiz_percentage = Decimal2(required=True, metadata={"description": _MEAN_PERCENTAGE})


class DashboardCourseSchema(ma.Schema):
    course_id = ma.fields.UUID(required=True)
    course_title = ma.fields.String(required=True)
    progress_percentage = Decimal2(required=True)
    completed_lessons = ma.fields.Integer(required=True)
    total_lessons = ma.fields.Integer(required=True)
    time_spent_hours = Decimal2(required=True)
    quizzes_completed = ma.fields.Integer(required=True)
    average_quiz_score = Decimal2(required=True, metadata={"description": _MEAN_SCORE})
    average_quiz_percentage = Decimal2(required=True, metadata={"description": _MEAN_PERCENTAGE})


class DailyActivitySchema(ma.Schema):
    date = ma.fields.String(required=True, metadata={"description": "UTC day, YYYY-MM-DD"})
    lessons_completed = ma.fields.Integer(required=True)
    time_spent_minutes = ma.fields.Integer(
        required=True, metadata={"description": "Time recorded on lesson progress last updated that day"})
    quizzes_taken = ma.fields.Integer(required=True)


class StudentDashboardSchema(ma.Schema):
    student_id = ma.fields.UUID(required=True)
    summary = ma.fields.Nested(StudentProgressSchema, required=True)
    courses = ma.fields.List(ma.fields.Nested(DashboardCourseSchema), required=True)
    recent_activity = ma.fields.List(ma.fields.Nested(DailyActivitySchema), required=True, metadata={
        "description": "Days of the last 30 (UTC) that had activity, newest first; empty days are left out"})


class CourseAnalyticsSchema(ma.Schema):
    course_id = ma.fields.UUID(required=True)
    course_title = ma.fields.String(required=True)
    total_enrollments = ma.fields.Integer(required=True)
    active_students = ma.fields.Integer(required=True)
    completed_students = ma.fields.Integer(required=True)
    completion_rate = Decimal2(required=True, metadata={"description": "Completed / all enrollments, in %"})
    average_progress = Decimal2(required=True)
    average_time_hours = Decimal2(required=True)
    average_rating = Decimal2(required=True, metadata={"description": "0.00 when nobody has rated"})
    total_reviews = ma.fields.Integer(required=True)


class InstructorOverviewSchema(ma.Schema):
    instructor_id = ma.fields.UUID(required=True)
    total_courses = ma.fields.Integer(required=True)
    published_courses = ma.fields.Integer(required=True)
    total_students = ma.fields.Integer(required=True, metadata={"description": "Distinct students"})
    total_enrollments = ma.fields.Integer(required=True)
    average_course_rating = Decimal2(
        required=True, metadata={"description": "Mean of every rating given to the instructor's courses"})


class SystemOverviewSchema(ma.Schema):
    total_users = ma.fields.Integer(required=True)
    total_students = ma.fields.Integer(required=True)
    total_instructors = ma.fields.Integer(required=True)
    total_courses = ma.fields.Integer(required=True)
    published_courses = ma.fields.Integer(required=True)
    total_enrollments = ma.fields.Integer(required=True)
    active_enrollments = ma.fields.Integer(required=True)
