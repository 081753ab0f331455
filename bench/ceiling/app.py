"""W6 and W7 on the stack's bare parts: what their requests cannot do without, and nothing else.

`make bench BENCH_ARGS="--ceiling"` serves this under the floor's gunicorn settings on the bench's
database and Redis, and runs W6 and W7 against it right after their floor: the ratio it reaches is
about the best any implementation on this stack can reach, so it says how far the LMS's targets can
be met.

What it keeps, as cheaply as the stack allows:
- the bearer token's signature checked once per process and its expiry on every request;
- one Redis round trip for the per-client rate-limit counter and the token's revocation entry;
- one transaction of prepared statements, as many as the LMS runs: the caller's row (active), then
  - W6: the enrollment locked with what the access check needs, the lesson's progress row with the
    enrollment's figures, the row's write, the enrollment's update;
  - W7 start: the quiz with its course and the caller's enrollment, the attempts so far with the
    quiz's points, the attempt's insert;
  - W7 submit: the same context with the attempt, the answer key, the grading update, and for a
    pass W6's four statements for the quiz's lesson;
- the course analytics' invalidation after a progress write;
- JSON in and out.

What it leaves out, and the LMS cannot: the ORM, schema validation and the OpenAPI layer,
Flask-Limiter, security headers and CORS, the request id and access log, metrics, events, the error
format, the fault rules, most refusals (a time limit, `max_attempts`, roles). It reads the schema of
the migrations at their head; when a migration changes these tables, this file follows.
"""

import json
import os
import time
import uuid
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

import jwt
import redis
from flask import Flask, Response, request
from sqlalchemy import create_engine, event, text

STATEMENTS = {
    "ceiling_user": "SELECT is_active, tokens_valid_after FROM users WHERE id = $1",
    "ceiling_lock": """
        SELECT e.student_id, e.course_id, e.status, c.is_published, c.instructor_id,
               EXISTS (SELECT 1 FROM lessons l WHERE l.id = $2 AND l.course_id = e.course_id) AS lesson_in_course,
               EXISTS (SELECT 1 FROM quizzes q WHERE q.lesson_id = $2 AND q.is_published AND q.quiz_type = 'graded')
                   AS completed_by_quiz
        FROM enrollments e JOIN courses c ON c.id = e.course_id
        WHERE e.id = $1 FOR NO KEY UPDATE OF e""",
    "ceiling_figures": """
        SELECT p.id, p.status, p.time_spent_seconds,
               (SELECT count(*) FROM lessons WHERE course_id = $2), f.completed, f.time_spent
        FROM (SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
                     coalesce(sum(time_spent_seconds), 0) AS time_spent
              FROM lesson_progress WHERE enrollment_id = $1) f
        LEFT JOIN lesson_progress p ON p.enrollment_id = $1 AND p.lesson_id = $3""",
    "ceiling_update_progress": """
        UPDATE lesson_progress SET status = $2, completion_percentage = $3, time_spent_seconds = $4,
               last_position_seconds = $5, updated_at = $6 WHERE id = $1""",
    "ceiling_complete_progress": """
        UPDATE lesson_progress SET status = 'completed', completion_percentage = 100,
               started_at = coalesce(started_at, $2), completed_at = coalesce(completed_at, $2), updated_at = $2
        WHERE id = $1""",
    "ceiling_insert_progress": """
        INSERT INTO lesson_progress (id, enrollment_id, lesson_id, status, started_at, completed_at,
               time_spent_seconds, last_position_seconds, completion_percentage, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $5, $5)""",
    "ceiling_update_enrollment": """
        UPDATE enrollments SET total_lessons_count = $2, completed_lessons_count = $3,
               total_time_spent_seconds = $4, progress_percentage = $5, last_accessed_at = $6, updated_at = $6
        WHERE id = $1""",
    "ceiling_quiz": """
        SELECT q.id, q.lesson_id, q.is_published, q.passing_score, c.is_published AS course_is_published,
               e.id AS enrollment_id, e.status AS enrollment_status, a.id AS attempt_id, a.status AS attempt_status,
               a.started_at AS attempt_started_at
        FROM quizzes q JOIN courses c ON c.id = q.course_id
        LEFT JOIN enrollments e ON e.course_id = q.course_id AND e.student_id = $2
        LEFT JOIN quiz_attempts a ON a.id = $3 AND a.quiz_id = q.id AND a.enrollment_id = e.id
        WHERE q.id = $1""",
    "ceiling_attempts": """
        SELECT a.id, (SELECT count(*) FROM quiz_attempts WHERE enrollment_id = $1 AND quiz_id = $2),
               (SELECT sum(points) FROM questions WHERE quiz_id = $2)
        FROM quizzes q LEFT JOIN quiz_attempts a
             ON a.quiz_id = q.id AND a.enrollment_id = $1 AND a.status = 'in_progress'
        WHERE q.id = $2""",
    "ceiling_insert_attempt": """
        INSERT INTO quiz_attempts (id, quiz_id, enrollment_id, attempt_number, status, started_at, max_score,
               updated_at)
        VALUES ($1, $2, $3, $4, 'in_progress', $5, $6, $5)""",
    "ceiling_answer_key": """
        SELECT id, question_type, points, options, correct_answer FROM questions WHERE quiz_id = $1
        ORDER BY order_index""",
    "ceiling_grade": """
        UPDATE quiz_attempts SET status = 'graded', submitted_at = $2, graded_at = $2, score = $3, max_score = $4,
               percentage = $5, is_passed = $6, time_taken_seconds = $7, answers = $8, updated_at = $2
        WHERE id = $1 AND status = 'in_progress'""",
}
LEARNING = ("active", "completed")
CENTS = Decimal("0.01")


