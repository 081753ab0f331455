"""Seeding the deployed app through its HTTP API only, for `make bench`.

The admin (made with `flask create-admin`) creates the instructors (`POST /users`); each instructor
creates courses of 10 lessons (the 10th a quiz lesson carrying a published 5-question quiz: 3
multiple choice, 2 true/false) and publishes them; students register (`POST /auth/register`) and
each enrolls in random courses. `seed` answers the ids and tokens the workloads need, as a dict
that `write_data_files` turns into the wrk scripts' data files.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client import Client, run_parallel

API = "/api/v1"
PASSWORD = "Bench-pass-2024"
LESSONS_PER_COURSE = 10
CATEGORIES = ("programming", "design", "data-science", "business", "languages")
LEVELS = ("beginner", "intermediate", "advanced")
TEXT = "Benchmark lesson text. " * 20
CORRECT_OPTION, WRONG_OPTION = "a", "b"
# The API refuses a correct_answer on a multiple choice question: the option marked is_correct is the key.
MULTIPLE_CHOICE = {
    "question_type": "multiple_choice",
    "options": [{"option_id": CORRECT_OPTION, "option_text": "The right answer", "is_correct": True},
                {"option_id": WRONG_OPTION, "option_text": "A wrong answer", "is_correct": False}],
}
TRUE_FALSE = {"question_type": "true_false", "correct_answer": "true"}
QUESTIONS = [MULTIPLE_CHOICE] * 3 + [TRUE_FALSE] * 2


@dataclass(frozen=True)
class Sizes:
    instructors: int
    courses_per_instructor: int
    students: int
    enrollments_per_student: int


def login(client: Client, email: str) -> str:
    answer = client.expect(200, "POST", f"{API}/auth/login", {"email": email, "password": PASSWORD})
    return answer["tokens"]["access_token"]


def create_instructor(client: Client, admin_token: str, number: int) -> dict[str, str]:
    email = f"instructor{number}@bench.example.com"
    client.expect(201, "POST", f"{API}/users", {"email": email, "password": PASSWORD,
                                               "full_name": f"Bench Instructor {number}", "role": "instructor"},
                  admin_token)
    return {"email": email, "token": login(client, email)}


def create_quiz(client: Client, token: str, course_id: str, lesson_id: str) -> dict[str, Any]:
    quizzes = f"{API}/courses/{course_id}/quizzes"
    quiz = client.expect(201, "POST", quizzes, {
        "title": "Final quiz", "lesson_id": lesson_id, "quiz_type": "graded", "passing_score": 50,
        "max_attempts": None, "time_limit_minutes": None, "shuffle_questions": False, "shuffle_options": False,
    }, token)
    questions = []
    for number, question in enumerate(QUESTIONS, start=1):
        body = {**question, "question_text": f"Question {number} of the final quiz?"}
        created = client.expect(201, "POST", f"{quizzes}/{quiz['id']}/questions", body, token)
        questions.append({"id": created["id"], "type": question["question_type"]})
    client.expect(200, "POST", f"{quizzes}/{quiz['id']}/publish", None, token)
    return {"id": quiz["id"], "lesson_id": lesson_id, "questions": questions}


def create_course(client: Client, instructor: dict[str, str], number: int) -> dict[str, Any]:
    token = instructor["token"]
    course = client.expect(201, "POST", f"{API}/courses", {
        "title": f"Bench course {instructor['email'].split('@')[0]} {number}",
        "description": f"Course {number}, seeded through the API by bench/seed.py.",
        "category": CATEGORIES[number % len(CATEGORIES)],
        "difficulty_level": LEVELS[number % len(LEVELS)],
    }, token)
    lessons = []
    for position in range(1, LESSONS_PER_COURSE + 1):
        lesson_type = "quiz" if position == LESSONS_PER_COURSE else "text"
        lesson = client.expect(201, "POST", f"{API}/courses/{course['id']}/lessons",
                               {"title": f"Lesson {position}", "lesson_type": lesson_type, "content": TEXT}, token)
        lessons.append(lesson["id"])
    quiz = create_quiz(client, token, course["id"], lessons[-1])
    client.expect(200, "POST", f"{API}/courses/{course['id']}/publish", None, token)
    return {"id": course["id"], "lessons": lessons, "quiz": quiz}


def register_student(client: Client, number: int) -> dict[str, Any]:
    email = f"student{number}@bench.example.com"
    answer = client.expect(201, "POST", f"{API}/auth/register",
                           {"email": email, "password": PASSWORD, "full_name": f"Bench Student {number}"})
    return {"email": email, "token": answer["tokens"]["access_token"], "enrollments": []}


def enroll(client: Client, student: dict[str, Any], course_index: int, course_id: str) -> dict[str, Any]:
    enrollment = client.expect(201, "POST", f"{API}/enrollments", {"course_id": course_id}, student["token"])
    return {"id": enrollment["id"], "course": course_index}


def seed(client: Client, admin_email: str, sizes: Sizes, workers: int, rng: random.Random) -> dict[str, Any]:
    """Seeds everything through the API; the ids and tokens, as a JSON-able dict."""
    admin_token = login(client, admin_email)
    instructors = [create_instructor(client, admin_token, number) for number in range(sizes.instructors)]
    print(f"  {len(instructors)} instructors created", flush=True)
    course_jobs = [(instructor, number) for instructor in instructors
                   for number in range(sizes.courses_per_instructor)]
    courses = run_parallel(lambda job: create_course(client, *job), course_jobs, workers, "courses")
    students = run_parallel(lambda number: register_student(client, number), range(sizes.students), workers,
                            "students")
    per_student = min(sizes.enrollments_per_student, len(courses))
    enrollment_jobs = [(student, course_index) for student in students
                       for course_index in rng.sample(range(len(courses)), per_student)]
    enrollments = run_parallel(
        lambda job: enroll(client, job[0], job[1], courses[job[1]]["id"]), enrollment_jobs, workers, "enrollments")
    for (student, _), enrollment in zip(enrollment_jobs, enrollments, strict=True):
        student["enrollments"].append(enrollment)
    return {"password": PASSWORD, "instructors": instructors, "courses": courses, "students": students}


def progress_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(student token, enrollment id, lesson id) for every lesson but the quiz lesson of every enrollment."""
    rows = []
    for student in data["students"]:
        for enrollment in student["enrollments"]:
            course = data["courses"][enrollment["course"]]
            rows += [(student["token"], enrollment["id"], lesson) for lesson in course["lessons"]
                     if lesson != course["quiz"]["lesson_id"]]
    return rows


