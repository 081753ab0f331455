"""The link fields: `HttpUrl` (shared, lms/core/schemas.py) and `SubmissionFileUrl`, which also takes our
download paths (contract §5.33). Checked without HTTP; the submission tests cover the API's answers."""

from __future__ import annotations

import uuid

import marshmallow as ma
import pytest

from lms.assignments.schemas import SubmissionFileUrl
from lms.core.schemas import HttpUrl


class Links(ma.Schema):
    link = HttpUrl()
    short_link = HttpUrl(max_length=30)
    file_url = SubmissionFileUrl()


@pytest.mark.parametrize("url", [
    "https://files.example.com/plan.pdf",
    "HTTPS://Files.Example.com/Plan.pdf",
    "http://127.0.0.1:8000/report?draft=1#intro",
    "http://[2001:db8::1]:8080/report",
    "https://bücher.example/ä.pdf",
    "https://files.example.com./plan.pdf",
])
def test_an_absolute_http_url_with_a_host_is_kept_as_sent(url):
    assert Links().load({"link": url}) == {"link": url}


@pytest.mark.parametrize("url", [
    "http://[", "http://[::zz]/", "http://exa mple.com", "http://example.com/a\tb", " https://example.com",
    "javascript:alert(1)", "ftp://x", "mailto:someone@example.com", "", "/plan.pdf", "//example.com/plan.pdf",
    "https://", "https://:443/plan.pdf", "https://-bad-.example/", "https://a..example/",
    "https://example.com\\@evil.example", "https://user@example.com/", "https://example.com:0x1f/",
    'https://example.com/"onmouseover="x', "https://example.com/\ud800", "https://example.com/\u200bplan.pdf",
])
def test_anything_else_is_a_validation_error_not_an_exception(url):
    with pytest.raises(ma.ValidationError) as raised:
        Links().load({"link": url})
    assert list(raised.value.messages) == ["link"]


def test_the_length_bound_can_be_chosen():
    assert Links().load({"short_link": "https://example.com/123456789"})["short_link"]
    with pytest.raises(ma.ValidationError) as raised:
        Links().load({"short_link": "https://example.com/1234567890a"})
    assert raised.value.messages == {"short_link": ["URL is longer than 30 characters."]}


def test_only_the_file_url_field_takes_a_download_path(app):
    path = f"/api/v1/files/download/{uuid.uuid4()}"
    with app.app_context():
        assert Links().load({"file_url": path}) == {"file_url": path}
        with pytest.raises(ma.ValidationError):
            Links().load({"link": path})


@pytest.mark.parametrize("path", ["/api/v1/files/download/{id}/", "/api/v1/files/download/urn:uuid:{id}",
                                  "/api/v1/files/download/{id}?x=1", "/api/v1/files/upload", "/"])
def test_the_file_url_field_takes_no_other_path(app, path):
    with app.app_context(), pytest.raises(ma.ValidationError) as raised:
        Links().load({"file_url": path.format(id=uuid.uuid4())})
    assert raised.value.messages == {"file_url": [
        "Not a valid URL: the only paths accepted are file downloads, /api/v1/files/download/<id>."]}
