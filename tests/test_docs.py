"""The documentation stays true: docs/configuration.md is generated from config.py, the README's
walk-through runs as written and prints what it shows, `make run` derives its public URL, and the
README and docs/ explain their terms instead of pointing at documents the reader does not have."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import config

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
DECISIONS = ROOT / "docs" / "decisions.md"


def generator():
    spec = importlib.util.spec_from_file_location("generate_configuration", ROOT / "docs" / "generate_configuration.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- docs/configuration.md --------------------------------------------------------------------------

def test_the_configuration_page_is_what_make_docs_generates():
    assert CONFIGURATION.read_text() == generator().render(), "docs/configuration.md is out of date: run `make docs`"


def test_the_configuration_page_documents_every_setting_with_its_default():
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]+) \|", CONFIGURATION.read_text(), flags=re.MULTILINE))
    missing = [setting.name for setting in config.SETTINGS if setting.name not in rows]
    assert missing == [], "run `make docs`"
    for setting in config.SETTINGS:
        assert rows[setting.name].strip() == generator().rendered_default(setting.default), setting.name


def test_every_setting_has_a_description_and_a_group():
    assert [s.name for s in config.SETTINGS if not s.description.strip()] == []
    groups = generator().setting_groups()
    assert [s.name for s in config.SETTINGS if groups.get(s.name, "Other") == "Other"] == [], \
        "put the setting under a `# Group` comment in config.SETTINGS"


def test_the_generator_check_mode_agrees():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "generate_configuration.py"), "--check"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- README and docs/ ---------------------------------------------------------------------------------

@pytest.mark.parametrize("page", [README, DECISIONS, CONFIGURATION], ids=lambda page: page.name)
def test_pages_explain_their_terms(page):
    text = page.read_text()
    for term in ("§", "the contract", "the existing API", "contract's"):
        assert term not in text, f"{page.name} mentions {term!r}, which its reader cannot look up"


@pytest.mark.parametrize("page", [README, DECISIONS, CONFIGURATION], ids=lambda page: page.name)
def test_local_links_lead_somewhere(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if target.startswith(("http://", "https://", "#")):
            continue
        path = target.split("#", 1)[0]
        assert (page.parent / path).exists(), f"{page.name} links to {target}, which does not exist"


def test_the_readme_has_no_settings_table_to_drift():
    assert "| setting | default |" not in README.read_text(), "settings belong in config.py (make docs)"


# --- make run -----------------------------------------------------------------------------------------

def make_run_command(tmp_path: Path, *arguments: str, environment: dict[str, str] | None = None,
                     dotenv: str | None = None) -> str:
    """The gunicorn line `make run` would execute (make -n) in a copy of the Makefile."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "requirements.txt").touch()
    (tmp_path / "requirements-dev.txt").touch()
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    env = {key: value for key, value in os.environ.items()
           if key.upper() not in {"PUBLIC_API_BASE_URL", "HOST", "PORT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    env.update(environment or {})
    result = subprocess.run(["make", "-n", "run", *arguments], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.replace("\\\n", " ")


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@needs_make
def test_make_run_points_the_public_url_at_where_it_serves(tmp_path):
    assert "PUBLIC_API_BASE_URL=http://127.0.0.1:8000 BIND=127.0.0.1:8000 " in make_run_command(tmp_path)
    assert "PUBLIC_API_BASE_URL=http://127.0.0.1:8555 BIND=127.0.0.1:8555 " in make_run_command(
        tmp_path, environment={"PORT": "8555"})
    assert "PUBLIC_API_BASE_URL=http://localhost:9000 BIND=localhost:9000 " in make_run_command(
        tmp_path, "HOST=localhost", "PORT=9000")


@needs_make
def test_make_run_keeps_a_public_url_set_elsewhere(tmp_path):
    assert "PUBLIC_API_BASE_URL" not in make_run_command(
        tmp_path, environment={"PUBLIC_API_BASE_URL": "https://api.example.com"})
    assert "PUBLIC_API_BASE_URL" not in make_run_command(tmp_path, "PUBLIC_API_BASE_URL=https://api.example.com")
    assert "PUBLIC_API_BASE_URL" not in make_run_command(
        tmp_path, dotenv="DEBUG=false\nPUBLIC_API_BASE_URL=https://api.example.com\n")
    assert "PUBLIC_API_BASE_URL" not in make_run_command(
        tmp_path, dotenv="export public_api_base_url = https://api.example.com\n")


# --- the README's walk-through --------------------------------------------------------------------------

def walk_through() -> tuple[str, list[str]]:
    """The walk-through's script (its ```bash blocks) and the lines it shows as output (```text)."""
    section = README.read_text().split("\n## Walk-through", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    script = "".join(body for language, body in blocks if language == "bash")
    shown = [line for language, body in blocks if language == "text" for line in body.splitlines()]
    return script, shown


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def curl_fails_with_body() -> bool:
    if not (shutil.which("curl") and shutil.which("jq") and shutil.which("bash")):
        return False
    return "--fail-with-body" in subprocess.run(["curl", "--help", "all"], capture_output=True, text=True).stdout


def test_the_walk_through_is_one_script_that_shows_every_step():
    script, shown = walk_through()
    assert script.startswith("set -euo pipefail\n")
    assert "API=http://127.0.0.1:8000/api/v1" in script
    assert ".venv/bin/flask create-admin" in script
    assert "certificate.pdf" in script and "/certificates/verify/" in script
    assert len(shown) >= 10


@pytest.mark.skipif(not curl_fails_with_body(), reason="needs bash, jq and curl 7.76+")
def test_the_walk_through_runs_as_written_and_prints_what_it_shows(tmp_path):
    """Pasted into `bash --norc` against a fresh server, the walk-through succeeds and prints
    each line the README shows (… stands for what varies: ids, dates, sizes)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if key.upper() not in config.SETTING_NAMES and not key.startswith(("FLASK_", "GUNICORN_"))}
    env.update({
        "ENVIRONMENT": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'lms.db'}", "REDIS_URL": "",
        "SMTP_HOST": "", "SECRET_KEY": "walk-through-" + "k" * 32, "BCRYPT_ROUNDS": "4",
        "UPLOAD_DIR": str(tmp_path / "uploads"), "CERTIFICATES_DIR": str(tmp_path / "certificates"),
        "PUBLIC_API_BASE_URL": f"http://127.0.0.1:{port}", "FLASK_APP": "lms.cli:create_cli_app",
        "PYTHONPATH": str(ROOT), "HISTFILE": os.devnull,
    })
    upgrade = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr[-2000:]
    log = open(tmp_path / "server.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
        env={**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4"},
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"the server did not start: {log.read()[-2000:]}")
                time.sleep(0.2)

        script, shown = walk_through()
        script = script.replace("http://127.0.0.1:8000/api/v1", f"http://127.0.0.1:{port}/api/v1")
        script = script.replace(".venv/bin/flask ", f"'{sys.executable}' -m flask ")
        result = subprocess.run(["bash", "--norc", "-i"], input=script, cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=180)
        log.seek(0)
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-3000:]}\n{log.read()[-3000:]}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    printed = result.stdout.splitlines()
    position = 0
    for line in shown:
        pattern = re.compile(".*?".join(re.escape(part) for part in line.split("…")))
        while position < len(printed) and not pattern.fullmatch(printed[position]):
            position += 1
        assert position < len(printed), f"the walk-through does not print {line!r} (in order):\n{result.stdout}"
        position += 1
    assert (tmp_path / "certificate.pdf").read_bytes().startswith(b"%PDF-")
    mails = (tmp_path / "server.log").read_text()
    assert f"http://127.0.0.1:{port}/api/v1/certificates/verify/CERT-" in mails
