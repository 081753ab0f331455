"""`make bench`: deploy the project from its Procfile, seed it through the API, and measure W1-W7
against their floors, SQL statements per request and the memory of the web server.

    make bench                                   # defaults: what the performance issue measures
    make bench BENCH_ARGS="--only W2,W4 --rounds 3"
    make bench BENCH_ARGS="--students 50 --courses-per-instructor 20 --duration 3"   # a quick check
    make bench BENCH_ARGS="--env GUNICORN_WORKER_CLASS=sync --env GUNICORN_THREADS=1"
    make bench BENCH_ARGS="--demo users=100000,courses=10000,lessons=100000,enrollments=200000,progress=1000000"

Steps (bench/README.md says more):
  1. a throwaway PostgreSQL database and a flushed Redis database; the Procfile's `release`, then
     `flask create-admin`, then its `web`, `worker` and `cron` lines as written, in production mode with 2
     web workers and gunicorn.conf.py's defaults, from the runtime-only virtualenv this runs in;
     with `--demo`, `flask seed-demo` fills the database in bulk first (the data set at scale);
  2. seeding through the HTTP API (instructors, published courses with lessons and a quiz,
     students with enrollments), then a check that each workload's request answers as expected;
  3. SQL statements per request from PostgreSQL's statement log, on a second, short-lived server;
  4. each workload for a fixed duration after a warm-up, each followed by its floor;
  5. the RSS of the web server, one table, and bench/results/<UTC time>.json and .md.
Everything it started is stopped, the database dropped and the Redis database flushed, also on
failure or Ctrl-C. The exit status is 1 when a run had non-2xx answers or socket errors, 2 when
a step failed, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import report
import seed
import sqlcount
from client import Client, HttpError
from deploy import (ROOT, DeployError, ProcessGroup, Services, app_environment, free_port, gunicorn_settings,
                    read_procfile, run_step, server_rss, wait_until_ready)
from loads import (CEILING_WORKLOADS, WORKLOADS, LoadError, QuizLoad, run_floor, run_workload, start_ceiling_server,
                   start_floor_server, wrk_path)

ADMIN_EMAIL = "admin@bench.example.com"
SEED_THREADS = 8
QUEUE_DRAIN_SECONDS = 180


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sizes = parser.add_argument_group("seed sizes")
    sizes.add_argument("--instructors", type=int, default=2)
    sizes.add_argument("--courses-per-instructor", type=int, default=200)
    sizes.add_argument("--students", type=int, default=500)
    sizes.add_argument("--enrollments-per-student", type=int, default=4)
    sizes.add_argument("--demo", type=demo_sizes, metavar="users=N,courses=N,...",
                       help="fill the database with `flask seed-demo` first (its options: users, courses, "
                            "lessons, enrollments, progress, quizzes, instructors), to measure at scale")
    run = parser.add_argument_group("runs")
    run.add_argument("--duration", type=float, default=15.0, help="seconds measured per run (default 15)")
    run.add_argument("--warmup", type=float, default=3.0, help="unrecorded seconds before each run (default 3)")
    run.add_argument("--rounds", type=int, default=1, help="times the whole plan runs (default 1)")
    run.add_argument("--only", type=workload_names, default=[w.name for w in WORKLOADS], metavar="W2,W4",
                     help="run these workloads (and their floors) only")
    run.add_argument("--sql-samples", type=int, default=5,
                     help="counted requests per request kind (default 5; 0 skips the statement count)")
    run.add_argument("--ceiling", action="store_true",
                     help="after W6 and W7 and their floor, run them against bench/ceiling (the stack's bare "
                          "parts) too")
    run.add_argument("--skip-seed-checks", action="store_true",
                     help="do not check the seeded data and one request of each workload before the runs")
    deploy = parser.add_argument_group("deploy")
    deploy.add_argument("--env", action="append", default=[], type=key_value, metavar="KEY=VALUE",
                        help="extra environment of the deployed processes (repeatable), "
                             "e.g. GUNICORN_WORKER_CLASS=sync")
    deploy.add_argument("--floor-worker-class", metavar="CLASS",
                        help="serve the floor app with this worker class and 1 thread (default: the web's settings)")
    deploy.add_argument("--pg-host", default=os.environ.get("BENCH_PG_HOST", "127.0.0.1"))
    deploy.add_argument("--pg-port", type=int, default=int(os.environ.get("BENCH_PG_PORT", "5432")))
    deploy.add_argument("--pg-user", default=os.environ.get("BENCH_PG_USER", "root"))
    deploy.add_argument("--database", default=os.environ.get("BENCH_DATABASE"),
                        help="name of the throwaway database (default lms_bench_<UTC time>_<pid>); dropped at the end")
    deploy.add_argument("--pg-log", type=Path, default=os.environ.get("BENCH_PG_LOG"),
                        help="the PostgreSQL server log (default: the postmaster's stderr, found through /proc)")
    deploy.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379"))
    deploy.add_argument("--redis-db", type=int, default=int(os.environ.get("BENCH_REDIS_DB", "14")),
                        help="Redis database number, flushed before and after (default 14)")
    deploy.add_argument("--keep-workdir", action="store_true",
                        help="keep the temporary folder (logs, seed.json) even after a clean run")
    return parser.parse_args()


def workload_names(raw: str) -> list[str]:
    names = [name.strip().upper() for name in raw.split(",") if name.strip()]
    unknown = set(names) - {workload.name for workload in WORKLOADS}
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"workloads are W1..W7, got {raw!r}")
    return names


DEMO_OPTIONS = ("users", "courses", "lessons", "enrollments", "progress", "quizzes", "instructors")
DEMO_REQUIRED = ("users", "courses", "lessons", "enrollments", "progress")


def demo_sizes(raw: str) -> dict[str, int]:
    sizes = {}
    for part in raw.split(","):
        key, value = key_value(part.strip())
        if key not in DEMO_OPTIONS or not value.isdigit():
            raise argparse.ArgumentTypeError(f"--demo takes {', '.join(DEMO_OPTIONS)} as name=count, got {part!r}")
        sizes[key] = int(value)
    missing = [key for key in DEMO_REQUIRED if key not in sizes]
    if missing:
        raise argparse.ArgumentTypeError(f"--demo needs {', '.join(missing)}")
    return sizes


def key_value(raw: str) -> tuple[str, str]:
    key, separator, value = raw.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {raw!r}")
    return key, value


def quietly(what: str, action: Callable[[], object]) -> None:
    """A clean-up step: a failure is reported and the next steps still run."""
    try:
        action()
    except Exception as error:  # noqa: BLE001 - clean-up goes on whatever happened
        print(f"clean-up: {what} failed: {error}", file=sys.stderr)


def interrupt(signal_number: int, frame: object) -> None:
    raise KeyboardInterrupt


class Bench:
    """One `make bench` run; every process and resource it makes is released by `cleanup`."""

    def __init__(self, args: argparse.Namespace, workdir: Path, cleanup: ExitStack) -> None:
        self.args = args
        self.workdir = workdir
        self.cleanup = cleanup
        self.venv = Path(sys.prefix)
        self.started = datetime.now(timezone.utc)
        self.database = args.database or f"lms_bench_{self.started:%Y%m%d%H%M%S}_{os.getpid()}"
        self.services = Services(args.pg_host, args.pg_port, args.pg_user, args.redis_url, args.redis_db)
        self.workloads = [workload for workload in WORKLOADS if workload.name in args.only]
        self.sizes = seed.Sizes(args.instructors, args.courses_per_instructor, args.students,
                                args.enrollments_per_student)
        self.procfile = read_procfile()
        self.environment: dict[str, str] = {}
        self.web: ProcessGroup | None = None
        self.floor: ProcessGroup | None = None

    def run(self) -> int:
        self.deploy()
        data = self.seed_through_api()
        self.wait_for_worker()
        sql = self.count_sql(data)
        runs = self.run_workloads(data)
        rss = server_rss(self.web.pid)
        floor_rss = server_rss(self.floor.pid) if self.floor is not None else None
        return self.report(runs, sql, rss, floor_rss)

    # --- deploy -----------------------------------------------------------------------------------

    def start_process(self, name: str, command: str, environment: dict[str, str], cwd: Path = ROOT) -> ProcessGroup:
        process = ProcessGroup(name, command, environment, self.workdir / f"{name}.log", cwd)
        self.cleanup.callback(quietly, f"stopping {name}", process.stop)
        return process

    def deploy(self) -> None:
        services, database = self.services, self.database
        print(f"deploy: database {database}, Redis {services.app_redis_url}, logs in {self.workdir}", flush=True)
        services.create_database(database)
        self.cleanup.callback(quietly, f"dropping database {database}", lambda: services.drop_database(database))
        services.flush_redis()
        self.cleanup.callback(quietly, f"flushing {services.app_redis_url}", services.flush_redis)
        self.environment = app_environment(self.venv, services, database, self.workdir, dict(self.args.env))
        run_step("release", ["bash", "-c", self.procfile["release"]], self.environment, self.workdir / "release.log")
        run_step("create-admin", [str(self.venv / "bin" / "flask"), "create-admin", "--email", ADMIN_EMAIL,
                                  "--password", seed.PASSWORD, "--full-name", "Bench Admin"],
                 self.environment, self.workdir / "create-admin.log")
        if self.args.demo:
            self.fill_in_bulk(self.args.demo)
        self.web = self.start_process("web", self.procfile["web"], self.environment)
        worker = self.start_process("worker", self.procfile["worker"], self.environment)
        cron = self.start_process("cron", self.procfile["cron"], self.environment)
        wait_until_ready(self.port, [self.web, worker, cron])
        print(f"deploy: web ready on port {self.port}", flush=True)

    def fill_in_bulk(self, sizes: dict[str, int]) -> None:
        print(f"deploy: flask seed-demo {sizes} (a few minutes at full size)", flush=True)
        started = time.monotonic()
        options = [f"--{key}={value}" for key, value in sizes.items()]
        run_step("seed-demo", [str(self.venv / "bin" / "flask"), "seed-demo", *options, "--seed", "7"],
                 self.environment, self.workdir / "seed-demo.log")
        print(f"deploy: bulk data in {time.monotonic() - started:.0f} s", flush=True)

    @property
    def port(self) -> int:
        return int(self.environment["PORT"])

    # --- seed -------------------------------------------------------------------------------------

    def seed_through_api(self) -> dict[str, Any]:
        print(f"seed: {asdict(self.sizes)}", flush=True)
        started = time.monotonic()
        client = Client(self.port)
        data = seed.seed(client, ADMIN_EMAIL, self.sizes, SEED_THREADS, random.Random(42))
        (self.workdir / "seed.json").write_text(json.dumps(data))
        print(f"seed: done in {time.monotonic() - started:.0f} s", flush=True)
        if not self.args.skip_seed_checks:
            seed.check_seed(client, data, self.sizes, bulk_filled=bool(self.args.demo))
            print("seed: checked (the catalog, and one request of each workload)", flush=True)
        return data

    def wait_for_worker(self) -> None:
        """Lets the worker finish the seeding's jobs (the registration mails), so it is idle during the runs."""
        deadline = time.monotonic() + QUEUE_DRAIN_SECONDS
        while (pending := self.services.pending_jobs()) and time.monotonic() < deadline:
            print(f"worker: {pending} jobs left", flush=True)
            time.sleep(5)
        if pending:
            print(f"worker: still {pending} jobs after {QUEUE_DRAIN_SECONDS} s; going on", flush=True)

    # --- SQL statements ---------------------------------------------------------------------------

    def count_sql(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.args.sql_samples <= 0:
            return {"available": False, "reason": "skipped (--sql-samples 0)"}
        log = self.args.pg_log or sqlcount.find_server_log(self.services)
        if log is None:
            print("SQL statements: n/a (the PostgreSQL server log is not readable; pass --pg-log)", flush=True)
            return {"available": False, "reason": "the PostgreSQL server log is not readable (--pg-log)"}
        print(f"SQL statements per request (other than BEGIN, COMMIT, ROLLBACK, SELECT 1), from {log}:",
              flush=True)
        names = {workload.name for workload in self.workloads}
        prefix = self.environment.get("CACHE_KEY_PREFIX", "cache")
        return sqlcount.count_statements(self.services, self.database, log, self.start_counting_server,
                                         lambda: self.services.delete_redis_keys(f"{prefix}:*"), data, names,
                                         self.args.sql_samples)

    def start_counting_server(self) -> tuple[ProcessGroup, int]:
        """The Procfile's web line once more: 1 worker on another port, the same environment."""
        port = free_port()
        environment = {**self.environment, "WEB_CONCURRENCY": "1", "PORT": str(port)}
        server = self.start_process("count-web", self.procfile["web"], environment)
        wait_until_ready(port, [server])
        return server, port

    # --- workloads --------------------------------------------------------------------------------

    def start_floor(self) -> int | None:
        if not any(workload.floor.startswith("F:") for workload in self.workloads):
            return None
        self.floor, port = start_floor_server(self.environment, self.workdir, self.args.floor_worker_class)
        self.cleanup.callback(quietly, "stopping the floor server", self.floor.stop)
        return port

    def start_ceiling(self) -> int | None:
        if not self.args.ceiling or all(workload.name not in CEILING_WORKLOADS for workload in self.workloads):
            return None
        server, port = start_ceiling_server(self.environment, self.workdir, self.args.floor_worker_class)
        self.cleanup.callback(quietly, "stopping the ceiling server", server.stop)
        return port

    def run_workloads(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        data_files = seed.write_data_files(data, self.workdir)
        quiz_load = QuizLoad(self.port, data)
        floor_port = self.start_floor()
        ceiling_port = self.start_ceiling()
        ceiling_quiz_load = QuizLoad(ceiling_port, data) if ceiling_port is not None else None
        cost = int(self.environment.get("BCRYPT_ROUNDS", "12"))
        args, runs = self.args, []
        for round_number in range(1, args.rounds + 1):
            for workload in self.workloads:
                result = run_workload(workload, self.port, data_files, quiz_load, args.warmup, args.duration)
                print(report.run_line(round_number, workload.name, result), flush=True)
                floor_result = run_floor(workload, floor_port, self.venv / "bin" / "python", cost, args.warmup,
                                         args.duration)
                print(report.run_line(round_number, workload.floor, floor_result), flush=True)
                run = {"round": round_number, "workload": workload.name, "result": result,
                       "floor": workload.floor, "floor_result": floor_result}
                if ceiling_port is not None and workload.name in CEILING_WORKLOADS:
                    run["ceiling_result"] = run_workload(workload, ceiling_port, data_files, ceiling_quiz_load,
                                                         args.warmup, args.duration)
                    print(report.run_line(round_number, f"{workload.name} ceil.", run["ceiling_result"]), flush=True)
                runs.append(run)
        return runs

    # --- report -----------------------------------------------------------------------------------

    def report(self, runs: list[dict[str, Any]], sql: dict[str, Any], rss: dict[str, Any] | None,
               floor_rss: dict[str, Any] | None) -> int:
        floor_environment = dict(self.environment)
        if self.args.floor_worker_class:
            floor_environment.update(GUNICORN_WORKER_CLASS=self.args.floor_worker_class, GUNICORN_THREADS="1")
        result = {
            "date_utc": f"{self.started:%Y-%m-%d %H:%M}",
            "machine": report.machine(self.services.versions()),
            "settings": {
                "sizes": asdict(self.sizes), "demo": self.args.demo, "duration": self.args.duration, "warmup": self.args.warmup,
                "rounds": self.args.rounds, "env_overrides": dict(self.args.env),
                "web_gunicorn": gunicorn_settings(self.environment),
                "floor_gunicorn": gunicorn_settings(floor_environment),
            },
            "summary": [report.summary_row(workload, runs, sql) for workload in self.workloads],
            "runs": runs, "sql": sql, "rss": rss, "rss_budget_mb": report.RSS_BUDGET_MB, "floor_rss": floor_rss,
            "errors": report.run_errors(runs),
        }
        json_path, markdown_path = report.write(result, report.render(result, markdown=True),
                                                f"{self.started:%Y%m%dT%H%M%SZ}")
        print("\n" + report.render(result))
        for line in result["errors"]:
            print(f"!!! ERRORS {line} (see {self.workdir}/web.log)", file=sys.stderr)
        print(f"\nwritten: {json_path.relative_to(ROOT)} and {markdown_path.relative_to(ROOT)}")
        return 1 if result["errors"] else 0


def main() -> int:
    args = parse_args()
    wrk_path()
    if not (Path(sys.prefix) / "bin" / "gunicorn").exists():
        raise SystemExit(f"{sys.prefix} has no gunicorn: run this through `make bench` (it builds .venv-bench)")
    workdir = Path(tempfile.mkdtemp(prefix="lms-bench-"))
    signal.signal(signal.SIGTERM, interrupt)
    cleanup = ExitStack()
    try:
        status = Bench(args, workdir, cleanup).run()
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        status = 130
    except (DeployError, HttpError, LoadError, seed.SeedCheckError) as error:
        print(f"\nmake bench failed: {error}", file=sys.stderr)
        status = 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cleanup.close()
    if status == 0 and not args.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs and seed.json kept in {workdir}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
