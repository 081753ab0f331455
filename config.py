"""Configuration: every setting comes from the environment (or a `.env` file), typed and validated.

`load_config()` returns a plain dict that `create_app` loads into `app.config`. Names follow the
seed's settings and the contract's §1.12; defaults are the embedded ones (SQLite, no Redis, mail to
the log) so that `make run` needs nothing. `ENVIRONMENT=production` refuses unsafe values, listing
every problem at once.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from dotenv import dotenv_values

BASE_DIR = Path(__file__).resolve().parent


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration cannot be used."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Invalid configuration:\n  - " + "\n  - ".join(problems))


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {raw!r}")


def _list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _extensions(raw: str) -> list[str]:
    return [item.lower().lstrip(".") for item in _list(raw)]


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: Any


SETTINGS: list[Setting] = [
    # Application
    Setting("PROJECT_NAME", str, "LMS Backend"),
    Setting("VERSION", str, "1.0.0"),
    Setting("ENVIRONMENT", str, "development"),
    Setting("DEBUG", _bool, False),
    Setting("API_V1_PREFIX", str, "/api/v1"),
    Setting("ENABLE_API_DOCS", _bool, True),
    Setting("LOG_LEVEL", str, "INFO"),
    Setting("LOG_FORMAT", str, "text"),
    Setting("API_RESPONSE_ENVELOPE_ENABLED", _bool, False),
    # Database
    Setting("DATABASE_URL", str, ""),
    Setting("SQLALCHEMY_ECHO", _bool, False),
    Setting("DB_POOL_SIZE", int, 5),
    Setting("DB_MAX_OVERFLOW", int, 5),
    Setting("DB_POOL_RECYCLE_SECONDS", int, 300),
    Setting("DB_POOL_TIMEOUT_SECONDS", int, 5),
    Setting("DB_CONNECT_TIMEOUT_SECONDS", int, 3),
    Setting("DB_STATEMENT_TIMEOUT_MS", int, 20000),
    Setting("DB_POOL_PING_IDLE_SECONDS", float, 10.0),
    # Security and tokens
    Setting("SECRET_KEY", str, ""),
    Setting("ALGORITHM", str, "HS256"),
    Setting("ACCESS_TOKEN_EXPIRE_MINUTES", int, 15),
    Setting("REFRESH_TOKEN_EXPIRE_DAYS", int, 30),
    Setting("REFRESH_TOKEN_REUSE_GRACE_SECONDS", int, 0),
    Setting("PASSWORD_RESET_TOKEN_EXPIRE_MINUTES", int, 30),
    Setting("EMAIL_VERIFICATION_TOKEN_EXPIRE_MINUTES", int, 1440),
    Setting("MFA_CHALLENGE_TOKEN_EXPIRE_MINUTES", int, 10),
    Setting("MFA_LOGIN_CODE_LENGTH", int, 6),
    Setting("MFA_LOGIN_CODE_EXPIRE_MINUTES", int, 10),
    Setting("MFA_MAX_WRONG_CODES", int, 5),
    Setting("ACCESS_TOKEN_BLACKLIST_ENABLED", _bool, True),
    Setting("ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED", _bool, True),
    Setting("ACCESS_TOKEN_BLACKLIST_PREFIX", str, "auth:blacklist:access"),
    Setting("BCRYPT_ROUNDS", int, 12),
    Setting("REQUIRE_EMAIL_VERIFICATION_FOR_LOGIN", _bool, False),
    Setting("ALLOW_PUBLIC_ROLE_REGISTRATION", _bool, False),
    Setting("MAX_FAILED_LOGIN_ATTEMPTS", int, 5),
    Setting("ACCOUNT_LOCKOUT_DURATION_SECONDS", int, 900),
    # Redis (cache, rate limits, revocations, lockout counters, MFA codes, jobs)
    Setting("REDIS_URL", str, ""),
    Setting("REDIS_SOCKET_TIMEOUT_SECONDS", float, 0.5),
    # Cache
    Setting("CACHE_ENABLED", _bool, True),
    Setting("CACHE_KEY_PREFIX", str, "cache"),
    Setting("CACHE_DEFAULT_TTL_SECONDS", int, 120),
    Setting("COURSE_ANALYTICS_CACHE_TTL_SECONDS", int, 60),
    # Mail
    Setting("EMAIL_FROM", str, "no-reply@lms.local"),
    Setting("SMTP_HOST", str, ""),
    Setting("SMTP_PORT", int, 587),
    Setting("SMTP_USERNAME", str, ""),
    Setting("SMTP_PASSWORD", str, ""),
    Setting("SMTP_USE_TLS", _bool, True),
    Setting("SMTP_USE_SSL", _bool, False),
    Setting("SMTP_TIMEOUT_SECONDS", int, 10),
    Setting("FRONTEND_BASE_URL", str, "http://localhost:3000"),
    Setting("PUBLIC_API_BASE_URL", str, "http://localhost:8000"),
    # Jobs
    Setting("TASKS_FORCE_INLINE", _bool, False),
    Setting("JOB_MAX_RETRIES", int, 5),
    # Files
    Setting("FILE_STORAGE_PROVIDER", str, "local"),
    Setting("UPLOAD_DIR", str, "uploads"),
    Setting("CERTIFICATES_DIR", str, "certificates"),
    Setting("MAX_UPLOAD_MB", int, 100),
    Setting("MAX_JSON_BODY_KB", int, 1024),
    Setting("ALLOWED_UPLOAD_EXTENSIONS", _extensions, _extensions("mp4,avi,mov,pdf,doc,docx,jpg,jpeg,png")),
    Setting("FILE_DOWNLOAD_URL_EXPIRE_SECONDS", int, 300),
    Setting("AWS_ACCESS_KEY_ID", str, ""),
    Setting("AWS_SECRET_ACCESS_KEY", str, ""),
    Setting("AWS_REGION", str, "us-east-1"),
    Setting("AWS_S3_BUCKET", str, ""),
    Setting("AWS_S3_BUCKET_URL", str, ""),
    Setting("AWS_S3_ENDPOINT_URL", str, ""),
    Setting("AWS_S3_PATH_STYLE", _bool, False),
    # Rate limiting
    Setting("RATE_LIMIT_ENABLED", _bool, True),
    Setting("RATE_LIMIT_USE_REDIS", _bool, True),
    Setting("RATE_LIMIT_REQUESTS_PER_MINUTE", int, 100),
    Setting("RATE_LIMIT_WINDOW_SECONDS", int, 60),
    Setting("AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE", int, 60),
    Setting("FILE_UPLOAD_RATE_LIMIT_REQUESTS_PER_HOUR", int, 100),
    Setting("ASSIGNMENT_RATE_LIMIT_REQUESTS_PER_MINUTE", int, 60),
    Setting("TRUSTED_PROXY_COUNT", int, 0),
    # HTTP
    Setting("CORS_ORIGINS", _list, ["http://localhost:3000", "http://localhost:8080"]),
    Setting("TRUSTED_HOSTS", _list, []),
    Setting("SECURITY_HEADERS_ENABLED", _bool, True),
]

SETTING_NAMES = {setting.name for setting in SETTINGS}


def _environment_sources(env_file: Path | None) -> dict[str, str]:
    """The environment wins over `.env`; names are case-insensitive (contract §1.12)."""
    merged: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        merged.update({k.upper(): v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update({k.upper(): v for k, v in os.environ.items()})
    return merged


def normalize_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` URLs and pin the psycopg2 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def _development_secret_key(instance_path: Path) -> str:
    """Generate a random key once and keep it, so restarts and workers agree (contract §5.13)."""
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def production_problems(config: dict[str, Any]) -> list[str]:
    problems = []
    if len(config["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY must be set to at least 32 characters")
    if config["DATABASE_URL"].startswith("sqlite"):
        problems.append("DATABASE_URL must point to PostgreSQL, not SQLite")
    if not config["REDIS_URL"]:
        problems.append("REDIS_URL must be set (revocations, rate limits and jobs live in Redis)")
    if config["DEBUG"]:
        problems.append("DEBUG must be off")
    if not config["ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED"]:
        problems.append("ACCESS_TOKEN_BLACKLIST_FAIL_CLOSED must be true")
    return problems


def load_config(
    overrides: dict[str, Any] | None = None,
    *,
    instance_path: Path | None = None,
    env_file: Path | None = BASE_DIR / ".env",
) -> dict[str, Any]:
    """Read every setting, apply `overrides` (already typed), validate, derive Flask's own keys."""
    instance_path = instance_path or BASE_DIR / "instance"
    overrides = dict(overrides or {})
    raw = _environment_sources(env_file)
    problems: list[str] = []
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            config[setting.name] = overrides.pop(setting.name)
        elif setting.name in raw:
            try:
                config[setting.name] = setting.parse(raw[setting.name])
            except ValueError as exc:
                problems.append(f"{setting.name}: {exc}")
        else:
            config[setting.name] = setting.default

    if config.get("ENVIRONMENT") not in {"development", "staging", "production", "testing"}:
        problems.append("ENVIRONMENT must be one of development, staging, production, testing")
    if config.get("FILE_STORAGE_PROVIDER") not in {"local", "s3"}:
        problems.append("FILE_STORAGE_PROVIDER must be local or s3")
    if config.get("FILE_STORAGE_PROVIDER") == "s3" and not config.get("AWS_S3_BUCKET"):
        problems.append("AWS_S3_BUCKET must be set when FILE_STORAGE_PROVIDER=s3")
    if config.get("LOG_FORMAT") not in {"text", "json"}:
        problems.append("LOG_FORMAT must be text or json")
    if config.get("ALGORITHM") != "HS256":
        problems.append("ALGORITHM must be HS256")
    if problems:
        raise ConfigError(problems)

    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'lms.db'}"
    config["DATABASE_URL"] = normalize_database_url(config["DATABASE_URL"])
    config["MFA_LOGIN_CODE_LENGTH"] = min(12, max(4, config["MFA_LOGIN_CODE_LENGTH"]))

    if config["ENVIRONMENT"] == "production":
        problems = production_problems(config)
        if problems:
            raise ConfigError(problems)
    elif not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _development_secret_key(instance_path)

    config.update(_flask_settings(config, instance_path))
    config.update(overrides)  # Flask/extension keys a caller (tests) sets directly
    return config