def _prepared(name: str, arity: int) -> text:
    return text(f"EXECUTE {name}({', '.join(f':p{number}' for number in range(arity))})")


USER, LOCK, FIGURES = _prepared("ceiling_user", 1), _prepared("ceiling_lock", 2), _prepared("ceiling_figures", 3)
UPDATE_PROGRESS, INSERT_PROGRESS = _prepared("ceiling_update_progress", 6), _prepared("ceiling_insert_progress", 9)
COMPLETE_PROGRESS = _prepared("ceiling_complete_progress", 2)
UPDATE_ENROLLMENT = _prepared("ceiling_update_enrollment", 6)
QUIZ, ATTEMPTS, INSERT_ATTEMPT = _prepared("ceiling_quiz", 3), _prepared("ceiling_attempts", 2), \
    _prepared("ceiling_insert_attempt", 6)
ANSWER_KEY, GRADE = _prepared("ceiling_answer_key", 1), _prepared("ceiling_grade", 8)

app = Flask(__name__)
engine = create_engine(os.environ["FLOOR_DATABASE_URL"], pool_size=5, max_overflow=5)
cache = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
secret = os.environ["SECRET_KEY"]
verified_tokens: dict[str, dict] = {}
VERIFIED_TOKENS_KEPT = 2048  # as the LMS keeps them


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@app.errorhandler(Refused)
def refused(error: Refused) -> Response:
    return Response(json.dumps({"detail": error.detail}), error.status, mimetype="application/json")


@event.listens_for(engine, "connect")
def _prepare(connection, _record) -> None:
    with connection.cursor() as cursor:
        for name, sql in STATEMENTS.items():
            cursor.execute(f"PREPARE {name} AS {sql}")
    connection.commit()


def _run(connection, statement: text, *values):
    return connection.execute(statement, {f"p{number}": value for number, value in enumerate(values)})


def _caller() -> dict:
    """The caller's token claims, after the token, the rate-limit counter and the revocation entry."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    claims = verified_tokens.get(token)
    if claims is None:
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            raise Refused(401, "Could not validate credentials") from None
        if claims.get("type") != "access":
            raise Refused(401, "Invalid token type")
        if len(verified_tokens) >= VERIFIED_TOKENS_KEPT:
            verified_tokens.pop(next(iter(verified_tokens)), None)
        verified_tokens[token] = claims
    if claims["exp"] <= time.time():
        raise Refused(401, "Could not validate credentials")
    window = f"ceiling:limit:{request.remote_addr}:{int(time.time() // 60)}"
    pipeline = cache.pipeline(transaction=False)
    pipeline.incr(window).expire(window, 60, nx=True).get(f"auth:blacklist:access:{claims['jti']}")
    if pipeline.execute()[2] is not None:
        raise Refused(401, "Token has been revoked")
    return claims


def _check_user(connection, claims: dict) -> str:
    """The caller's id, when their row is active and the token is not older than `tokens_valid_after`."""
    user = _run(connection, USER, claims["sub"]).first()
    if user is None or not user.is_active:
        raise Refused(401, "Could not validate credentials")
    if user.tokens_valid_after is not None and claims["iat"] < user.tokens_valid_after.timestamp():
        raise Refused(401, "Token has been revoked")
    return claims["sub"]


