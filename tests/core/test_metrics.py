"""GET /metrics: off by default (nothing installed), bearer METRICS_TOKEN only, and the figures it
counts: requests by route template and status with latencies, in-flight requests, database pools,
cache lookups, rate-limit refusals, RQ queues and the collectors other modules register."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from lms.core import metrics
from lms.core.tasks import enqueue
from tests.helpers import API, CLOSED_REDIS_URL, bearer, work_off

TOKEN = "m" * 40


def failing_job() -> None:
    raise RuntimeError("this job always fails")


def scrape(client) -> list:
    response = client.get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return [sample for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples]


def value(client, name: str, **labels) -> float:
    return sum(sample.value for sample in scrape(client)
               if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))


@pytest.fixture
def metered(make_app):
    return make_app(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN)


def test_off_by_default_nothing_is_installed(app, client):
    assert client.get("/metrics").status_code == 404
    assert "metrics" not in app.view_functions
    hooks = [hook.__name__ for hook in app.before_request_funcs.get(None, []) + app.after_request_funcs.get(None, [])]
    assert "_start" not in hooks and "_observe" not in hooks


@pytest.mark.parametrize("headers", [{}, bearer("m" * 39), bearer(TOKEN + "x"), {"Authorization": TOKEN}])
def test_only_the_token_opens_it(metered, headers):
    response = metered.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"detail": metrics.UNAUTHORIZED}


def test_no_token_configured_opens_nothing(make_app):
    client = make_app(METRICS_ENABLED=True, METRICS_TOKEN="").test_client()
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


def test_requests_are_counted_by_route_template_and_status(metered):
    client = metered.test_client()
    catalog = {"name": "lms_http_requests_total", "method": "GET", "route": "/api/v1/courses", "status": "200"}
    one_course = {"route": "/api/v1/courses/<uuid:course_id>", "status": "404"}
    before = value(client, **catalog), value(client, "lms_http_requests_total", **one_course)
    latency_before = value(client, "lms_http_request_duration_seconds_count", route="/api/v1/courses", status="200")
    for _ in range(3):
        assert client.get(f"{API}/courses").status_code == 200
    assert client.get(f"{API}/courses/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    assert value(client, **catalog) - before[0] == 3
    assert value(client, "lms_http_requests_total", **one_course) - before[1] == 1
    assert value(client, "lms_http_request_duration_seconds_count", route="/api/v1/courses", status="200") \
        - latency_before == 3
    assert value(client, "lms_http_requests_total", route="unmatched", status="404") >= 1
    assert not [s for s in scrape(client) if "/no/such/path" in s.labels.get("route", "")]


def test_in_flight_requests_and_pool_connections_come_back_down(metered):
    client = metered.test_client()
    client.get(f"{API}/courses")
    assert value(client, "lms_http_requests_in_progress") == 1  # the scrape itself
    assert value(client, "lms_db_pool_connections_in_use", pool="main") >= 0
    assert value(client, "lms_db_pool_size", pool="main") > 0


def test_cache_hits_and_misses(metered):
    client = metered.test_client()
    before = value(client, "lms_cache_lookups_total", result="hit"), value(client, "lms_cache_lookups_total",
                                                                            result="miss")
    client.get(f"{API}/courses?page_size=7")
    client.get(f"{API}/courses?page_size=7")
    after = value(client, "lms_cache_lookups_total", result="hit"), value(client, "lms_cache_lookups_total",
                                                                           result="miss")
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def test_rate_limit_refusals(make_app):
    client = make_app(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN, RATE_LIMIT_ENABLED=True,
                      RATE_LIMIT_REQUESTS_PER_MINUTE=2).test_client()
    before = value(client, "lms_rate_limit_refusals_total")
    statuses = [client.get(f"{API}/courses").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert value(client, "lms_rate_limit_refusals_total") - before == 1
    assert client.get("/metrics", headers=bearer(TOKEN)).status_code == 200  # never rate limited


@pytest.mark.redis
def test_queue_depth_and_failed_jobs_per_queue(make_app, monkeypatch):
    from lms.core import tasks

    queued = make_app(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN, TASKS_FORCE_INLINE=False, JOB_MAX_RETRIES=0)
    monkeypatch.setattr(tasks, "_worker_app", queued)
    client = queued.test_client()
    with queued.app_context():
        enqueue(failing_job)
        enqueue(failing_job, queue="emails")
    assert value(client, "lms_queue_jobs", queue="default") == 1
    assert value(client, "lms_queue_jobs", queue="emails") == 1
    work_off(queued, "default")
    assert value(client, "lms_queue_jobs", queue="default") == 0
    assert value(client, "lms_queue_failed_jobs", queue="default") == 1
    assert value(client, "lms_queue_failed_jobs", queue="emails") == 0


def test_a_redis_outage_leaves_out_only_the_queue_figures(make_app):
    client = make_app(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN, REDIS_URL=CLOSED_REDIS_URL,
                      REDIS_SOCKET_TIMEOUT_SECONDS=0.2).test_client()
    names = {sample.name for sample in scrape(client)}
    assert "lms_http_requests_total" in names
    assert "lms_queue_jobs" not in names


def test_other_modules_register_collectors(metered, monkeypatch):
    class Backlog:
        def collect(self):
            family = GaugeMetricFamily("lms_test_backlog", "A backlog another module reports")
            family.add_metric([], 7)
            yield family

    monkeypatch.setattr(metrics, "_collectors", [Backlog()])
    assert value(metered.test_client(), "lms_test_backlog") == 7


def test_the_document_describes_metrics_when_they_are_on(make_app):
    assert "/metrics" not in make_app().test_client().get("/openapi.json").get_json()["paths"]
    document = make_app(METRICS_ENABLED=True, METRICS_TOKEN=TOKEN).test_client().get("/openapi.json").get_json()
    validate(document)
    operation = document["paths"]["/metrics"]["get"]
    assert operation["operationId"] == "getMetrics"
    assert "text/plain" in operation["responses"]["200"]["content"]
