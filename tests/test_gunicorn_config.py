"""gunicorn.conf.py refuses an unusable configuration before it loads the app or starts a worker, and
leaves the access log to the app."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from gunicorn.config import Config

import config

ROOT = Path(__file__).resolve().parent.parent


def test_an_unsafe_production_configuration_stops_gunicorn_with_every_problem_named(tmp_path):
    env = {key: value for key, value in os.environ.items() if key.upper() not in config.SETTING_NAMES}
    env.update(ENVIRONMENT="production", SECRET_KEY="short", DATABASE_URL=f"sqlite:///{tmp_path / 'lms.db'}",
               REDIS_URL="", BIND="127.0.0.1:0")
    result = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Invalid configuration" in result.stderr
    assert "SECRET_KEY must be set to at least 32 characters" in result.stderr
    assert "DATABASE_URL must point to PostgreSQL, not SQLite" in result.stderr
    assert "Booting worker" not in result.stdout + result.stderr


def gunicorn_config() -> Config:
    """The settings gunicorn reads from gunicorn.conf.py in this environment."""
    settings = Config()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in settings.settings:
            settings.set(name, value)
    return settings


def test_gunicorn_builds_no_access_line_of_its_own(monkeypatch):
    settings = gunicorn_config()
    logger = settings.logger_class(settings)
    built = []
    monkeypatch.setattr(logger, "atoms", lambda *args: built.append(args) or {})

    logger.access(object(), object(), {}, timedelta(milliseconds=1))

    assert built == []
