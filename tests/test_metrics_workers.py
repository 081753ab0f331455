"""Metrics under several gunicorn workers: a scrape answered by any worker counts the requests of
all of them (prometheus_client's multiprocess mode), and a worker that dies stops counting in the
live gauges (gunicorn's child_exit hook)."""

from __future__ import annotations

import os
import re
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import served_by_gunicorn

TOKEN = "w" * 40

pytestmark = [pytest.mark.postgres, pytest.mark.real_commits]


def get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def counted(base: str, name: str, **labels) -> float:
    _, text = get(f"{base}/metrics", TOKEN)
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


def live_gauge_pids(directory: Path) -> set[int]:
    return {int(match.group(1)) for path in directory.iterdir()
            if (match := re.match(r"gauge_livesum_(\d+)\.db$", path.name))}


def gunicorn(settings: dict, directory: Path, preload: str):
    """Two workers of one thread sharing `directory`; ready once both have started their metrics."""
    return served_by_gunicorn(
        settings, {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "1", "PROMETHEUS_MULTIPROC_DIR": str(directory),
                   "GUNICORN_PRELOAD": preload},
        lambda _base: len(live_gauge_pids(directory)) >= 2)


@pytest.fixture(params=["true", "false"], ids=["preloaded", "loaded-per-worker"])
def served(base_settings, tmp_path, request):
    settings = {key: value for key, value in base_settings.items() if key not in {"TESTING"}}
    settings.update(METRICS_ENABLED="true", METRICS_TOKEN=TOKEN, TASKS_FORCE_INLINE="true")
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"stale")  # a previous run's file: removed at start
    with gunicorn(settings, directory, request.param) as base:
        yield base, directory


def test_every_scrape_counts_the_requests_of_every_worker(served):
    base, directory = served
    assert not (directory / "counter_1.db").exists()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: get(f"{base}/api/v1/courses")[0], range(40)))
    assert statuses == [200] * 40
    labels = {"method": "GET", "route": "/api/v1/courses", "status": "200"}
    assert [counted(base, "lms_http_requests_total", **labels) for _ in range(6)] == [40.0] * 6
    assert counted(base, "lms_http_request_duration_seconds_count", **labels) == 40


def test_the_pool_sizes_count_the_pools_of_every_worker(served):
    base, _ = served
    assert counted(base, "lms_db_pool_size", pool="main") == 2 * 5  # two workers, DB_POOL_SIZE each
    assert counted(base, "lms_db_pool_size", pool="read") == 2 * 5


def test_a_dead_worker_stops_counting_in_the_live_gauges(served):
    base, directory = served
    victim = min(live_gauge_pids(directory))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while victim in live_gauge_pids(directory) or len(live_gauge_pids(directory)) < 2:
        assert time.monotonic() < deadline, "the master did not replace the worker and mark it dead"
        time.sleep(0.2)
    assert counted(base, "lms_http_requests_in_progress") == 1  # the scrape, whichever worker answers it
