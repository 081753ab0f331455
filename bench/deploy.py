"""Deploying the project for `make bench` the way a user would: from the Procfile, on PostgreSQL and
Redis, in production mode.

`Services` is where PostgreSQL and Redis are and how to reach them with the command-line tools
(`createdb`, `dropdb`, `psql`, `redis-cli`). `app_environment` is the environment of every
process of the deploy. `ProcessGroup` runs one Procfile line with `bash -c` in its own process
group, its output in a file, and stops the whole group.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RAISED_LIMIT = "100000000"
# Inherited variables that would change what is deployed: gunicorn must run with the defaults of
# gunicorn.conf.py (the shipped ones), and `flask` must find the app through .flaskenv.
NOT_INHERITED_PREFIXES = ("GUNICORN_",)
NOT_INHERITED = {"BIND", "HOST", "FLASK_APP"}
# Jobs waiting in RQ's queues or being worked on.
COUNT_RQ_JOBS = ("local jobs = 0 "
                 "for _, queue in ipairs(redis.call('SMEMBERS', 'rq:queues')) do "
                 "jobs = jobs + redis.call('LLEN', queue) end "
                 "for _, wip in ipairs(redis.call('KEYS', 'rq:wip:*')) do jobs = jobs + redis.call('ZCARD', wip) end "
                 "return jobs")
# Deletes the keys matching ARGV[1]; answers how many.
DELETE_MATCHING_KEYS = ("local keys = redis.call('KEYS', ARGV[1]) "
                        "for i = 1, #keys, 500 do redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys))) end "
                        "return #keys")


class DeployError(RuntimeError):
    """A step of the deploy failed; the message says which and where its output is."""


@dataclass(frozen=True)
class Services:
    pg_host: str
    pg_port: int
    pg_user: str
    redis_url: str  # without a database number
    redis_db: int

    @property
    def pg_args(self) -> list[str]:
        return ["-h", self.pg_host, "-p", str(self.pg_port), "-U", self.pg_user]

    def database_url(self, database: str) -> str:
        return f"postgresql://{self.pg_user}@{self.pg_host}:{self.pg_port}/{database}"

    @property
    def app_redis_url(self) -> str:
        return f"{self.redis_url.rstrip('/')}/{self.redis_db}"

    def create_database(self, database: str) -> None:
        run_tool(["createdb", *self.pg_args, database])

    def drop_database(self, database: str) -> None:
        run_tool(["dropdb", *self.pg_args, "--if-exists", "--force", database])

    def psql(self, database: str, sql: str) -> str:
        """The unaligned answer, spaces kept (log_line_prefix usually ends with one)."""
        return run_tool(["psql", *self.pg_args, "-d", database, "-X", "-tA", "-c", sql]).rstrip("\n")

    def redis(self, *command: str) -> str:
        return run_tool(["redis-cli", "-u", self.app_redis_url, *command]).strip()

    def flush_redis(self) -> None:
        self.redis("FLUSHDB")

    def delete_redis_keys(self, pattern: str) -> None:
        self.redis("EVAL", DELETE_MATCHING_KEYS, "0", pattern)

    def pending_jobs(self) -> int:
        return int(self.redis("EVAL", COUNT_RQ_JOBS, "0"))

    def versions(self) -> dict[str, str]:
        info = self.redis("INFO", "server")
        redis_version = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                              if line.startswith("redis_version:")), "?")
        return {"postgresql": self.psql("postgres", "SHOW server_version"), "redis": redis_version}


def run_tool(command: list[str], cwd: Path | None = None, environment: dict[str, str] | None = None) -> str:
    """Runs a command-line tool; its standard output, or DeployError with its error output."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=environment)
    if done.returncode != 0:
        raise DeployError(f"{command[0]} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_procfile(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """The process types of a Procfile: `name: command` lines."""
    processes = {}
    for line in path.read_text().splitlines():
        name, separator, command = line.partition(":")
        if separator and name.strip() and not name.lstrip().startswith("#"):
            processes[name.strip()] = command.strip()
    return processes


def app_environment(venv: Path, services: Services, database: str, workdir: Path,
                    overrides: dict[str, str]) -> dict[str, str]:
    """The environment of the release, web and worker processes (and of the floor server)."""
    inherited = {key: value for key, value in os.environ.items()
                 if key not in NOT_INHERITED and not key.startswith(NOT_INHERITED_PREFIXES)}
    environment = {
        **inherited,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "ENVIRONMENT": "production",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": services.database_url(database),
        "REDIS_URL": services.app_redis_url,
        "REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN": "false",
        "ACCESS_TOKEN_EXPIRE_MINUTES": "720",
        "RATE_LIMIT_REQUESTS_PER_MINUTE": RAISED_LIMIT,
        "AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE": RAISED_LIMIT,
        "FILE_UPLOAD_RATE_LIMIT_REQUESTS_PER_HOUR": RAISED_LIMIT,
        "ASSIGNMENT_RATE_LIMIT_REQUESTS_PER_MINUTE": RAISED_LIMIT,
        "MAX_FAILED_LOGIN_ATTEMPTS": "1000000",
        "FILE_STORAGE_PROVIDER": "local",
        "UPLOAD_DIR": str(workdir / "uploads"),
        "CERTIFICATES_DIR": str(workdir / "certificates"),
        "WEB_CONCURRENCY": "2",
        "PORT": str(free_port()),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    return {**environment, **overrides}


def gunicorn_settings(environment: dict[str, str]) -> dict[str, object]:
    """Workers, worker class and threads as gunicorn.conf.py resolves them in `environment`."""
    script = ("import json, runpy; settings = runpy.run_path('gunicorn.conf.py'); "
              "print(json.dumps({key: settings[key] for key in ('workers', 'worker_class', 'threads')}))")
    return json.loads(run_tool(["python", "-c", script], cwd=ROOT, environment=environment))


def run_step(name: str, command: list[str], environment: dict[str, str], log_path: Path) -> None:
    """A one-off command of the deploy (release, create-admin), its output in `log_path`."""
    with log_path.open("w") as log:
        done = subprocess.run(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise DeployError(f"{name} failed ({done.returncode}); see {log_path}:\n{log_path.read_text()[-2000:]}")


class ProcessGroup:
    """One Procfile-style command run by `bash -c` in a new process group, output to a file."""

    def __init__(self, name: str, command: str, environment: dict[str, str], log_path: Path,
                 cwd: Path = ROOT) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=environment, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise DeployError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}:\n"
                              f"{self.log_path.read_text()[-2000:]}")

    def stop(self, grace_seconds: float = 30.0) -> None:
        """SIGTERM to the whole group, SIGKILL to what is left after `grace_seconds`."""
        if not _signal_group(self.pid, signal.SIGTERM):
            self.process.wait()
            return
        try:
            self.process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 2.0
        while _signal_group(self.pid, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_group(self.pid, signal.SIGKILL)
        self.process.wait()


def _signal_group(pgid: int, signal_number: int) -> bool:
    """Sends a signal to a process group; False when the group is gone."""
    try:
        os.killpg(pgid, signal_number)
        return True
    except ProcessLookupError:
        return False


def wait_until_ready(port: int, processes: list[ProcessGroup], path: str = "/api/v1/ready",
                     timeout: float = 60.0) -> None:
    """Polls GET `path` until it answers 200, while every process is still up."""
    url = f"http://127.0.0.1:{port}{path}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            process.check_alive()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.3)
    raise DeployError(f"{url} did not answer 200 within {timeout:.0f} s")


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            children += [int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return children


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _shared_memory_kib(pid: int) -> tuple[int, int] | None:
    """PSS (each page divided by the number of processes that map it) and USS (pages no other process
    maps) of `pid`, in KiB; None where the kernel gives no smaps_rollup."""
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, _, value = line.partition(":")
            fields[name] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if "Pss" not in fields:
        return None
    return fields["Pss"], fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


def gunicorn_master(pid: int) -> int | None:
    """The first process running gunicorn at or below `pid` (bash may or may not have exec'ed it)."""
    pending = [pid]
    while pending:
        current = pending.pop(0)
        if "gunicorn" in _command_line(current):
            return current
        pending += _children(current)
    return None


def server_rss(pid: int) -> dict[str, Any] | None:
    """The memory in MB of the gunicorn master at or below `pid` and of its workers, and their sums:
    VmRSS, which counts a page shared by several of them (the preloaded app's) once in each, and
    where the kernel tells, PSS (a shared page split between the processes that map it: their sum is
    what the server occupies) and USS (the pages each process alone maps)."""
    master = gunicorn_master(pid)
    if master is None:
        return None
    processes = [master, *_children(master)]
    rss = [_rss_kib(process) / 1024 for process in processes]
    result: dict[str, Any] = {"master_mb": round(rss[0], 1), "workers_mb": [round(mb, 1) for mb in rss[1:]],
                              "total_mb": round(sum(rss), 1)}
    shared = [_shared_memory_kib(process) for process in processes]
    if all(figures is not None for figures in shared):
        pss = [figures[0] / 1024 for figures in shared]
        uss = [figures[1] / 1024 for figures in shared]
        result.update(pss_master_mb=round(pss[0], 1), pss_workers_mb=[round(mb, 1) for mb in pss[1:]],
                      pss_total_mb=round(sum(pss), 1), uss_master_mb=round(uss[0], 1),
                      uss_workers_mb=[round(mb, 1) for mb in uss[1:]], uss_total_mb=round(sum(uss), 1))
    return result
