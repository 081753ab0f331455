"""Fixtures for the files tests: both storage backends, a folder of the test's own, an upload call."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest

from tests.files.helpers import PDF, Backend


@pytest.fixture(params=["local", "s3"])
def backend(request, app, client) -> Backend:
    if request.param == "local":
        return Backend("local", app, client)
    s3_app = request.getfixturevalue("s3_app")
    return Backend("s3", s3_app, s3_app.test_client())


@pytest.fixture
def folder() -> str:
    """A folder of its own for each test, so that what a test stored can be listed exactly."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def upload(backend, auth_headers, folder):
    """`upload(user, filename, content, **form)` -> the response of POST /files/upload."""

    def post(user, filename: str = "report.pdf", content: bytes = PDF, **form):
        data = {"folder": folder, **form, "file": (io.BytesIO(content), filename)}
        return backend.client.post("/api/v1/files/upload", data=data, content_type="multipart/form-data",
                                   headers=auth_headers(user) if user is not None else {})

    return post


@pytest.fixture
def upload_root(app) -> Path:
    return Path(app.config["UPLOAD_DIR"]).resolve()