def _write_progress(connection, user_id: str, enrollment_id: str, lesson_id: str, changes: dict | None,
                    now: datetime) -> tuple[str, str]:
    """W6's four statements (lock, figures, the row's write, the enrollment's update): `changes` as
    PUT sends them, or None to complete the lesson (no write when it is completed already). Returns
    the row's id and the course's, whose analytics the caller invalidates after the commit."""
    enrollment = _run(connection, LOCK, enrollment_id, lesson_id).first()
    if enrollment is None or str(enrollment.student_id) != user_id or not enrollment.lesson_in_course:
        raise Refused(404, "Enrollment not found")
    if enrollment.status not in LEARNING:
        raise Refused(403, "Enrollment is not active")
    if changes is not None and changes["status"] == "completed" and enrollment.completed_by_quiz:
        raise Refused(400, "Pass the lesson's quiz to complete it")
    progress_id, status_before, spent_before, total, completed, spent_in_course = _run(
        connection, FIGURES, enrollment_id, str(enrollment.course_id), lesson_id).first()
    status = "completed" if changes is None else changes["status"]
    spent = (spent_before or 0) if changes is None else changes["time_spent_seconds"]
    if progress_id is None:
        progress_id, spent_before = str(uuid.uuid4()), 0
        percentage = Decimal("100") if changes is None else changes["completion_percentage"]
        _run(connection, INSERT_PROGRESS, progress_id, enrollment_id, lesson_id, status, now,
             now if status == "completed" else None, spent,
             0 if changes is None else changes["last_position_seconds"], percentage)
    elif changes is not None:
        _run(connection, UPDATE_PROGRESS, str(progress_id), status, changes["completion_percentage"], spent,
             changes["last_position_seconds"], now)
    elif status_before != "completed":
        _run(connection, COMPLETE_PROGRESS, str(progress_id), now)
    completed += (status == "completed") - (status_before == "completed")
    share = (Decimal(completed * 100) / total).quantize(CENTS, ROUND_HALF_UP) if total else Decimal("0")
    _run(connection, UPDATE_ENROLLMENT, enrollment_id, total, completed, spent_in_course - (spent_before or 0) + spent,
         share, now)
    return str(progress_id), str(enrollment.course_id)


def _invalidate_analytics(course_id: str) -> None:
    cache.delete(f"cache:analytics:course:{course_id}")


@app.get("/ready")
def ready() -> Response:
    with engine.connect() as connection:  # the first connection also prepares the statements
        connection.execute(text("SELECT 1"))
    return Response('{"status": "ok"}', mimetype="application/json")


@app.put("/api/v1/enrollments/<uuid:enrollment_id>/lessons/<uuid:lesson_id>/progress")
def write_progress(enrollment_id: uuid.UUID, lesson_id: uuid.UUID) -> Response:
    claims = _caller()
    body = json.loads(request.get_data())
    changes = {"status": body["status"],
               "completion_percentage": Decimal(body["completion_percentage"]).quantize(CENTS, ROUND_HALF_UP),
               "time_spent_seconds": int(body["time_spent_seconds"]),
               "last_position_seconds": int(body["last_position_seconds"])}
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        user_id = _check_user(connection, claims)
        progress_id, course_id = _write_progress(connection, user_id, str(enrollment_id), str(lesson_id), changes,
                                                 now)
    _invalidate_analytics(course_id)
    return Response(json.dumps({
        "id": progress_id, "enrollment_id": str(enrollment_id), "lesson_id": str(lesson_id),
        "status": changes["status"], "completion_percentage": str(changes["completion_percentage"]),
        "time_spent_seconds": changes["time_spent_seconds"],
        "last_position_seconds": changes["last_position_seconds"], "updated_at": now.isoformat()}),
        mimetype="application/json")


