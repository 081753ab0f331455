"""Background jobs: RQ on Redis run by a worker inside the app, inline otherwise (§5.24, §5.30)."""

from __future__ import annotations


import pytest
from flask import current_app
from rq import Queue
from rq.job import Job, JobStatus

from lms.core import tasks
from lms.core.redis import redis_bytes_client, redis_client
from lms.core.tasks import RETRY_INTERVALS, enqueue
from lms.worker import AppWorker
from tests.helpers import CLOSED_REDIS_URL, work_off


def record_job(marker: str, *, suffix: str = "") -> str:
    """A job that leaves proof of running, with the name of the app it ran in."""
    redis_client().set(f"job-ran:{marker}", current_app.config["PROJECT_NAME"] + suffix)
    return marker


inline_runs: list[str] = []


def record_inline(marker: str) -> None:
    inline_runs.append(marker)


def failing_job() -> None:
    raise RuntimeError("this job always fails")


@pytest.fixture
def queued_app(make_app, redis_url, monkeypatch):
    """An app that really enqueues on this run's Redis; its worker uses the same app."""
    if not redis_url:
        pytest.skip("needs Redis")
    application = make_app(TASKS_FORCE_INLINE=False, PROJECT_NAME="Worker Probe")
    monkeypatch.setattr(tasks, "_worker_app", application)
    inline_runs.clear()
    return application


@pytest.mark.redis
def test_a_job_on_redis_is_run_by_a_worker_inside_the_app(queued_app):
    with queued_app.app_context():
        job_id = enqueue(record_job, "one", suffix="!")
        assert job_id is not None
        assert redis_client().get("job-ran:one") is None  # queued, not run inline
    work_off(queued_app, "default")
    with queued_app.app_context():
        assert redis_client().get("job-ran:one") == "Worker Probe!"
        job = Job.fetch(job_id, connection=redis_bytes_client())
        assert job.get_status() == JobStatus.FINISHED
        assert job.return_value() == "one"


@pytest.mark.redis
def test_jobs_go_to_the_queue_they_name(queued_app):
    with queued_app.app_context():
        enqueue(record_job, "mail-ish", queue="emails")
        connection = redis_bytes_client()
        assert Queue("emails", connection=connection).count == 1
        assert Queue("default", connection=connection).count == 0


def test_an_unknown_queue_is_refused(app):
    with pytest.raises(ValueError):
        enqueue(record_inline, "x", queue="nope")


@pytest.mark.redis
def test_a_failed_job_is_scheduled_for_a_retry_with_back_off(queued_app):
    with queued_app.app_context():
        job_id = enqueue(failing_job)
    work_off(queued_app, "default")
    with queued_app.app_context():
        job = Job.fetch(job_id, connection=redis_bytes_client())
        assert job.get_status() == JobStatus.SCHEDULED
        assert job.retries_left == queued_app.config["JOB_MAX_RETRIES"] - 1
        assert job.retry_intervals == RETRY_INTERVALS[:queued_app.config["JOB_MAX_RETRIES"]]


@pytest.mark.redis
def test_the_app_worker_builds_the_app_once_before_forking(queued_app, monkeypatch):
    built = []

    def build_app():
        built.append(True)
        return queued_app

    monkeypatch.setattr(tasks, "_worker_app", None)
    monkeypatch.setattr(tasks, "_app_factory", build_app)
    with queued_app.app_context():
        enqueue(record_job, "forked")
        enqueue(record_job, "forked-again")
    work_off(queued_app, "default", worker_class=AppWorker)
    assert built == [True]  # in the parent, once; each forked horse inherited it
    with queued_app.app_context():
        assert redis_client().get("job-ran:forked") == "Worker Probe"
        assert redis_client().get("job-ran:forked-again") == "Worker Probe"


def test_jobs_run_inline_when_forced(app):
    inline_runs.clear()
    assert app.config["TASKS_FORCE_INLINE"] is True
    assert enqueue(record_inline, "forced") is None
    assert inline_runs == ["forced"]


def test_jobs_run_inline_without_redis(make_app):
    inline_runs.clear()
    with make_app(REDIS_URL="", TASKS_FORCE_INLINE=False).app_context():
        assert enqueue(record_inline, "no-redis") is None
    assert inline_runs == ["no-redis"]


def test_jobs_run_inline_when_redis_cannot_take_them(make_app):
    """An outage loses no job (§5.26): it runs in the request instead."""
    inline_runs.clear()
    with make_app(REDIS_URL=CLOSED_REDIS_URL, TASKS_FORCE_INLINE=False).app_context():
        assert enqueue(record_inline, "outage") is None
    assert inline_runs == ["outage"]


def test_an_inline_failure_is_logged_not_raised(app, capture_lms_log):
    with capture_lms_log() as log:
        assert enqueue(failing_job) is None
    [record] = [r for r in log.records if r.levelname == "ERROR"]
    assert "failing_job" in record.getMessage()
    assert record.exc_info is not None


def test_a_job_that_must_not_run_inline_is_skipped_when_it_cannot_be_queued(app, make_app):
    """`inline=False`: a job that a periodic run catches up with (the webhook relay) never runs in
    the request, forced inline, without Redis or in an outage."""
    inline_runs.clear()
    assert enqueue(record_inline, "forced", inline=False) is None
    with make_app(REDIS_URL="", TASKS_FORCE_INLINE=False).app_context():
        assert enqueue(record_inline, "no-redis", inline=False) is None
    with make_app(REDIS_URL=CLOSED_REDIS_URL, TASKS_FORCE_INLINE=False).app_context():
        assert enqueue(record_inline, "outage", inline=False) is None
    assert inline_runs == []
