"""The workloads of `make bench` and their floors.

W1-W6 run under wrk with the scripts of bench/lua (a random id or token per request, from a data
file); W7 (quiz attempt start + submit, which wrk cannot chain) runs on Python threads. Every run
has an unrecorded warm-up, then a fixed duration, and answers one dict: requests, seconds, rps,
p50_ms, p95_ms, p99_ms, non_2xx, socket_errors. The floors are a bare Flask app under the same gunicorn
settings (bench/floor) and raw bcrypt on all cores; the ceiling (bench/ceiling) is W6 and W7 on the
stack's bare parts, served the same way.
"""

from __future__ import annotations

import http.client
import json
import math
import random
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client import Client
from deploy import ProcessGroup, free_port, wait_until_ready

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "lua"
FLOOR = BENCH / "floor"
CEILING = BENCH / "ceiling"
WRK_THREADS = 2
WRK_TIMEOUT_SECONDS = 30
QUIZ_THREADS = 32
BCRYPT_FLOOR_SECONDS = 10
MAX_SETTLE_SECONDS = 10
RESULT_LINE = re.compile(r"^BENCHJSON (\{.*\})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    floor: str  # "F:<floor app route>" or "B:bcrypt"
    script: str | None = None  # None: the Python quiz load
    path: str = "/"
    data: str | None = None  # the name of a data file written by seed.write_data_files
    connections: int = 32


WORKLOADS = [
    Workload("W1", "GET /api/v1/health", "F:static", "get.lua", "/api/v1/health"),
    Workload("W2", "GET /api/v1/courses?page=1&page_size=20", "F:redis", "get.lua",
             "/api/v1/courses?page=1&page_size=20"),
    Workload("W3", "GET /api/v1/courses/{id}", "F:redis", "course.lua", data="courses"),
    Workload("W4", "GET /api/v1/auth/me", "F:db", "me.lua", data="tokens"),
    Workload("W5", "POST /api/v1/auth/login", "B:bcrypt", "login.lua", data="logins", connections=8),
    Workload("W6", "PUT /api/v1/enrollments/{e}/lessons/{l}/progress", "F:db", "progress.lua", data="progress"),
    Workload("W7", "quiz attempt start + submit", "F:db", connections=QUIZ_THREADS),
]


CEILING_WORKLOADS = ("W6", "W7")  # the ones bench/ceiling answers


class LoadError(RuntimeError):
    """A load generator gave no result."""


def wrk_path() -> str:
    path = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
    if path is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    return path


def parse_result(output: str, what: str) -> dict[str, Any]:
    match = RESULT_LINE.search(output)
    if match is None:
        raise LoadError(f"{what} printed no result:\n{output[-2000:]}")
    return json.loads(match.group(1))


def run_wrk(url: str, script: str, data_file: Path | None, connections: int, seconds: float) -> dict[str, Any]:
    """`wrk -t2 -c<connections>` for `seconds` with a bench/lua script."""
    command = [wrk_path(), "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{seconds:g}s",
               "--timeout", f"{WRK_TIMEOUT_SECONDS}s", "-s", str(LUA / script), url]
    if data_file is not None:
        command += ["--", str(data_file)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    return parse_result(done.stdout + done.stderr, f"wrk {url}")


def run_timed(measure, warmup: float, duration: float) -> dict[str, Any]:
    """An unrecorded warm-up of `warmup` seconds, then the measured run.

    In between, a pause as long as the warm-up's p99 latency (1 to 10 s): the requests the warm-up
    left in flight finish on the server before the measured run starts, instead of inside it.
    """
    if warmup > 0:
        warm = measure(warmup)
        time.sleep(min(MAX_SETTLE_SECONDS, max(1.0, (warm["p99_ms"] or 0) / 1000)))
    return measure(duration)


def run_workload(workload: Workload, port: int, data_files: dict[str, Path], quiz_load: QuizLoad,
                 warmup: float, duration: float) -> dict[str, Any]:
    if workload.script is None:
        return run_timed(quiz_load.run, warmup, duration)
    data_file = data_files[workload.data] if workload.data else None
    url = f"http://127.0.0.1:{port}{workload.path}"
    return run_timed(lambda seconds: run_wrk(url, workload.script, data_file, workload.connections, seconds),
                     warmup, duration)


# --- W7 -------------------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (seconds), in milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] * 1000, 3)


def quiz_answers(quiz: dict[str, Any], rng: random.Random, correct_share: float) -> list[dict[str, str]]:
    """Each question answered correctly with probability `correct_share`, wrongly otherwise."""
    answers = []
    for question in quiz["questions"]:
        correct = rng.random() < correct_share
        if question["type"] == "multiple_choice":
            answers.append({"question_id": question["id"], "selected_option_id": "a" if correct else "b"})
        else:
            answers.append({"question_id": question["id"], "answer_text": "true" if correct else "false"})
    return answers


class QuizTally:
    """What the quiz threads measured, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {"start": [], "submit": []}
        self.statuses: dict[str, int] = {}
        self.non_2xx = 0
        self.socket_errors = 0
        self.passed = 0

    def call(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[f"{kind} {status}"] = self.statuses.get(f"{kind} {status}", 0) + 1
            self.non_2xx += not 200 <= status < 300

    def failure(self, error: Exception) -> None:
        with self.lock:
            self.socket_errors += 1
            self.statuses[type(error).__name__] = self.statuses.get(type(error).__name__, 0) + 1

    def result(self, seconds: float) -> dict[str, Any]:
        calls = self.latencies["start"] + self.latencies["submit"]
        return {
            "requests": len(calls), "seconds": round(seconds, 3), "rps": round(len(calls) / seconds, 2),
            "p50_ms": percentile(calls, 0.50), "p95_ms": percentile(calls, 0.95),
            "p99_ms": percentile(calls, 0.99),
            "non_2xx": self.non_2xx, "socket_errors": self.socket_errors,
            "start_p50_ms": percentile(self.latencies["start"], 0.50),
            "start_p99_ms": percentile(self.latencies["start"], 0.99),
            "submit_p50_ms": percentile(self.latencies["submit"], 0.50),
            "submit_p99_ms": percentile(self.latencies["submit"], 0.99),
            "attempts": len(self.latencies["submit"]), "passed": self.passed, "statuses": self.statuses,
        }


class QuizLoad:
    """W7: threads that each start and submit quiz attempts for their own (student, enrollment) pairs.

    A student may have one attempt in progress per quiz, so the pairs are split among the threads:
    no two threads ever act for the same (student, quiz).
    """

    def __init__(self, port: int, data: dict[str, Any], threads: int = QUIZ_THREADS,
                 correct_share: float = 0.7, seed: int = 7) -> None:
        pairs = [(student["token"], data["courses"][enrollment["course"]]["quiz"])
                 for student in data["students"] for enrollment in student["enrollments"]]
        random.Random(seed).shuffle(pairs)
        threads = min(threads, len(pairs))
        self.shares = [pairs[number::threads] for number in range(threads)]
        self.cursors = [0] * threads
        self.rngs = [random.Random(seed * 1000 + number) for number in range(threads)]
        self.client = Client(port)
        self.correct_share = correct_share

    def _attempt(self, number: int, tally: QuizTally) -> None:
        share = self.shares[number]
        token, quiz = share[self.cursors[number] % len(share)]
        self.cursors[number] += 1
        attempts = f"/api/v1/quizzes/{quiz['id']}/attempts"
        status, started, seconds = self.client.request("POST", attempts, token=token)
        tally.call("start", status, seconds)
        if status != 201:
            return
        answers = quiz_answers(quiz, self.rngs[number], self.correct_share)
        status, graded, seconds = self.client.request("POST", f"{attempts}/{started['id']}/submit",
                                                      {"answers": answers}, token)
        tally.call("submit", status, seconds)
        if status == 200 and graded.get("is_passed"):
            with tally.lock:
                tally.passed += 1

    def _thread(self, number: int, deadline: float, tally: QuizTally) -> None:
        while time.perf_counter() < deadline:
            try:
                self._attempt(number, tally)
            except (OSError, http.client.HTTPException) as error:
                tally.failure(error)
        self.client.close()

    def run(self, seconds: float) -> dict[str, Any]:
        """Start + submit in a loop on every thread for `seconds`; both calls count as requests."""
        tally = QuizTally()
        started = time.perf_counter()
        workers = [threading.Thread(target=self._thread, args=(number, started + seconds, tally), daemon=True)
                   for number in range(len(self.shares))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return tally.result(time.perf_counter() - started)


# --- floors ---------------------------------------------------------------------------------------

def start_floor_server(environment: dict[str, str], workdir: Path,
                       worker_class: str | None) -> tuple[ProcessGroup, int]:
    """The floor app under gunicorn with the project's settings (bench/floor/gunicorn.conf.py)."""
    return start_bare_server("floor", FLOOR, "/db", environment, workdir, worker_class)


def start_ceiling_server(environment: dict[str, str], workdir: Path,
                         worker_class: str | None) -> tuple[ProcessGroup, int]:
    """W6 and W7 on the stack's bare parts (bench/ceiling), under the floor's gunicorn settings."""
    return start_bare_server("ceiling", CEILING, "/ready", environment, workdir, worker_class)


def start_bare_server(name: str, directory: Path, ready_path: str, environment: dict[str, str], workdir: Path,
                      worker_class: str | None) -> tuple[ProcessGroup, int]:
    """`directory`/app.py served by gunicorn with bench/floor/gunicorn.conf.py, on the bench's services."""
    port = free_port()
    command = f"exec gunicorn -c {FLOOR / 'gunicorn.conf.py'} -b 127.0.0.1:{port}"
    if worker_class:
        command += f" -k {worker_class} --threads 1"
    database_url = environment["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg2://", 1)
    bare_environment = {**environment, "FLOOR_DATABASE_URL": database_url, "FLOOR_REDIS_URL": environment["REDIS_URL"]}
    server = ProcessGroup(name, f"{command} app:app", bare_environment, workdir / f"{name}.log", cwd=directory)
    wait_until_ready(port, [server], path=ready_path)
    return server, port


def run_floor(workload: Workload, floor_port: int, python: Path, bcrypt_cost: int, warmup: float,
              duration: float) -> dict[str, Any]:
    """The floor of `workload`, right after it: a floor app route with as many connections, or bcrypt."""
    if workload.floor == "B:bcrypt":
        return run_bcrypt_floor(python, bcrypt_cost)
    url = f"http://127.0.0.1:{floor_port}/{workload.floor.removeprefix('F:')}"
    return run_timed(lambda seconds: run_wrk(url, "get.lua", None, workload.connections, seconds),
                     warmup, duration)


def run_bcrypt_floor(python: Path, cost: int) -> dict[str, Any]:
    """bcrypt checkpw per second on all cores (bench/floor/bcrypt_rate.py, with the bench venv's bcrypt)."""
    command = [str(python), str(FLOOR / "bcrypt_rate.py"), "--cost", str(cost), "--seconds", str(BCRYPT_FLOOR_SECONDS)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=BCRYPT_FLOOR_SECONDS + 120)
    return parse_result(done.stdout + done.stderr, "bcrypt floor")
