"""W6 on the stack's bare parts: what `PUT …/lessons/{l}/progress` cannot do without, and nothing else.

`make bench BENCH_ARGS="--ceiling"` serves this under the floor's gunicorn settings on the bench's
database and Redis, and runs W6 against it right before its floor: the ratio it reaches is about the
best any implementation on this stack can reach, so it says how far the LMS's target can be met.

What it keeps, as cheaply as the stack allows:
- the bearer token's signature checked once per process and its expiry on every request;
- one Redis round trip for the per-client rate-limit counter and the token's revocation entry;
- one transaction of prepared statements: the user's row (active, tokens issued after its
  `tokens_valid_after`), the enrollment locked with what the access check needs, the lesson's progress
  row with the enrollment's figures, the row's write, the enrollment's update;
- the course analytics' invalidation;
- a JSON body read, and a JSON answer.

What it leaves out, and the LMS cannot: the ORM, schema validation and the OpenAPI layer,
Flask-Limiter, security headers and CORS, the request id and access log, metrics, events, the error
format, the fault rules. It reads the schema of the migrations at their head; when a migration changes
these tables, this file follows.
"""

import json
import os
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import jwt
import redis
from flask import Flask, Response, request
from sqlalchemy import create_engine, event, text

STATEMENTS = {
    "ceiling_user": "SELECT id, is_active, tokens_valid_after FROM users WHERE id = $1",
    "ceiling_lock": """
        SELECT e.student_id, e.course_id, e.status, c.is_published, c.instructor_id,
               EXISTS (SELECT 1 FROM lessons l WHERE l.id = $2 AND l.course_id = e.course_id) AS lesson_in_course
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
    "ceiling_insert_progress": """
        INSERT INTO lesson_progress (id, enrollment_id, lesson_id, status, started_at, time_spent_seconds,
               last_position_seconds, completion_percentage, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $5, $5)""",
    "ceiling_update_enrollment": """
        UPDATE enrollments SET total_lessons_count = $2, completed_lessons_count = $3,
               total_time_spent_seconds = $4, progress_percentage = $5, last_accessed_at = $6, updated_at = $6
        WHERE id = $1""",
}


def _execute(name: str, arity: int) -> text:
    return text(f"EXECUTE {name}({', '.join(f':p{number}' for number in range(arity))})")


USER, LOCK, FIGURES = _execute("ceiling_user", 1), _execute("ceiling_lock", 2), _execute("ceiling_figures", 3)
UPDATE_PROGRESS, INSERT_PROGRESS = _execute("ceiling_update_progress", 6), _execute("ceiling_insert_progress", 8)
UPDATE_ENROLLMENT = _execute("ceiling_update_enrollment", 6)
UNAUTHORIZED = Response('{"detail": "Could not validate credentials"}', 401, mimetype="application/json")
NOT_FOUND = Response('{"detail": "Enrollment not found"}', 404, mimetype="application/json")

app = Flask(__name__)
engine = create_engine(os.environ["FLOOR_DATABASE_URL"], pool_size=5, max_overflow=5)
cache = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
secret = os.environ["SECRET_KEY"]
verified_tokens: dict[str, dict] = {}


@event.listens_for(engine, "connect")
def _prepare(connection, _record) -> None:
    with connection.cursor() as cursor:
        for name, sql in STATEMENTS.items():
            cursor.execute(f"PREPARE {name} AS {sql}")
    connection.commit()


def _claims(token: str) -> dict | None:
    claims = verified_tokens.get(token)
    if claims is None:
        try:
            claims = verified_tokens[token] = jwt.decode(token, secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
    return claims if claims["exp"] > time.time() else None


def _row(connection, statement: text, *values) -> tuple:
    return connection.execute(statement, {f"p{number}": value for number, value in enumerate(values)}).first()


@app.get("/ready")
def ready() -> Response:
    with engine.connect() as connection:  # the first connection also prepares the statements
        connection.execute(text("SELECT 1"))
    return Response('{"status": "ok"}', mimetype="application/json")


@app.put("/api/v1/enrollments/<uuid:enrollment_id>/lessons/<uuid:lesson_id>/progress")
def write_progress(enrollment_id: uuid.UUID, lesson_id: uuid.UUID) -> Response:
    claims = _claims(request.headers.get("Authorization", "").removeprefix("Bearer "))
    if claims is None:
        return UNAUTHORIZED
    window = f"ceiling:limit:{request.remote_addr}:{int(time.time() // 60)}"
    pipeline = cache.pipeline(transaction=False)
    pipeline.incr(window).expire(window, 60, nx=True).get(f"auth:blacklist:access:{claims['jti']}")
    _, _, revoked = pipeline.execute()
    if revoked is not None:
        return UNAUTHORIZED
    body = json.loads(request.get_data())
    percentage = Decimal(body["completion_percentage"]).quantize(Decimal("0.01"))
    spent, position, now = int(body["time_spent_seconds"]), int(body["last_position_seconds"]), datetime.now(timezone.utc)
    with engine.begin() as connection:
        user = _row(connection, USER, claims["sub"])
        if user is None or not user.is_active:
            return UNAUTHORIZED
        enrollment = _row(connection, LOCK, str(enrollment_id), str(lesson_id))
        if enrollment is None or str(enrollment.student_id) != claims["sub"] or not enrollment.lesson_in_course:
            return NOT_FOUND
        progress_id, status, spent_before, total, completed, spent_in_course = _row(
            connection, FIGURES, str(enrollment_id), str(enrollment.course_id), str(lesson_id))
        if progress_id is None:
            progress_id, spent_before = uuid.uuid4(), 0
            connection.execute(INSERT_PROGRESS, {
                "p0": str(progress_id), "p1": str(enrollment_id), "p2": str(lesson_id), "p3": "in_progress",
                "p4": now, "p5": spent, "p6": position, "p7": percentage})
        else:
            connection.execute(UPDATE_PROGRESS, {"p0": str(progress_id), "p1": "in_progress", "p2": percentage,
                                                 "p3": spent, "p4": position, "p5": now})
        completed -= status == "completed"
        connection.execute(UPDATE_ENROLLMENT, {
            "p0": str(enrollment_id), "p1": total, "p2": completed, "p3": spent_in_course - spent_before + spent,
            "p4": (Decimal(completed * 100) / total).quantize(Decimal("0.01")) if total else Decimal("0"), "p5": now})
    cache.delete(f"cache:analytics:course:{enrollment.course_id}")
    return Response(json.dumps({
        "id": str(progress_id), "enrollment_id": str(enrollment_id), "lesson_id": str(lesson_id),
        "status": "in_progress", "completion_percentage": str(percentage), "time_spent_seconds": spent,
        "last_position_seconds": position, "updated_at": now.isoformat()}), mimetype="application/json")
