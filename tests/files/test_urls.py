"""Which URLs are this API's file download URLs (contract §5.33): `lms.files.urls`, used by
submissions to tell an attached upload from a link kept elsewhere."""

from __future__ import annotations

import uuid

import pytest

from lms.files.urls import file_id_of_download_path, file_id_of_download_url, points_at_downloads

FILE_ID = uuid.UUID("0b6f0c8e-52a4-4c4a-9d7e-3f1f5b8a2c10")


REQUEST_HOST = "api.example.com"  # the request's host; the public base URL is http://localhost:8000


@pytest.fixture
def on_request(app):
    with app.app_context():
        yield


@pytest.mark.parametrize("url", [
    f"/api/v1/files/download/{FILE_ID}",
    f"http://api.example.com/api/v1/files/download/{FILE_ID}",
    f"https://API.example.com:444/api/v1/files/download/{str(FILE_ID).upper()}",
    f"http://localhost:8000/api/v1/files/download/{FILE_ID}",
])
def test_a_plain_download_url_of_this_api_names_its_file(on_request, url):
    assert points_at_downloads(url, REQUEST_HOST)
    assert file_id_of_download_url(url, REQUEST_HOST) == FILE_ID


@pytest.mark.parametrize("url", [
    f"http://api.example.com/api/v1/files/download/{FILE_ID}?x=1",
    f"http://api.example.com/api/v1/files/download/{FILE_ID}#x",
    f"http://api.example.com/api/v1/files/download/{FILE_ID}/",
    f"http://api.example.com/api/v1/files/x/../download/{FILE_ID}",
    f"http://api.example.com/api/v1/files/%64ownload/{FILE_ID}",
    "http://api.example.com/api/v1/files/download/not-an-id",
    "http://api.example.com/api/v1/files/download",
])
def test_another_spelling_of_the_download_route_points_at_it_but_names_no_file(on_request, url):
    assert points_at_downloads(url, REQUEST_HOST)
    assert file_id_of_download_url(url, REQUEST_HOST) is None


@pytest.mark.parametrize("url", [
    f"https://files.example.com/api/v1/files/download/{FILE_ID}",
    f"https://files.example.com/{FILE_ID}",
    "http://api.example.com/api/v1/files/my-files",
    "http://[",
])
def test_other_urls_are_not_download_urls(on_request, url):
    assert not points_at_downloads(url, REQUEST_HOST)
    assert file_id_of_download_url(url, REQUEST_HOST) is None


@pytest.mark.parametrize("spelling", ["{{{}}}", "urn:uuid:{}", "{}/"])
def test_a_download_path_is_exactly_what_the_route_matches(app, spelling):
    with app.app_context():
        assert file_id_of_download_path(f"/api/v1/files/download/{FILE_ID}") == FILE_ID
        assert file_id_of_download_path(f"/api/v1/files/download/{FILE_ID.hex}") is None
        assert file_id_of_download_path("/api/v1/files/download/" + spelling.format(FILE_ID)) is None
