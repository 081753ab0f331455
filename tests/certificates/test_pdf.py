"""The certificate PDF: one A4 landscape page with every element, any Latin or Cyrillic name."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from lms.certificates.pdf import CertificateContent, render_certificate
from tests.certificates.helpers import API, finish_course

A4_LANDSCAPE_POINTS = (841.89, 595.28)


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, reader.pages[0].extract_text()


def content(**overrides) -> CertificateContent:
    values = dict(certificate_number="CERT-20261127-3FA9C1", student_name="José Ñúñez",
                  course_title="Introduction to Data Science", instructor_name="Zoë Ångström",
                  completion_date=date(2026, 11, 27),
                  verification_url="https://lms.example.com/api/v1/certificates/verify/CERT-20261127-3FA9C1")
    return CertificateContent(**{**values, **overrides})


def test_the_pdf_is_one_a4_landscape_page_with_every_element():
    reader, text = read(render_certificate(content()))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4_LANDSCAPE_POINTS
    for expected in ("CERTIFICATE", "OF COMPLETION", "José Ñúñez", "Introduction to Data Science", "Zoë Ångström",
                     "27 November 2026", "Certificate No. CERT-20261127-3FA9C1",
                     "https://lms.example.com/api/v1/certificates/verify/CERT-20261127-3FA9C1"):
        assert expected in text
    assert reader.metadata.title == "Certificate of Completion CERT-20261127-3FA9C1"


@pytest.mark.parametrize("name", ["Zoë Ångström", "Đặng Thị Ngọc Thịnh", "Łukasz Żółć", "Дмитрий Менделеев",
                                  "Søren Kierkegaard-Ørsted", "Ñandú O'Brien-Çelik"])
def test_non_ascii_names_are_embedded_with_their_exact_characters(name):
    _, text = read(render_certificate(content(student_name=name)))

    assert name in text


def test_the_font_is_embedded_so_the_name_renders_anywhere():
    reader, _ = read(render_certificate(content()))

    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"] for font in fonts.values()]
    assert descriptors and all("/FontFile2" in descriptor for descriptor in descriptors)


def test_long_names_and_titles_still_fit_one_page_in_full():
    name = "Maximilian Alexander Wolfgang von Hohenzollern-Sigmaringen Ørsted"
    title = ("Advanced Distributed Systems: Consensus, Replication, Fault Tolerance and Everything in Between "
             "for Practitioners")

    reader, text = read(render_certificate(content(student_name=name, course_title=title)))

    assert len(reader.pages) == 1
    assert name in text
    assert " ".join(text.split()).count(title) == 1


def test_the_issued_certificate_carries_the_student_course_number_and_verification_url(
        client, make_user, instructor, make_course, make_enrollment, auth_headers):
    student = make_user("student", full_name="José Ñúñez")
    course = make_course(instructor, title="Cálculo Numérico", lessons=2)
    enrollment = make_enrollment(student, course)
    finish_course(enrollment)
    certificate = client.get(f"{API}/my-certificates", headers=auth_headers(student)).get_json()["certificates"][0]

    response = client.get(f"{API}/{certificate['id']}/download", headers=auth_headers(student))

    reader, text = read(response.get_data())
    assert len(reader.pages) == 1
    number = certificate["certificate_number"]
    for expected in ("José Ñúñez", "Cálculo Numérico", "Ines Tructor", number,
                     f"http://localhost:8000/api/v1/certificates/verify/{number}"):
        assert expected in text
