"""The document says what the server accepts (issue 15, item 7): nulls, bounds, decimals, booleans,
optional bodies and multipart fields, each checked on both sides."""

from __future__ import annotations

import io

import pytest

from tests.helpers import API


@pytest.fixture
def schemas(client):
    return client.get("/openapi.json").json["components"]["schemas"]


def by_operation_id(client) -> dict:
    spec = client.get("/openapi.json").json
    return {operation["operationId"]: operation for item in spec["paths"].values()
            for method, operation in item.items() if method != "parameters"}


# --- nulls ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("schema, field", [
    ("CourseUpdate", "title"), ("CourseUpdate", "is_published"), ("LessonUpdate", "title"),
    ("LessonUpdate", "lesson_type"), ("LessonUpdate", "is_preview"), ("LessonUpdate", "order_index")])
def test_a_field_whose_null_is_a_400_is_not_documented_nullable(schemas, schema, field):
    assert "nullable" not in schemas[schema]["properties"][field]


def test_fields_that_take_null_stay_nullable(schemas):
    assert schemas["CourseUpdate"]["properties"]["description"]["nullable"] is True
    assert schemas["LessonUpdate"]["properties"]["video_url"]["nullable"] is True


# --- bounds --------------------------------------------------------------------------------------

def test_the_bounds_the_server_enforces_are_documented(schemas):
    for schema in ("Grade", "SubmissionUpdate"):
        properties = schemas[schema]["properties"]
        assert (properties["max_grade"]["minimum"], properties["max_grade"]["exclusiveMinimum"]) == (0, True)
        assert properties["grade"]["minimum"] == 0
        assert "max_grade" in properties["grade"]["description"]
    assert schemas["Review"]["properties"]["review"]["minLength"] == 10
    for schema in ("Register", "UserCreate", "ResetPassword"):
        password = schemas[schema]["properties"].get("password") or schemas[schema]["properties"]["new_password"]
        assert password["maxLength"] == 72
        assert "72 bytes of UTF-8" in password["description"]


def test_a_password_of_more_than_72_bytes_is_refused_whatever_its_length_in_characters(client):
    body = {"email": "long@example.com", "full_name": "Long Password", "password": "a" * 100}
    response = client.post(f"{API}/auth/register", json=body)

    assert response.status_code == 422
    assert response.get_json()["detail"] == [{"loc": ["body", "password"], "type": "value_error",
                                              "msg": "Password must be at most 72 bytes in UTF-8"}]


# --- decimals ------------------------------------------------------------------------------------

def test_decimals_are_patterned_strings_in_answers_and_numbers_or_strings_in_requests(schemas):
    answer = schemas["Quiz"]["properties"]["passing_score"]
    assert (answer["type"], answer["pattern"]) == ("string", r"^-?[0-9]+\.[0-9]{2}$")
    number, text = schemas["QuizCreate"]["properties"]["passing_score"]["oneOf"]
    assert number == {"type": "number", "minimum": 0, "maximum": 100}
    assert text == {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    assert not [(name, prop) for name, schema in schemas.items() for prop, definition in schema.get("properties", {}).items()
                if any(key.startswith("x-") for key in definition)]


@pytest.fixture
def progress_url(student, instructor, make_course, make_lesson, make_enrollment):
    course = make_course(instructor)
    lesson = make_lesson(course)
    enrollment = make_enrollment(student, course)
    return f"{API}/enrollments/{enrollment.id}/lessons/{lesson.id}/progress"


@pytest.mark.parametrize("value, stored", [(40, "40.00"), ("40.5", "40.50"), ("7", "7.00"), (12.345, "12.35")])
def test_a_decimal_is_read_from_a_number_or_a_plain_decimal_string(client, auth_headers, student, progress_url,
                                                                   value, stored):
    response = client.put(progress_url, headers=auth_headers(student), json={"completion_percentage": value})

    assert response.status_code == 200
    assert response.get_json()["completion_percentage"] == stored


@pytest.mark.parametrize("value", ["1e1", " 40", "4_0", "40.", ".5", "+40", "forty"])
def test_a_decimal_string_other_than_plain_decimal_notation_is_a_422(client, auth_headers, student, progress_url,
                                                                     value):
    response = client.put(progress_url, headers=auth_headers(student), json={"completion_percentage": value})

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "completion_percentage"]


# --- booleans ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_a_json_boolean_is_true_or_false_only(client, auth_headers, instructor, make_course, value):
    course = make_course(instructor)
    response = client.post(f"{API}/courses/{course.id}/lessons", headers=auth_headers(instructor),
                           json={"title": "Booleans", "lesson_type": "text", "is_preview": value})

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "is_preview"]


def test_query_and_form_booleans_keep_their_text_forms(client, auth_headers, instructor, student):
    assert client.get(f"{API}/courses?mine=true", headers=auth_headers(instructor)).status_code == 200
    upload = client.post(f"{API}/files/upload", headers=auth_headers(student), content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf"), "is_public": "true"})
    assert upload.status_code == 201, upload.get_json()


# --- bodies --------------------------------------------------------------------------------------

def test_a_partial_update_documents_its_body_as_optional_and_answers_without_one(client, auth_headers, instructor,
                                                                                make_course):
    operations = by_operation_id(client)
    optional = {operation_id for operation_id, operation in operations.items()
                if operation.get("requestBody", {}).get("required") is False}
    assert optional == {"updateUser", "updateCourse", "updateLesson", "updateLessonProgress", "updateQuiz",
                        "updateQuestion", "updateAssignment", "updateSubmission", "updateWebhookEndpoint"}
    course = make_course(instructor, title="Unchanged")

    response = client.patch(f"{API}/courses/{course.id}", headers=auth_headers(instructor))

    assert response.status_code == 200
    assert response.get_json()["title"] == "Unchanged"


def test_the_upload_documents_and_refuses_fields_it_does_not_know(client, auth_headers, student):
    body = by_operation_id(client)["uploadFile"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["additionalProperties"] is False

    response = client.post(f"{API}/files/upload", headers=auth_headers(student), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf"), "colour": "blue"})

    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body", "colour"]
