"""Prometheus metrics: `GET /metrics` when METRICS_ENABLED, answered only to `Bearer <METRICS_TOKEN>`.

Off (the default), nothing here is installed: no hook runs, no metric exists, and the one call left
on a hot path (`count_cache_lookup`) returns at once. On, each request costs a few increments
of memory-mapped values:

- per request: `lms_http_requests_total` and `lms_http_request_duration_seconds` by method, route
  template (`/api/v1/courses/<uuid:course_id>`, so the label set stays small; "unmatched" for
  unknown paths) and status, and `lms_http_requests_in_progress`;
- `lms_db_pool_connections_in_use` and `lms_db_pool_size` by pool (`main`, `read`), from the pools'
  checkout and checkin events;
- `lms_cache_lookups_total` by result (hit, miss) and `lms_rate_limit_refusals_total` (429s);
- at scrape time, from Redis: `lms_queue_jobs` and `lms_queue_failed_jobs` by RQ queue.

Several gunicorn workers: with `PROMETHEUS_MULTIPROC_DIR` set (gunicorn.conf.py sets it when
metrics are on), prometheus_client keeps each process's values in files there and a scrape
answered by any worker adds up every worker's values; gunicorn's `child_exit` hook marks a dead
worker's files so that its in-progress and pool gauges no longer count.

Other modules add their own figures with `register_collector` (a prometheus_client collector whose
`collect()` runs at scrape time in the scraping process: backlogs, failures read from the database
or Redis) or with their own Counter/Gauge objects created at import.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from typing import Any, Callable

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Engine, event

from lms.core.db import engines_of
from lms.core.errors import error_response

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_collectors: list[Any] = []
_metrics: dict[str, Any] = {}
_count_cache_lookup: Callable[[bool], None] | None = None

METRICS_PATH = "/metrics"
UNAUTHORIZED = "Metrics need Authorization: Bearer <METRICS_TOKEN>"


def register_collector(collector: Any) -> None:
    """Add a prometheus_client collector to every scrape (call at import; harmless when metrics are off)."""
    _collectors.append(collector)


def count_cache_lookup(hit: bool) -> None:
    """A cache read found a value (hit) or not (miss)."""
    if _count_cache_lookup is not None:
        _count_cache_lookup(hit)


def _define_metrics() -> dict[str, Any]:
    """The metric objects, once per process (several apps in one process share them)."""
    if not _metrics:
        from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

        disable_created_metrics()  # no `_created` series: Grafana uses none of them
        labels = ("method", "route", "status")
        _metrics.update(
            requests=Counter("lms_http_requests_total", "HTTP requests answered", labels),
            latency=Histogram("lms_http_request_duration_seconds", "Time to answer an HTTP request", labels,
                              buckets=_LATENCY_BUCKETS),
            in_progress=Gauge("lms_http_requests_in_progress", "HTTP requests being answered",
                              multiprocess_mode="livesum"),
            pool_in_use=Gauge("lms_db_pool_connections_in_use", "Database connections checked out", ("pool",),
                              multiprocess_mode="livesum"),
            pool_size=Gauge("lms_db_pool_size", "Database connections a pool keeps", ("pool",),
                            multiprocess_mode="livesum"),
            cache=Counter("lms_cache_lookups_total", "Reads of the response cache", ("result",)),
            refusals=Counter("lms_rate_limit_refusals_total", "Requests refused by a rate limit (429)"),
        )
    return _metrics


def init_metrics(app: Flask) -> None:
    """Install the hooks and `GET /metrics` (call right after the request-clock hook)."""
    global _count_cache_lookup
    metrics = _define_metrics()
    hits, misses = metrics["cache"].labels("hit"), metrics["cache"].labels("miss")

    def count(hit: bool) -> None:
        (hits if hit else misses).inc()

    _count_cache_lookup = count

    @app.before_request
    def _start() -> None:
        metrics["in_progress"].inc()
        g.metrics_in_progress = True

    @app.after_request
    def _observe(response: Response) -> Response:
        rule = request.url_rule
        labels = (request.method, rule.rule if rule is not None else "unmatched", str(response.status_code))
        metrics["requests"].labels(*labels).inc()
        started = g.get("request_started")
        if started is not None:
            metrics["latency"].labels(*labels).observe(time.perf_counter() - started)
        if response.status_code == 429:
            metrics["refusals"].inc()
        return response

    @app.teardown_request
    def _finish(_error: BaseException | None) -> None:
        if g.pop("metrics_in_progress", False):
            metrics["in_progress"].dec()

    for name, engine in zip(("main", "read"), engines_of(app)):
        _watch_pool(engine, name, metrics)
    app.add_url_rule(METRICS_PATH, "metrics", _scrape, methods=["GET"])


def count_pools_after_fork(app: Flask) -> None:
    """In a process forked from the one that installed the metrics (gunicorn's preloaded workers):
    prometheus_client starts the new process's values at zero, so its pool sizes are set again."""
    for name, engine in zip(("main", "read"), engines_of(app)):
        _set_pool_size(engine, name, _metrics)


def document_metrics(app: Flask, spec: Any) -> None:
    """`GET /metrics` in the OpenAPI document (of an app that serves it)."""
    spec.path(rule=next(app.url_map.iter_rules("metrics")), operations={"get": {
        "operationId": "getMetrics",
        "tags": ["operations"],
        "summary": "Prometheus metrics of every worker (METRICS_ENABLED; Bearer METRICS_TOKEN).",
        "description": "The Prometheus text format. Only with `Authorization: Bearer <METRICS_TOKEN>` (401 "
                       "otherwise, also when no token is configured); outside the API prefix and the rate limits.",
        "security": [{"bearerAuth": []}],
        "responses": {
            "200": {"description": "The metrics", "content": {"text/plain": {
                "schema": {"type": "string"},
                "example": "# TYPE lms_http_requests_total counter\n"
                           'lms_http_requests_total{method="GET",route="/api/v1/courses",status="200"} 42.0\n'}}},
            "401": {"$ref": "#/components/responses/UNAUTHORIZED"},
        },
    }})


def _watch_pool(engine: Engine, name: str, metrics: dict[str, Any]) -> None:
    in_use = metrics["pool_in_use"].labels(name)
    _set_pool_size(engine, name, metrics)
    event.listen(engine, "checkout", lambda *_: in_use.inc())
    event.listen(engine, "checkin", lambda *_: in_use.dec())


def _set_pool_size(engine: Engine, name: str, metrics: dict[str, Any]) -> None:
    size = getattr(engine.pool, "size", None)
    if callable(size):
        metrics["pool_size"].labels(name).set(size())


def _scrape() -> Response:
    from prometheus_client import REGISTRY, CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    token = current_app.config["METRICS_TOKEN"]
    presented = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
        return error_response(401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Forwarded(REGISTRY))
    registry.register(_QueueCollector())
    for collector in _collectors:
        registry.register(collector)
    return current_app.response_class(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST,
                                      headers={"Cache-Control": "no-store"})


class _Forwarded:
    """The process's own metrics (single-process mode), scraped along with the collectors above."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry

    def collect(self):
        return self._registry.collect()


class _QueueCollector:
    """Jobs waiting and jobs failed per RQ queue, read from Redis at scrape time (left out while
    Redis does not answer: the other figures still come)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        from redis import RedisError
        from rq import Queue
        from rq.registry import FailedJobRegistry

        from lms.core.redis import redis_bytes_client
        from lms.core.tasks import QUEUES

        waiting = GaugeMetricFamily("lms_queue_jobs", "Jobs waiting in an RQ queue", labels=["queue"])
        failed = GaugeMetricFamily("lms_queue_failed_jobs", "Jobs in an RQ queue's failed registry",
                                   labels=["queue"])
        connection = redis_bytes_client(current_app._get_current_object())
        if connection is None:
            return
        try:
            for name in QUEUES:
                queue = Queue(name, connection=connection)
                waiting.add_metric([name], queue.count)
                failed.add_metric([name], FailedJobRegistry(queue=queue).count)
        except RedisError:
            log.warning("metrics: Redis did not answer; queue figures left out of this scrape")
            return
        yield waiting
        yield failed