def write_data_files(data: dict[str, Any], directory: Path) -> dict[str, Path]:
    """The data files of the wrk scripts (tab-separated), by name."""
    tables = {
        "courses": [(course["id"],) for course in data["courses"]],
        "tokens": [(student["token"],) for student in data["students"]],
        "logins": [(student["email"], data["password"]) for student in data["students"]],
        "progress": progress_rows(data),
    }
    paths = {}
    for name, rows in tables.items():
        paths[name] = directory / f"{name}.txt"
        paths[name].write_text("".join("\t".join(row) + "\n" for row in rows))
    return paths


class SeedCheckError(RuntimeError):
    """The seeded data is not what the workloads expect."""


def check_seed(client: Client, data: dict[str, Any], sizes: Sizes, bulk_filled: bool = False) -> None:
    """The catalog lists every course (and, `bulk_filled`, the demo's), and one request of each
    workload answers as expected."""
    listed = client.expect(200, "GET", f"{API}/courses?page=1&page_size=1")["total"]
    seeded = len(data["courses"])
    if (listed < seeded if bulk_filled else listed != seeded) or seeded != sizes.instructors * sizes.courses_per_instructor:
        raise SeedCheckError(f"the catalog lists {listed} courses, {len(data['courses'])} were seeded")
    student = data["students"][0]
    enrollment = student["enrollments"][0]
    course = data["courses"][enrollment["course"]]
    quiz = course["quiz"]
    client.expect(200, "GET", f"{API}/health")
    client.expect(200, "GET", f"{API}/courses/{course['id']}")
    client.expect(200, "GET", f"{API}/auth/me", token=student["token"])
    login(client, student["email"])
    client.expect(200, "PUT", f"{API}/enrollments/{enrollment['id']}/lessons/{course['lessons'][0]}/progress",
                  {"status": "in_progress", "completion_percentage": 10, "time_spent_seconds": 60,
                   "last_position_seconds": 30}, student["token"])
    attempt = client.expect(201, "POST", f"{API}/quizzes/{quiz['id']}/attempts", token=student["token"])
    answers = [{"question_id": question["id"], "selected_option_id": CORRECT_OPTION}
               if question["type"] == "multiple_choice" else {"question_id": question["id"], "answer_text": "true"}
               for question in quiz["questions"]]
    graded = client.expect(200, "POST", f"{API}/quizzes/{quiz['id']}/attempts/{attempt['id']}/submit",
                           {"answers": answers}, student["token"])
    if not graded.get("is_passed"):
        raise SeedCheckError(f"a submission with every answer right did not pass: {graded}")
