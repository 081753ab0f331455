"""Configuration: typed settings from the environment and `.env`, production refusals (§5.13)."""

import os
import stat

import pytest

import config
from config import SETTING_NAMES, ConfigError, load_config, normalize_database_url

STRONG_KEY = "k" * 32


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment (no setting inherited from the machine or CI) and an empty instance folder."""
    for name in list(os.environ):
        if name.upper() in SETTING_NAMES:
            monkeypatch.delenv(name)

    def load(overrides=None, **kwargs):
        kwargs.setdefault("env_file", None)
        kwargs.setdefault("instance_path", tmp_path / "instance")
        return load_config(overrides, **kwargs)

    load.set = monkeypatch.setenv
    load.instance_path = tmp_path / "instance"
    return load


def production_problems_of(env) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        env()
    return raised.value.problems


def test_defaults_are_the_embedded_ones(env):
    settings = env()
    assert settings["ENVIRONMENT"] == "development"
    assert settings["DEBUG"] is False
    assert settings["DATABASE_URL"] == f"sqlite:///{env.instance_path / 'lms.db'}"
    assert settings["REDIS_URL"] == ""
    assert settings["ACCESS_TOKEN_EXPIRE_MINUTES"] == 15
    assert settings["RATE_LIMIT_REQUESTS_PER_MINUTE"] == 100
    assert settings["CORS_ORIGINS"] == ["http://localhost:3000", "http://localhost:8080"]
    assert settings["ALLOWED_UPLOAD_EXTENSIONS"] == ["mp4", "avi", "mov", "pdf", "doc", "docx", "jpg", "jpeg", "png"]


def test_every_setting_has_a_default(env):
    settings = env()
    assert SETTING_NAMES <= set(settings)


def test_booleans_are_parsed(env):
    for raw, expected in [("true", True), ("1", True), ("YES", True), ("on", True),
                          ("false", False), ("0", False), ("no", False), ("Off", False)]:
        env.set("DEBUG", raw)
        assert env()["DEBUG"] is expected, raw


def test_integers_and_floats_are_parsed(env):
    env.set("DB_POOL_SIZE", "7")
    env.set("REDIS_SOCKET_TIMEOUT_SECONDS", "1.5")
    settings = env()
    assert settings["DB_POOL_SIZE"] == 7
    assert settings["REDIS_SOCKET_TIMEOUT_SECONDS"] == 1.5


def test_lists_are_comma_separated_and_trimmed(env):
    env.set("CORS_ORIGINS", " https://a.example , https://b.example,, ")
    env.set("ALLOWED_UPLOAD_EXTENSIONS", ".PDF, png")
    env.set("TRUSTED_HOSTS", "")
    settings = env()
    assert settings["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]
    assert settings["ALLOWED_UPLOAD_EXTENSIONS"] == ["pdf", "png"]
    assert settings["TRUSTED_HOSTS"] == []


def test_every_bad_value_is_named_at_once(env):
    env.set("DEBUG", "maybe")
    env.set("DB_POOL_SIZE", "many")
    env.set("LOG_FORMAT", "xml")
    problems = production_problems_of(env)
    assert any(p.startswith("DEBUG:") and "maybe" in p for p in problems)
    assert any(p.startswith("DB_POOL_SIZE:") for p in problems)
    assert any("LOG_FORMAT" in p for p in problems)
    assert len(problems) == 3


def test_setting_names_are_case_insensitive(env):
    env.set("rate_limit_requests_per_minute", "42")
    assert env()["RATE_LIMIT_REQUESTS_PER_MINUTE"] == 42


def test_a_dotenv_file_is_read_and_the_environment_wins(env, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PROJECT_NAME=From Dotenv\nDB_POOL_SIZE=3\n")
    env.set("DB_POOL_SIZE", "9")
    settings = env(env_file=dotenv)
    assert settings["PROJECT_NAME"] == "From Dotenv"
    assert settings["DB_POOL_SIZE"] == 9


def test_typed_overrides_win_over_the_environment(env):
    env.set("DB_POOL_SIZE", "9")
    assert env({"DB_POOL_SIZE": 2})["DB_POOL_SIZE"] == 2


@pytest.mark.parametrize("url, expected", [
    ("postgres://u:p@db.example:5432/lms", "postgresql+psycopg2://u:p@db.example:5432/lms"),
    ("postgresql://u@localhost/lms", "postgresql+psycopg2://u@localhost/lms"),
    ("postgresql+psycopg2://u@localhost/lms", "postgresql+psycopg2://u@localhost/lms"),
    ("sqlite:////tmp/lms.db", "sqlite:////tmp/lms.db"),
])
def test_database_urls_are_normalized(url, expected):
    assert normalize_database_url(url) == expected


def test_a_heroku_style_database_url_is_accepted(env):
    env.set("DATABASE_URL", "postgres://u:p@db.example:5432/lms")
    settings = env()
    assert settings["DATABASE_URL"] == "postgresql+psycopg2://u:p@db.example:5432/lms"
    assert settings["SQLALCHEMY_DATABASE_URI"] == settings["DATABASE_URL"]


def test_postgresql_engine_options_come_from_the_settings(env):
    env.set("DATABASE_URL", "postgresql://u@db.example/lms")
    env.set("DB_POOL_SIZE", "3")
    env.set("DB_MAX_OVERFLOW", "4")
    env.set("DB_POOL_RECYCLE_SECONDS", "120")
    options = env()["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is False  # idle connections only: lms.core.db.ping_idle_connections
    assert (options["pool_size"], options["max_overflow"], options["pool_recycle"]) == (3, 4, 120)


def test_development_generates_a_secret_key_once_and_keeps_it(env):
    first = env()["SECRET_KEY"]
    key_file = env.instance_path / "secret_key"
    assert len(first) >= 32
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert env()["SECRET_KEY"] == first


def test_a_configured_secret_key_is_used_as_is(env):
    env.set("SECRET_KEY", STRONG_KEY)
    assert env()["SECRET_KEY"] == STRONG_KEY
    assert not (env.instance_path / "secret_key").exists()


def test_production_refuses_every_unsafe_default_at_once(env):
    env.set("ENVIRONMENT", "production")
    env.set("DEBUG", "true")
    env.set("ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED", "false")
    problems = production_problems_of(env)
    assert len(problems) == 5
    text = "\n".join(problems)
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DEBUG", "ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED"):
        assert name in text


def test_production_refuses_a_short_secret_key(env):
    env.set("ENVIRONMENT", "production")
    env.set("SECRET_KEY", "k" * 31)
    env.set("DATABASE_URL", "postgresql://u@db/lms")
    env.set("REDIS_URL", "redis://cache:6379/0")
    assert production_problems_of(env) == ["SECRET_KEY must be set to at least 32 characters"]


def test_production_refuses_sqlite(env):
    env.set("ENVIRONMENT", "production")
    env.set("SECRET_KEY", STRONG_KEY)
    env.set("DATABASE_URL", "sqlite:////tmp/lms.db")
    env.set("REDIS_URL", "redis://cache:6379/0")
    assert production_problems_of(env) == ["DATABASE_URL must point to PostgreSQL, not SQLite"]


def test_production_never_generates_a_secret_key(env):
    env.set("ENVIRONMENT", "production")
    production_problems_of(env)
    assert not (env.instance_path / "secret_key").exists()


def test_a_safe_production_configuration_loads(env):
    env.set("ENVIRONMENT", "production")
    env.set("SECRET_KEY", STRONG_KEY)
    env.set("DATABASE_URL", "postgres://u@db/lms")
    env.set("REDIS_URL", "redis://cache:6379/0")
    settings = env()
    assert settings["ENVIRONMENT"] == "production"
    assert settings["BCRYPT_ROUNDS"] == 12


def test_an_unknown_environment_is_refused(env):
    env.set("ENVIRONMENT", "prod")
    assert any("ENVIRONMENT" in p for p in production_problems_of(env))


def test_the_error_message_lists_each_problem_on_its_own_line(env):
    env.set("ENVIRONMENT", "production")
    message = str(pytest.raises(ConfigError, env).value)
    assert message.startswith("Invalid configuration:")
    assert message.count("\n  - ") == 3


def test_create_app_refuses_an_unsafe_production_configuration(env):
    from lms import create_app

    env.set("ENVIRONMENT", "production")
    with pytest.raises(ConfigError):
        create_app()


def test_settings_are_listed_once():
    names = [setting.name for setting in config.SETTINGS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("token", "problems"), [
    ("", ["METRICS_TOKEN must be at least 32 characters when METRICS_ENABLED is on"]),
    ("t" * 31, ["METRICS_TOKEN must be at least 32 characters when METRICS_ENABLED is on"]),
])
def test_production_refuses_metrics_without_a_strong_token(env, token, problems):
    env.set("ENVIRONMENT", "production")
    env.set("SECRET_KEY", STRONG_KEY)
    env.set("DATABASE_URL", "postgresql://u@db/lms")
    env.set("REDIS_URL", "redis://cache:6379/0")
    env.set("METRICS_ENABLED", "true")
    env.set("METRICS_TOKEN", token)
    assert production_problems_of(env) == problems
    env.set("METRICS_TOKEN", "t" * 32)
    assert env()["METRICS_ENABLED"] is True


@pytest.mark.parametrize(("name", "value"), [("AUDIT_LOG_RETENTION_DAYS", "-1"), ("DATA_EXPORT_LINK_EXPIRE_HOURS", "0")])
def test_retention_settings_are_checked(env, name, value):
    env.set(name, value)
    assert name in "\n".join(production_problems_of(env))
