"""Does every hot query use an index? `EXPLAIN (ANALYZE, BUFFERS)` of the SQL the app really runs.

    .venv/bin/python bench/explain.py --database-url postgresql://root@127.0.0.1:5432/lms_scale_demo \\
        [--search python --search xylophone] [--large-table-rows 10000]

For a PostgreSQL database filled by `flask seed-demo` (lms/demo.py; at full size 100k users, 10k
courses, 100k lessons, 200k enrollments, 1M progress rows). It

1. runs `VACUUM ANALYZE`, so that the planner has the statistics (and index-only scans the
   visibility map) that autovacuum gives a live database, not those of a bulk load just made;
2. picks real ids from the data: the most enrolled course, a student with an in-progress lesson,
   a student enrolled in a quizzed course who has not attempted its quiz (and for whom passing it
   does not complete the course, which would generate a certificate);
3. sends the hot requests to the app in-process (`create_app`, `app.test_client()`), recording
   every statement and its parameters with a `before_cursor_execute` listener on the app's
   engines: the anonymous catalog page, catalog searches, a course read, `GET /auth/me`, a progress
   write, a quiz attempt's start and submit (with the right answers), a login;
4. runs `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` of each recorded SELECT, UPDATE and DELETE with
   its parameters (`cursor.mogrify`), each in a transaction rolled back afterwards, and prints per
   statement its execution time and access methods (Seq Scan, Index Scan, Index Only Scan, Bitmap
   Index Scan), flagging a sequential scan of a table of `--large-table-rows` rows or more.
   INSERTs are listed but not explained: they read no table.

The requests themselves write as they would in production (the progress row, a graded attempt,
the login's refresh token): run it on a bench database. It exits with status 1 when a statement
scans a large table sequentially.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the script runs from bench/; the app's modules are imported below

from lms import create_app
from lms.core.auth import issue_access_token
from lms.core.db import engines_of
from lms.demo import DEMO_PASSWORD
from lms.core.extensions import db
from lms.users.models import User

API = "/api/v1"
EXPLAINED = ("SELECT", "UPDATE", "DELETE", "WITH")
NOT_SQL_WORK = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW")

# The rows the requests act on, picked from the seeded data.
PICK_COURSE = """
    SELECT course_id FROM enrollments e JOIN courses c ON c.id = e.course_id
    WHERE c.is_published GROUP BY course_id ORDER BY count(*) DESC LIMIT 1"""
PICK_PROGRESS = """
    SELECT e.student_id, e.id, p.lesson_id FROM lesson_progress p
    JOIN enrollments e ON e.id = p.enrollment_id JOIN lessons l ON l.id = p.lesson_id
    JOIN users u ON u.id = e.student_id
    WHERE p.status = 'in_progress' AND l.lesson_type <> 'quiz' AND e.status = 'active' AND u.role = 'student'
    LIMIT 1"""
PICK_QUIZ_TAKER = """
    SELECT e.student_id, q.id FROM quizzes q JOIN enrollments e ON e.course_id = q.course_id
    WHERE q.is_published AND q.quiz_type = 'graded' AND e.status = 'active'
      AND e.completed_lessons_count < e.total_lessons_count - 1
      AND NOT EXISTS (SELECT 1 FROM quiz_attempts a WHERE a.enrollment_id = e.id)
    LIMIT 1"""
LARGE_TABLES = "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' AND reltuples >= %s"


@dataclass
class Recorded:
    request: str
    statement: str
    parameters: Any


@dataclass
class Recorder:
    """Every statement the app's engines run, labelled with the request being made."""

    request: str = ""
    statements: list[Recorded] = field(default_factory=list)

    def __call__(self, _conn, _cursor, statement, parameters, _context, _executemany) -> None:
        self.statements.append(Recorded(self.request, statement, parameters))


