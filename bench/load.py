"""A small load benchmark: throughput and latency of a few read endpoints under gunicorn.

    .venv/bin/python bench/load.py [--requests 2000] [--concurrency 8] [--courses 30]
                                   [--database-url URL] [--redis-url URL] [--workers 1] [--threads 8]

It starts gunicorn (`gunicorn.conf.py`) on a free loopback port against a throwaway database (a
SQLite file by default: the embedded configuration of `make run`), migrates it, creates an admin
with `flask create-admin`, seeds an instructor, published courses and students through the API,
then sends a bounded number of requests per endpoint from a pool of threads, each on its own
keep-alive connection. It prints requests per second and latency percentiles and writes them to
`bench/results/<time>.json`. Rate limiting is off for the run; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
PASSWORD = "Bench-pass-123"
ENDPOINTS = {
    "health": "/api/v1/health",
    "courses": "/api/v1/courses?page=1&page_size=20",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Api:
    """A tiny JSON client on one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None

    def expect(self, status: int, method: str, path: str, body: dict | None = None, token: str | None = None):
        got, payload = self.call(method, path, body, token)
        if got != status:
            raise SystemExit(f"seeding failed: {method} {path} answered {got}, expected {status}: {payload}")
        return payload


def server_environment(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({
        "ENVIRONMENT": "development",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
        "REDIS_URL": args.redis_url or "",
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "UPLOAD_DIR": str(workdir / "uploads"),
        "CERTIFICATES_DIR": str(workdir / "certificates"),
        "FLASK_APP": "wsgi",
    })
    return env


def run_cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args[:2])} failed:\n{done.stdout}{done.stderr}")


def start_server(env: dict[str, str], port: int, args: argparse.Namespace, log_path: Path) -> subprocess.Popen:
    server_env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(args.workers),
                  "GUNICORN_THREADS": str(args.threads), "GUNICORN_MAX_REQUESTS": "0"}
    log = log_path.open("w")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                               cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn did not listen on port {port} within 30 s; see {log_path}")


def seed(port: int, courses: int, students: int) -> None:
    api = Api(port)
    login = {"email": "admin@bench.example.com", "password": PASSWORD}
    admin_token = api.expect(200, "POST", "/api/v1/auth/login", login)["tokens"]["access_token"]
    api.expect(201, "POST", "/api/v1/users", {"email": "teacher@bench.example.com", "password": PASSWORD,
                                              "full_name": "Bench Teacher", "role": "instructor"}, admin_token)
    teacher_login = {"email": "teacher@bench.example.com", "password": PASSWORD}
    teacher_token = api.expect(200, "POST", "/api/v1/auth/login", teacher_login)["tokens"]["access_token"]
    for number in range(courses):
        course = api.expect(201, "POST", "/api/v1/courses", {
            "title": f"Bench course {number:03d}", "description": "A course seeded by bench/load.py.",
            "category": "bench", "difficulty_level": "beginner"}, teacher_token)
        api.expect(200, "POST", f"/api/v1/courses/{course['id']}/publish", None, teacher_token)
    for number in range(students):
        api.expect(201, "POST", "/api/v1/auth/register", {
            "email": f"student{number}@bench.example.com", "password": PASSWORD, "full_name": f"Student {number}"})


def measure(port: int, path: str, requests: int, concurrency: int, max_seconds: float) -> dict:
    """`requests` GETs of `path` from `concurrency` threads, each on its own keep-alive connection."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    remaining = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if next(remaining, None) is None:
                    break
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                outcome = None if response.status == 200 else str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                if outcome is None:
                    latencies.append(elapsed)
                else:
                    errors[outcome] = errors.get(outcome, 0) + 1
        connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def percentile(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2) if ordered else 0.0

    return {
        "path": path, "requests": len(latencies) + sum(errors.values()), "ok": len(latencies), "errors": errors,
        "seconds": round(wall, 3), "requests_per_second": round(len(latencies) / wall, 1) if wall else 0.0,
        "latency_ms": {"p50": percentile(0.50), "p90": percentile(0.90), "p99": percentile(0.99),
                       "max": round(ordered[-1] * 1000, 2) if ordered else 0.0,
                       "mean": round(statistics.fmean(ordered) * 1000, 2) if ordered else 0.0},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--courses", type=int, default=30, help="published courses to seed (default 30)")
    parser.add_argument("--students", type=int, default=5, help="students to register (default 5)")
    parser.add_argument("--database-url", help="an EMPTY database to use instead of a temporary SQLite file")
    parser.add_argument("--redis-url", help="a Redis to use (default: none, as in the embedded setup)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (more than 1 needs Redis)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (default 8)")
    parser.add_argument("--max-seconds", type=float, default=60, help="time bound per endpoint (default 60)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lms-bench-") as tmp:
        workdir = Path(tmp)
        env = server_environment(args, workdir)
        run_cli(env, "db", "upgrade")
        run_cli(env, "create-admin", "--email", "admin@bench.example.com", "--password", PASSWORD,
                "--full-name", "Bench Admin")
        port = free_port()
        server = start_server(env, port, args, workdir / "gunicorn.log")
        try:
            seed(port, args.courses, args.students)
            for path in ENDPOINTS.values():  # warm-up: imports, caches, pooled connections
                measure(port, path, min(50, args.requests), args.concurrency, args.max_seconds)
            results = {name: measure(port, path, args.requests, args.concurrency, args.max_seconds)
                       for name, path in ENDPOINTS.items()}
        finally:
            server.terminate()
            server.wait(timeout=30)

    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "setup": {"database": env["DATABASE_URL"].split(":", 1)[0], "redis": bool(args.redis_url),
                  "workers": args.workers, "threads": args.threads, "concurrency": args.concurrency,
                  "courses": args.courses, "python": platform.python_version(), "cpus": os.cpu_count()},
        "results": results,
    }
    columns = ("ok", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms")
    print(f"{'endpoint':<10} " + " ".join(f"{column:>8}" for column in columns))
    for name, result in results.items():
        latency = result["latency_ms"]
        values = (result["ok"], sum(result["errors"].values()), result["requests_per_second"],
                  latency["p50"], latency["p90"], latency["p99"], latency["max"])
        print(f"{name:<10} " + " ".join(f"{value:>8}" for value in values))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {path.relative_to(ROOT)}")
    return 1 if any(result["errors"] for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
