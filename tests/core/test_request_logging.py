"""Request ids, one access-log line per request, JSON logs, the response envelope (contract §1.12)."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest


def test_a_request_id_is_generated_and_echoed(client):
    first = client.get("/api/v1/health").headers["X-Request-ID"]
    second = client.get("/api/v1/health").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_an_incoming_request_id_is_echoed(client):
    response = client.get("/api/v1/health", headers={"X-Request-ID": "edge-42.a_b"})
    assert response.headers["X-Request-ID"] == "edge-42.a_b"


@pytest.mark.parametrize("unsafe", ["has space", "x" * 129, "new\\nline", "<script>"])
def test_an_unsafe_incoming_request_id_is_replaced(client, unsafe):
    response = client.get("/api/v1/health", headers={"X-Request-ID": unsafe})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_error_responses_carry_the_request_id_too(client):
    response = client.get("/api/v1/missing", headers={"X-Request-ID": "err-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "err-1"


def test_each_request_logs_one_access_line(make_app, capture_lms_log):
    application = make_app()
    with capture_lms_log() as log:
        application.test_client().get("/api/v1/health", headers={"X-Request-ID": "line-1"})
    [record] = [r for r in log.records if r.name == "lms.access"]
    assert (record.method, record.path, record.status) == ("GET", "/api/v1/health", 200)
    assert record.duration_ms >= 0
    assert record.request_id == "line-1"
    assert record.getMessage().startswith("GET /api/v1/health 200 ")


def stream_of_lms_logger() -> io.StringIO:
    """Point the handler `create_app` installed at a buffer and return the buffer."""
    [handler] = logging.getLogger("lms").handlers
    buffer = io.StringIO()
    handler.setStream(buffer)
    return buffer


def test_log_format_json_writes_one_json_object_per_line(make_app):
    application = make_app(LOG_FORMAT="json", LOG_LEVEL="INFO")
    buffer = stream_of_lms_logger()
    application.test_client().get("/api/v1/health", headers={"X-Request-ID": "json-1"})
    [line] = [json.loads(text) for text in buffer.getvalue().splitlines() if text.strip()]
    assert line["name"] == "lms.access"
    assert line["levelname"] == "INFO"
    assert line["request_id"] == "json-1"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/health", 200)
    assert isinstance(line["duration_ms"], (int, float))


def test_log_format_text_writes_readable_lines_with_the_request_id(make_app):
    application = make_app(LOG_FORMAT="text", LOG_LEVEL="INFO")
    buffer = stream_of_lms_logger()
    application.test_client().get("/api/v1/health", headers={"X-Request-ID": "text-1"})
    [line] = buffer.getvalue().splitlines()
    assert "[text-1]" in line and "GET /api/v1/health 200" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_log_level_filters_access_lines(make_app):
    application = make_app(LOG_LEVEL="WARNING")
    buffer = stream_of_lms_logger()
    application.test_client().get("/api/v1/health")
    assert buffer.getvalue() == ""


@pytest.fixture
def enveloped(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RESPONSE_ENVELOPE_ENABLED", True)
    return app.test_client()


def test_the_envelope_wraps_successful_json(enveloped):
    response = enveloped.get("/")
    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": {"message": "LMS Backend API"}, "message": "Success"}


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/ready"])
def test_the_envelope_leaves_health_unwrapped(enveloped, path):
    assert enveloped.get(path).get_json()["status"] == "ok"


def test_the_envelope_leaves_the_openapi_spec_unwrapped(enveloped):
    assert "openapi" in enveloped.get("/openapi.json").get_json()


def test_the_envelope_leaves_errors_unwrapped(enveloped):
    assert enveloped.get("/api/v1/missing").get_json() == {"detail": "Not found"}


def test_the_envelope_is_off_by_default(client):
    assert client.get("/").get_json() == {"message": "LMS Backend API"}
