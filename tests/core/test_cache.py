"""The seed's AppCache API on Redis and on process memory; a Redis failure is a miss (§5.22, §5.27)."""

import time

import pytest

from lms.core.cache import get_app_cache
from tests.core.helpers import tcp_relay
from tests.helpers import CLOSED_REDIS_URL


@pytest.fixture(params=["redis", "memory"])
def cache_app(request, make_app, redis_url):
    if request.param == "redis":
        if not redis_url:
            pytest.skip("needs Redis")
        application = make_app(REDIS_URL=redis_url)
    else:
        application = make_app(REDIS_URL="")
    with application.app_context():
        yield application


def test_the_backend_follows_the_configuration(cache_app):
    from lms.core.extensions import cache

    expected = "RedisCache" if cache_app.config["REDIS_URL"] else "SimpleCache"
    assert type(cache.cache).__name__ == expected


def test_set_json_then_get_json_round_trips(cache_app):
    store = get_app_cache()
    value = {"items": [1, "two", None], "total": 3, "nested": {"ok": True}}
    store.set_json("courses:list:1", value)
    assert store.get_json("courses:list:1") == value


def test_a_missing_key_is_none(cache_app):
    assert get_app_cache().get_json("never-set") is None


def test_values_expire_after_their_ttl(cache_app):
    store = get_app_cache()
    store.set_json("short", 1, ttl_seconds=1)
    store.set_json("default", 2)
    assert store.get_json("short") == 1
    time.sleep(1.1)
    assert store.get_json("short") is None
    assert store.get_json("default") == 2


def test_delete_removes_one_key(cache_app):
    store = get_app_cache()
    store.set_json("a", 1)
    store.set_json("b", 2)
    store.delete("a")
    assert store.get_json("a") is None
    assert store.get_json("b") == 2


def test_delete_by_prefix_removes_only_matching_keys(cache_app):
    store = get_app_cache()
    for key in ("courses:1", "courses:2:lessons", "courses-archive", "users:1"):
        store.set_json(key, key)
    store.delete_by_prefix("courses:")
    assert store.get_json("courses:1") is None
    assert store.get_json("courses:2:lessons") is None
    assert store.get_json("courses-archive") == "courses-archive"
    assert store.get_json("users:1") == "users:1"


def test_delete_by_prefix_treats_glob_characters_literally(cache_app):
    store = get_app_cache()
    store.set_json("q:[a]*:1", 1)
    store.set_json("q:a:1", 2)
    store.delete_by_prefix("q:[a]*")
    assert store.get_json("q:[a]*:1") is None
    assert store.get_json("q:a:1") == 2


@pytest.mark.redis
def test_redis_keys_carry_the_configured_prefix(make_app, redis_url):
    import redis

    application = make_app(REDIS_URL=redis_url, CACHE_KEY_PREFIX="lmscache")
    with application.app_context():
        get_app_cache().set_json("k", 1)
    assert redis.Redis.from_url(redis_url).exists("lmscache:k") == 1


@pytest.mark.filterwarnings("ignore:Flask-Caching")
def test_a_disabled_cache_stores_nothing(make_app):
    with make_app(CACHE_ENABLED=False).app_context():
        store = get_app_cache()
        store.set_json("k", 1)
        assert store.get_json("k") is None


def test_a_closed_redis_port_is_a_miss_not_an_error(make_app):
    with make_app(REDIS_URL=CLOSED_REDIS_URL).app_context():
        store = get_app_cache()
        store.set_json("k", {"a": 1})
        assert store.get_json("k") is None
        store.delete("k")
        store.delete_by_prefix("k")


@pytest.mark.redis
def test_the_cache_is_used_again_when_redis_comes_back(make_app, redis_url):
    with tcp_relay(redis_url) as (relay, relayed_url):
        with make_app(REDIS_URL=relayed_url).app_context():
            store = get_app_cache()
            relay.stop()
            store.set_json("k", "during the outage")
            assert store.get_json("k") is None
            relay.start()
            store.set_json("k", "after")
            assert store.get_json("k") == "after"