@dataclass(frozen=True)
class Scan:
    method: str  # "Seq Scan", "Index Scan", "Bitmap Index Scan"...
    relation: str | None
    index: str | None

    def __str__(self) -> str:
        target = f" using {self.index}" if self.index else ""
        return f"{self.method}{target}" + (f" on {self.relation}" if self.relation else "")


@dataclass
class Explained:
    recorded: Recorded
    sql: str
    milliseconds: float | None = None
    scans: list[Scan] = field(default_factory=list)
    large_seq_scans: list[str] = field(default_factory=list)


# --- the app and its requests --------------------------------------------------------------------

def build_app(database_url: str, files: Path):
    """The app against the bench database, with nothing else needed: no cache, no rate limits, no
    Redis, jobs inline."""
    warnings.filterwarnings("ignore", message="Flask-Caching: CACHE_TYPE is set to NullCache")
    return create_app({
        "ENVIRONMENT": "development", "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32),
        "CACHE_ENABLED": False, "RATE_LIMIT_ENABLED": False, "REDIS_URL": "", "TASKS_FORCE_INLINE": True,
        "LOG_LEVEL": "WARNING", "UPLOAD_DIR": str(files / "uploads"), "CERTIFICATES_DIR": str(files / "certificates"),
    })


def pick_one(connection, query: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(query)
        row = cursor.fetchone()
    if row is None:
        raise SystemExit(f"no data for:{query}\nFill the database with `flask seed-demo` (with --quizzes) first.")
    return row


def correct_answers(connection, quiz_id: str) -> list[dict[str, Any]]:
    """The right answer to every question of the quiz (the attempt passes)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, question_type, options, correct_answer FROM questions WHERE quiz_id = %s",
                       (quiz_id,))
        rows = cursor.fetchall()
    answers = []
    for question_id, question_type, options, correct_answer in rows:
        if question_type == "multiple_choice":
            option = next(option for option in options if option["is_correct"])
            answers.append({"question_id": str(question_id), "selected_option_id": option["option_id"]})
        else:
            answers.append({"question_id": str(question_id), "answer_text": correct_answer})
    return answers


def bearer(app, user_id: str) -> dict[str, str]:
    with app.app_context():
        token, _ = issue_access_token(db.session.get(User, user_id))
    return {"Authorization": f"Bearer {token}"}


def make_requests(app, connection, recorder: Recorder, searches: list[str]) -> None:
    """The hot requests, each recorded under its label; a failed request stops the run."""
    client = app.test_client()
    course_id, = pick_one(connection, PICK_COURSE)
    learner_id, enrollment_id, lesson_id = pick_one(connection, PICK_PROGRESS)
    taker_id, quiz_id = pick_one(connection, PICK_QUIZ_TAKER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM users WHERE id = %s", (learner_id,))
        learner_email, = cursor.fetchone()
    learner, taker = bearer(app, learner_id), bearer(app, taker_id)

    def send(label: str, method: str, path: str, expected: int, **kwargs) -> Any:
        recorder.request = label
        response = client.open(path, method=method, **kwargs)
        recorder.request = ""
        print(f"{label}: {method} {path} -> {response.status_code}")
        if response.status_code != expected:
            raise SystemExit(f"{label} answered {response.status_code}, expected {expected}: {response.get_data(True)}")
        return response.get_json()

    send("catalog", "GET", f"{API}/courses?page=1&page_size=20", 200)
    for word in searches:
        send(f"search {word!r}", "GET", f"{API}/courses?search={word}&page=1&page_size=20", 200)
    send("course read", "GET", f"{API}/courses/{course_id}", 200)
    send("me", "GET", f"{API}/auth/me", 200, headers=learner)
    send("progress write", "PUT", f"{API}/enrollments/{enrollment_id}/lessons/{lesson_id}/progress", 200,
         headers=learner, json={"time_spent_seconds": 5})
    attempt = send("quiz start", "POST", f"{API}/quizzes/{quiz_id}/attempts", 201, headers=taker)
    send("quiz submit", "POST", f"{API}/quizzes/{quiz_id}/attempts/{attempt['id']}/submit", 200, headers=taker,
         json={"answers": correct_answers(connection, quiz_id)})
    send("login", "POST", f"{API}/auth/login", 200, json={"email": learner_email, "password": DEMO_PASSWORD})


# --- plans ---------------------------------------------------------------------------------------

def scans_of(node: dict[str, Any]) -> Iterator[Scan]:
    """The table and index accesses of a plan tree, depth first."""
    if node.get("Relation Name") or node.get("Index Name"):
        yield Scan(node["Node Type"], node.get("Relation Name"), node.get("Index Name"))
    for child in node.get("Plans", []):
        yield from scans_of(child)


def explain(connection, recorded: Recorded, large_tables: dict[str, int]) -> Explained:
    """EXPLAIN ANALYZE the statement with its parameters, in a transaction rolled back after it."""
    with connection.cursor() as cursor:
        sql = cursor.mogrify(recorded.statement, recorded.parameters or None).decode()
        result = Explained(recorded, sql)
        if not sql.lstrip().upper().startswith(EXPLAINED):
            return result
        try:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            [plan] = cursor.fetchone()[0]
        finally:
            connection.rollback()
    result.milliseconds = plan["Execution Time"]
    result.scans = list(scans_of(plan["Plan"]))
    result.large_seq_scans = [f"{scan.relation} ({large_tables[scan.relation]:,} rows)" for scan in result.scans
                              if scan.method == "Seq Scan" and scan.relation in large_tables]
    return result


def one_line(sql: str, width: int = 150) -> str:
    flat = re.sub(r"\s+", " ", sql).strip()
    return flat if len(flat) <= width else flat[:width - 1] + "…"


def report(results: list[Explained]) -> int:
    """Print each request's statements with their access methods; the number of flagged statements."""
    flagged, request = 0, None
    for result in results:
        if result.recorded.request != request:
            request = result.recorded.request
            print(f"\n== {request}")
        if result.milliseconds is None:
            print(f"   (not explained)  {one_line(result.sql, 100)}")
            continue
        methods = "; ".join(dict.fromkeys(str(scan) for scan in result.scans)) or "no table access"
        print(f"   {result.milliseconds:8.3f} ms  {methods}\n               {one_line(result.sql)}")
        if result.large_seq_scans:
            flagged += 1
            print(f"   !! SEQUENTIAL SCAN of {', '.join(result.large_seq_scans)}:\n{result.sql}")
    return flagged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="A PostgreSQL database filled by flask seed-demo.")
    parser.add_argument("--search", action="append", help="Catalog search words (default: python, xylophone).")
    parser.add_argument("--large-table-rows", type=int, default=10_000,
                        help="Flag sequential scans of tables with at least this many rows.")
    args = parser.parse_args()

    connection = psycopg2.connect(args.database_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        print("VACUUM ANALYZE…")
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(LARGE_TABLES, (args.large_table_rows,))
        large_tables = dict(cursor.fetchall())
    connection.autocommit = False

    recorder = Recorder()
    with tempfile.TemporaryDirectory() as files:
        app = build_app(args.database_url, Path(files))
        for engine in engines_of(app):
            event.listen(engine, "before_cursor_execute", recorder)
        make_requests(app, connection, recorder, args.search or ["python", "xylophone"])
        for engine in engines_of(app):
            engine.dispose()

    statements = [recorded for recorded in recorder.statements
                  if recorded.request and not recorded.statement.lstrip().upper().startswith(NOT_SQL_WORK)]
    flagged = report([explain(connection, recorded, large_tables) for recorded in statements])
    connection.close()
    print(f"\n{len(statements)} statements, {flagged} with a sequential scan of a table of "
          f"{args.large_table_rows:,}+ rows.")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
