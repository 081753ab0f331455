"""Analytics response bodies (contract §4.8, plus `average_quiz_percentage` of §5.6)."""

from __future__ import annotations

import marshmallow as ma

from lms.core.schemas import Decimal2, Integer

_MEAN_SCORE = "Mean raw score (points) of graded quiz attempts"
_MEAN_PERCENTAGE = "Mean percentage of graded quiz attempts"


class StudentProgressSchema(ma.Schema):
    student_id = ma.fields.UUID(required=True)
    total_enrollments = Integer(required=True)
    active_enrollments = Integer(required=True)
    completed_enrollments = Integer(required=True)
    average_progress = Decimal2(required=True)
    total_time_hours = Decimal2(required=True)
    total_lessons_completed = Integer(required=True)
    quizzes_taken = Integer(required=True, metadata={"description": "Graded quiz attempts"})
    quizzes_passed = Integer(required=True)
    average_quiz_score = Decimal2(required=True, metadata={"description": _MEAN_SCORE})
    average_quiz_percentage = Decimal2(required=True, metadata={"description": _MEAN_PERCENTAGE})


class DashboardCourseSchema(ma.Schema):
    course_id = ma.fields.UUID(required=True)
    course_title = ma.fields.String(required=True)
    progress_percentage = Decimal2(required=True)
    completed_lessons = Integer(required=True)
    total_lessons = Integer(required=True)
    time_spent_hours = Decimal2(required=True)
    quizzes_completed = Integer(required=True)
    average_quiz_score = Decimal2(required=True, metadata={"description": _MEAN_SCORE})
    average_quiz_percentage = Decimal2(required=True, metadata={"description": _MEAN_PERCENTAGE})


class DailyActivitySchema(ma.Schema):
    date = ma.fields.String(required=True, metadata={"description": "UTC day, YYYY-MM-DD"})
    lessons_completed = Integer(required=True)
    time_spent_minutes = Integer(
        required=True, metadata={"description": "Time recorded on lesson progress last updated that day"})
    quizzes_taken = Integer(required=True)


class StudentDashboardSchema(ma.Schema):
    student_id = ma.fields.UUID(required=True)
    summary = ma.fields.Nested(StudentProgressSchema, required=True)
    courses = ma.fields.List(ma.fields.Nested(DashboardCourseSchema), required=True)
    recent_activity = ma.fields.List(ma.fields.Nested(DailyActivitySchema), required=True, metadata={
        "description": "Days of the last 30 (UTC) that had activity, newest first; empty days are left out"})


class CourseAnalyticsSchema(ma.Schema):
    course_id = ma.fields.UUID(required=True)
    course_title = ma.fields.String(required=True)
    total_enrollments = Integer(required=True)
    active_students = Integer(required=True)
    completed_students = Integer(required=True)
    completion_rate = Decimal2(required=True, metadata={"description": "Completed / all enrollments, in %"})
    average_progress = Decimal2(required=True)
    average_time_hours = Decimal2(required=True)
    average_rating = Decimal2(required=True, metadata={"description": "0.00 when nobody has rated"})
    total_reviews = Integer(required=True)


class InstructorOverviewSchema(ma.Schema):
    instructor_id = ma.fields.UUID(required=True)
    total_courses = Integer(required=True)
    published_courses = Integer(required=True)
    total_students = Integer(required=True, metadata={"description": "Distinct students"})
    total_enrollments = Integer(required=True)
    average_course_rating = Decimal2(
        required=True, metadata={"description": "Mean of every rating given to the instructor's courses"})


class SystemOverviewSchema(ma.Schema):
    total_users = Integer(required=True)
    total_students = Integer(required=True)
    total_instructors = Integer(required=True)
    total_courses = Integer(required=True)
    published_courses = Integer(required=True)
    total_enrollments = Integer(required=True)
    active_enrollments = Integer(required=True)
