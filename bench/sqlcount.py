"""SQL statements per request, from PostgreSQL's own statement log (independent of the app).

`find_server_log` finds the postmaster's stderr (the server log) through /proc. `count_statements`
turns `log_statement = 'all'` on for the bench database, starts a second, short-lived gunicorn of
the app (1 worker; its new connections log every statement, the main web's pooled ones do not),
sends each request kind a few times one after the other, and reads the log lines of the bench
database that each request added. Statements are sorted into BEGIN, COMMIT, ROLLBACK, `SELECT 1`
(pool pings) and other; "other" is what the budgets bound.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from client import Client
from deploy import DeployError, Services

API = "/api/v1"
# Time for the log lines of a request to land (the pool's ROLLBACK may follow the answer).
SETTLE_SECONDS = 0.3
# At most this many "other" statements per request (the performance issue's budgets).
BUDGETS = {
    "W2 cached": 0, "W2 uncached": 2, "W3 cached": 0, "W3 uncached": 1, "W4": 1, "W5": 3, "W6": 5,
    "W7 start": 6, "W7 submit": 8,
}


def find_server_log(services: Services) -> Path | None:
    """The file the postmaster writes its stderr to, when this process can read it."""
    try:
        data_directory = services.psql("postgres", "SHOW data_directory").strip()
        postmaster_pid = Path(data_directory, "postmaster.pid").read_text().splitlines()[0].strip()
        log = Path(os.readlink(f"/proc/{postmaster_pid}/fd/2"))
        with log.open("rb"):
            pass
    except (OSError, IndexError, DeployError):
        return None
    return log if log.is_file() else None


def line_pattern(log_line_prefix: str, database: str) -> re.Pattern[str] | None:
    """A regex for the statement lines of `database`, from log_line_prefix; None without %d."""
    if "%d" not in log_line_prefix:
        return None
    regex = ""
    for part in re.split(r"(%.)", log_line_prefix):
        if part == "%d":
            regex += re.escape(database)
        elif part == "%%":
            regex += "%"
        elif part == "%q":
            continue
        elif len(part) == 2 and part.startswith("%"):
            regex += ".*?"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}LOG:  (?:statement|execute [^:]*): (.*)$")


class StatementLog:
    """The statements of one database appended to the server log since the last read."""

    def __init__(self, path: Path, pattern: re.Pattern[str]) -> None:
        self.path = path
        self.pattern = pattern
        self.offset = path.stat().st_size

    def read_new(self) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            chunk = log.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        statements: list[str] = []
        in_statement = False  # continuation lines of a multi-line statement start with a tab
        for line in complete.decode(errors="replace").splitlines():
            if line.startswith("\t"):
                if in_statement:
                    statements[-1] += " " + line.strip()
                continue
            match = self.pattern.match(line)
            in_statement = match is not None
            if match:
                statements.append(match.group(1))
        return statements


def classify(statements: list[str]) -> dict[str, int]:
    counts = {"begin": 0, "commit": 0, "rollback": 0, "select_1": 0, "other": 0}
    for statement in statements:
        normalized = statement.strip().rstrip(";").strip().upper()
        if normalized.startswith("BEGIN"):
            counts["begin"] += 1
        elif normalized in ("COMMIT", "ROLLBACK"):
            counts[normalized.lower()] += 1
        elif normalized == "SELECT 1":
            counts["select_1"] += 1
        else:
            counts["other"] += 1
    return counts


@dataclass
class Probe:
    """One request kind: `send` makes the counted request and answers its status; `before` and
    `after` (not counted) prepare and tidy up around each sample."""

    kind: str
    send: Callable[[], int]
    before: Callable[[], object] = lambda: None
    after: Callable[[], object] = lambda: None


class QuizProbes:
    """W7 start and submit, each sample on a (student, quiz) pair not used before: a first, passing
    submission, which also completes the quiz lesson (the budgeted case)."""

    def __init__(self, client: Client, data: dict[str, Any], rng: random.Random) -> None:
        self.client = client
        self.pairs = [(student["token"], data["courses"][enrollment["course"]]["quiz"])
                      for student in data["students"] for enrollment in student["enrollments"]]
        rng.shuffle(self.pairs)
        self.used = 0
        self.current: tuple[str, dict[str, Any], str] | None = None

    def start(self) -> int:
        token, quiz = self.pairs[self.used % len(self.pairs)]
        self.used += 1
        status, attempt, _ = self.client.request("POST", f"{API}/quizzes/{quiz['id']}/attempts", token=token)
        self.current = (token, quiz, attempt["id"]) if status == 201 else None
        return status

    def submit(self) -> int:
        if self.current is None:
            return 0
        token, quiz, attempt_id = self.current
        self.current = None
        answers = [{"question_id": question["id"], "selected_option_id": "a"} if question["type"] == "multiple_choice"
                   else {"question_id": question["id"], "answer_text": "true"} for question in quiz["questions"]]
        return self.client.request("POST", f"{API}/quizzes/{quiz['id']}/attempts/{attempt_id}/submit",
                                   {"answers": answers}, token)[0]


def probes(client: Client, data: dict[str, Any], flush_cache: Callable[[], None], workloads: set[str],
           rng: random.Random) -> list[Probe]:
    """The request kinds to count, for the selected workloads."""
    students, courses = data["students"], data["courses"]
    cached_course = courses[0]["id"]
    quiz = QuizProbes(client, data, rng)

    def get(path: str) -> Callable[[], int]:
        return lambda: client.request("GET", path)[0]

    def login() -> int:
        body = {"email": rng.choice(students)["email"], "password": data["password"]}
        return client.request("POST", f"{API}/auth/login", body)[0]

    def progress() -> int:
        student = rng.choice(students)
        enrollment = rng.choice(student["enrollments"])
        course = courses[enrollment["course"]]
        lesson = rng.choice([lesson for lesson in course["lessons"] if lesson != course["quiz"]["lesson_id"]])
        body = {"status": "in_progress", "completion_percentage": rng.randint(1, 99),
                "time_spent_seconds": rng.randint(1, 3600), "last_position_seconds": rng.randint(1, 3600)}
        return client.request("PUT", f"{API}/enrollments/{enrollment['id']}/lessons/{lesson}/progress", body,
                              student["token"])[0]

    def random_course() -> int:
        return client.request("GET", f"{API}/courses/{rng.choice(courses)['id']}")[0]

    catalog = get(f"{API}/courses?page=1&page_size=20")
    every_probe = [
        Probe("W2 uncached", catalog, before=flush_cache),
        Probe("W2 cached", catalog),
        Probe("W3 uncached", random_course, before=flush_cache),
        Probe("W3 cached", get(f"{API}/courses/{cached_course}")),
        Probe("W4", lambda: client.request("GET", f"{API}/auth/me", token=rng.choice(students)["token"])[0]),
        Probe("W5", login),
        Probe("W6", progress),
        Probe("W7 start", quiz.start, after=quiz.submit),
        Probe("W7 submit", quiz.submit, before=quiz.start),
    ]
    return [probe for probe in every_probe if probe.kind.split()[0] in workloads]


def sample(probe: Probe, log: StatementLog) -> dict[str, Any]:
    """One counted request of `probe`: its status and the statements it caused."""
    probe.before()
    time.sleep(SETTLE_SECONDS)
    log.read_new()
    status = probe.send()
    time.sleep(SETTLE_SECONDS)
    statements = log.read_new()
    probe.after()
    return {"status": status, **classify(statements), "statements": [text[:300] for text in statements]}


def measure(probe: Probe, log: StatementLog, samples: int) -> dict[str, Any]:
    """A warm-up request, then `samples` counted ones; the median of "other" against the budget."""
    probe.before()
    probe.send()
    probe.after()
    results = [sample(probe, log) for _ in range(samples)]
    other = statistics.median(result["other"] for result in results)
    return {"kind": probe.kind, "other_median": other, "budget": BUDGETS[probe.kind],
            "over_budget": other > BUDGETS[probe.kind], "statuses": sorted({r["status"] for r in results}),
            "samples": results}


def count_statements(services: Services, database: str, log_path: Path, start_server: Callable[[], tuple[Any, int]],
                     flush_cache: Callable[[], None], data: dict[str, Any], workloads: set[str],
                     samples: int) -> dict[str, Any]:
    """Counts statements per request kind with log_statement='all' on a second, short-lived server.

    `start_server()` starts that server and answers (its ProcessGroup, its port); `flush_cache()`
    empties the app's cache (and nothing else: rate limits and revocations stay).
    """
    pattern = line_pattern(services.psql(database, "SHOW log_line_prefix"), database)
    if pattern is None:
        return {"available": False, "reason": "log_line_prefix has no %d: statements cannot be attributed"}
    services.psql(database, f'ALTER DATABASE "{database}" SET log_statement = \'all\'')
    server = None
    try:
        server, port = start_server()
        client = Client(port)
        log = StatementLog(log_path, pattern)
        results = []
        for probe in probes(client, data, flush_cache, workloads, random.Random(11)):
            results.append(measure(probe, log, samples))
            failed = [status for status in results[-1]["statuses"] if not 200 <= status < 300]
            alarm = f"  !!! answered {failed}" if failed else ""
            print(f"  {probe.kind}: {results[-1]['other_median']:g} (budget ≤{BUDGETS[probe.kind]}){alarm}", flush=True)
        return {"available": True, "log": str(log_path), "kinds": {r["kind"]: r for r in results}}
    finally:
        if server is not None:
            server.stop()
        services.psql(database, f'ALTER DATABASE "{database}" RESET log_statement')
