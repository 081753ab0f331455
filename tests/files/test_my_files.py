"""GET /files/my-files (contract §4.9): the caller's files, newest first, filtered by type."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.core.db import utcnow
from lms.files.models import StoredFile

MY_FILES = "/api/v1/files/my-files"


@pytest.fixture
def add_files(make_stored_file):
    """`add_files(owner, count, file_type="document")`: rows only (listing never touches the storage), a
    minute apart, the last one newest."""

    def add(owner, count: int, file_type: str = "document") -> list[StoredFile]:
        start = utcnow() - timedelta(days=1)
        return [make_stored_file(owner, original_filename=f"file-{index}.pdf", file_type=file_type,
                                 file_size=100 + index, created_at=start + timedelta(minutes=index))
                for index in range(count)]

    return add


def test_my_files_lists_only_the_caller_s_files_newest_first(client, student, add_files, make_user, auth_headers):
    mine = add_files(student, 3)
    add_files(make_user("student"), 2)

    response = client.get(MY_FILES, headers=auth_headers(student))

    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 3
    assert [item["id"] for item in body["files"]] == [str(row.id) for row in reversed(mine)]
    first = body["files"][0]
    assert first == {
        "id": str(mine[2].id), "filename": mine[2].filename, "original_filename": "file-2.pdf",
        "file_url": f"/api/v1/files/download/{mine[2].id}", "file_type": "document",
        "mime_type": "application/pdf", "file_size": 102, "storage_provider": "local",
        "created_at": first["created_at"], "updated_at": first["updated_at"],
    }
    assert first["created_at"].endswith("Z")


def test_my_files_filters_by_file_type(client, student, add_files, auth_headers):
    add_files(student, 2, "document")
    videos = add_files(student, 1, "video")

    response = client.get(MY_FILES, query_string={"file_type": "video"}, headers=auth_headers(student))

    assert response.status_code == 200
    assert response.get_json()["total"] == 1
    assert [item["id"] for item in response.get_json()["files"]] == [str(videos[0].id)]


def test_my_files_is_empty_for_a_new_user(client, student, auth_headers):
    response = client.get(MY_FILES, headers=auth_headers(student))

    assert response.get_json() == {"files": [], "total": 0}


def test_an_unknown_file_type_is_422(client, student, auth_headers):
    response = client.get(MY_FILES, query_string={"file_type": "executable"}, headers=auth_headers(student))

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["query", "file_type"]


def test_my_files_needs_a_login(client):
    response = client.get(MY_FILES)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize("count", [3, 30])
def test_my_files_runs_a_fixed_number_of_statements(client, student, add_files, auth_headers, assert_max_queries,
                                                    count):
    add_files(student, count)
    headers = auth_headers(student)

    with assert_max_queries(2):
        response = client.get(MY_FILES, headers=headers)

    assert response.get_json()["total"] == count
