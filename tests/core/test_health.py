"""`/`, `/api/v1/health` and `/api/v1/ready` (contract §2, §5.22, §5.28)."""

import pytest

from tests.core.helpers import tcp_relay
from tests.helpers import CLOSED_DATABASE_URL, CLOSED_REDIS_URL, USES_REDIS


def test_root_names_the_api(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.get_json() == {"message": "LMS Backend API"}


def test_health_is_ok_without_checking_dependencies(make_app):
    client = make_app(DATABASE_URL=CLOSED_DATABASE_URL, REDIS_URL=CLOSED_REDIS_URL).test_client()
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_is_ok_when_every_dependency_answers(client):
    response = client.get("/api/v1/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up",
                                   "redis": "up" if USES_REDIS else "not_configured"}


def test_ready_is_503_naming_the_database_when_it_is_down(make_app):
    client = make_app(DATABASE_URL=CLOSED_DATABASE_URL).test_client()
    response = client.get("/api/v1/ready")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"] == "down"


def test_ready_is_503_naming_redis_when_it_is_down(make_app):
    client = make_app(REDIS_URL=CLOSED_REDIS_URL).test_client()
    response = client.get("/api/v1/ready")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": "up", "redis": "down"}


def test_ready_does_not_count_redis_when_none_is_configured(make_app):
    response = make_app(REDIS_URL="").test_client().get("/api/v1/ready")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "not_configured"


@pytest.mark.parametrize("dependency, setting, url_fixture", [
    pytest.param("database", "DATABASE_URL", "database_url", marks=pytest.mark.postgres, id="database"),
    pytest.param("redis", "REDIS_URL", "redis_url", marks=pytest.mark.redis, id="redis"),
])
def test_ready_recovers_when_a_dependency_comes_back(request, make_app, dependency, setting, url_fixture):
    """An outage leaves no broken pooled connection behind: the first check after it passes."""
    with tcp_relay(request.getfixturevalue(url_fixture)) as (relay, relayed_url):
        client = make_app(**{setting: relayed_url}).test_client()
        assert client.get("/api/v1/ready").get_json()[dependency] == "up"
        relay.stop()
        assert client.get("/api/v1/ready").get_json()[dependency] == "down"
        relay.start()
        response = client.get("/api/v1/ready")
        assert response.status_code == 200
        assert response.get_json()[dependency] == "up"