def _resolve_dir(path: str, instance_path: Path) -> str:
    candidate = Path(path)
    return str(candidate if candidate.is_absolute() else instance_path / candidate)


def _flask_settings(config: dict[str, Any], instance_path: Path) -> dict[str, Any]:
    """Keys that Flask and its extensions read, derived from the settings above."""
    is_sqlite = config["DATABASE_URL"].startswith("sqlite")
    # Pooled connections are checked when they have been idle for DB_POOL_PING_IDLE_SECONDS
    # (lms.core.db.ping_idle_connections), not on every checkout: a busy pool pays no extra round
    # trip, and a connection broken while in use invalidates the whole pool.
    engine_options: dict[str, Any] = {"pool_pre_ping": False}
    if not is_sqlite:
        engine_options.update(
            pool_size=config["DB_POOL_SIZE"],
            max_overflow=config["DB_MAX_OVERFLOW"],
            pool_recycle=config["DB_POOL_RECYCLE_SECONDS"],
            pool_timeout=config["DB_POOL_TIMEOUT_SECONDS"],
            connect_args={
                "connect_timeout": config["DB_CONNECT_TIMEOUT_SECONDS"],
                "options": f"-c statement_timeout={config['DB_STATEMENT_TIMEOUT_MS']}",
            },
        )
    else:
        engine_options["connect_args"] = {"timeout": 15}
    max_upload = config["MAX_UPLOAD_MB"] * 1024 * 1024
    return {
        "SQLALCHEMY_DATABASE_URI": config["DATABASE_URL"],
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "SQLALCHEMY_RECORD_QUERIES": False,
        # Uploads are the largest bodies; JSON bodies get a tighter per-request limit.
        "MAX_CONTENT_LENGTH": max_upload + 1024 * 1024,
        "UPLOAD_DIR": _resolve_dir(config["UPLOAD_DIR"], instance_path),
        "CERTIFICATES_DIR": _resolve_dir(config["CERTIFICATES_DIR"], instance_path),
    }