def _quiz(connection, quiz_id: uuid.UUID, user_id: str, attempt_id: uuid.UUID | None = None):
    quiz = _run(connection, QUIZ, str(quiz_id), user_id, str(attempt_id) if attempt_id else None).first()
    if quiz is None or not (quiz.is_published and quiz.course_is_published):
        raise Refused(404, "Quiz not found")
    if quiz.enrollment_status not in LEARNING:
        raise Refused(403, "You must be enrolled in the course")
    return quiz


@app.post("/api/v1/quizzes/<uuid:quiz_id>/attempts")
def start_attempt(quiz_id: uuid.UUID) -> Response:
    claims, now = _caller(), datetime.now(timezone.utc)
    with engine.begin() as connection:
        user_id = _check_user(connection, claims)
        quiz = _quiz(connection, quiz_id, user_id)
        in_progress, attempts, points = _run(connection, ATTEMPTS, str(quiz.enrollment_id), str(quiz_id)).first()
        if in_progress is not None:
            raise Refused(403, "An attempt is already in progress")
        attempt_id = str(uuid.uuid4())
        _run(connection, INSERT_ATTEMPT, attempt_id, str(quiz_id), str(quiz.enrollment_id), attempts + 1, now,
             points or Decimal("0"))
    return Response(json.dumps({
        "id": attempt_id, "quiz_id": str(quiz_id), "enrollment_id": str(quiz.enrollment_id),
        "attempt_number": attempts + 1, "status": "in_progress", "started_at": now.isoformat(),
        "max_score": str(points or Decimal("0"))}), 201, mimetype="application/json")


def _is_right(question, answer: dict) -> bool:
    """As the LMS grades: the chosen option of a multiple-choice question, the text of the others
    against the correct answer (an essay, which has none, is never right)."""
    if question.question_type == "multiple_choice":
        return any(option["option_id"] == answer.get("selected_option_id") and option.get("is_correct")
                   for option in question.options or [])
    if question.correct_answer is None:
        return False
    return str(answer.get("answer_text", "")).strip().lower() == question.correct_answer.strip().lower()


@app.post("/api/v1/quizzes/<uuid:quiz_id>/attempts/<uuid:attempt_id>/submit")
def submit_attempt(quiz_id: uuid.UUID, attempt_id: uuid.UUID) -> Response:
    claims, now = _caller(), datetime.now(timezone.utc)
    submitted = json.loads(request.get_data())["answers"]
    answers = {answer["question_id"]: answer for answer in submitted}
    with engine.begin() as connection:
        user_id = _check_user(connection, claims)
        quiz = _quiz(connection, quiz_id, user_id, attempt_id)
        if quiz.attempt_id is None:
            raise Refused(404, "Attempt not found")
        if quiz.attempt_status != "in_progress":
            raise Refused(403, "Attempt already submitted")
        questions = _run(connection, ANSWER_KEY, str(quiz_id)).all()
        if len(answers) != len(submitted) or not answers.keys() <= {str(question.id) for question in questions}:
            raise Refused(400, "Each answer must name a different question of this quiz")
        graded, score, max_score = [], Decimal("0"), Decimal("0")
        for question in questions:
            answer = answers.get(str(question.id), {})
            right = _is_right(question, answer)
            score += question.points if right else 0
            max_score += question.points
            graded.append({**answer, "is_correct": right, "points_earned": str(question.points if right else 0)})
        percentage = (score * 100 / max_score).quantize(CENTS, ROUND_HALF_UP) if max_score else Decimal("0")
        passed = percentage >= quiz.passing_score
        taken = int((now - quiz.attempt_started_at).total_seconds())
        if not _run(connection, GRADE, str(attempt_id), now, score, max_score, percentage, passed, taken,
                    json.dumps(graded)).rowcount:
            raise Refused(403, "Attempt already submitted")
        course_id = None
        if passed:
            _, course_id = _write_progress(connection, user_id, str(quiz.enrollment_id), str(quiz.lesson_id), None,
                                           now)
    if course_id is not None:
        _invalidate_analytics(course_id)
    return Response(json.dumps({
        "id": str(attempt_id), "status": "graded", "score": str(score), "max_score": str(max_score),
        "percentage": str(percentage), "is_passed": passed, "time_taken_seconds": taken,
        "submitted_at": now.isoformat(), "answers": graded}), mimetype="application/json")
