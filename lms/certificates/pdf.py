"""The certificate PDF: one A4 landscape page drawn with fpdf2.

Text is set in Spectral (static TTFs from the `fontpkg-spectral` package, embedded and subset), so
names in Latin (extended, Vietnamese included) and Cyrillic scripts render. The QR code of the
verification URL is drawn as vector squares from segno's matrix, so it stays sharp at any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import fontpkg_spectral
import segno
from fpdf import FPDF

FONT = "Spectral"
FONT_FILES: dict[str, Path] = {
    "": fontpkg_spectral.ROOT / "files" / "Spectral-Regular.ttf",
    "B": fontpkg_spectral.ROOT / "files" / "Spectral-SemiBold.ttf",
    "I": fontpkg_spectral.ROOT / "files" / "Spectral-Italic.ttf",
}

PAGE_WIDTH, PAGE_HEIGHT = 297.0, 210.0  # A4 landscape, mm
NAVY = (28, 42, 74)
GOLD = (176, 141, 87)
INK = (45, 45, 52)
MUTED = (105, 105, 115)
PAPER = (252, 250, 244)


@dataclass(frozen=True)
class CertificateContent:
    certificate_number: str
    student_name: str
    course_title: str
    instructor_name: str
    completion_date: date
    verification_url: str


def render_certificate(content: CertificateContent) -> bytes:
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_title(f"Certificate of Completion {content.certificate_number}")
    pdf.set_subject(content.course_title)
    pdf.set_creator("LMS")
    for style, path in FONT_FILES.items():
        pdf.add_font(FONT, style=style, fname=path)
    pdf.add_page()

    _frame(pdf)
    _centered(pdf, 29, "CERTIFICATE", "B", 40, NAVY, spacing=3.2)
    _centered(pdf, 47, "OF COMPLETION", "", 15, GOLD, spacing=4.5)
    _ornament(pdf, 59)
    _centered(pdf, 66, "This certifies that", "I", 15, MUTED)
    _fitted(pdf, 87, content.student_name, "B", 38, 14, 235, NAVY)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.35)
    pdf.line(PAGE_WIDTH / 2 - 85, 98, PAGE_WIDTH / 2 + 85, 98)
    _centered(pdf, 102, "has successfully completed the course", "I", 15, MUTED)
    _course_title(pdf, 112, content.course_title)

    completed = content.completion_date
    _signature_block(pdf, 72, f"{completed.day} {completed:%B %Y}", "Date of completion")
    _qr_code(pdf, content.verification_url, x=PAGE_WIDTH / 2 - 14, y=141, size=28)
    _signature_block(pdf, PAGE_WIDTH - 72, content.instructor_name, "Instructor")

    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(20, 181)
    pdf.cell(PAGE_WIDTH - 40, 5, f"Certificate No. {content.certificate_number}", align="C")
    pdf.set_xy(20, 185.5)
    pdf.set_font(FONT, "", 7.5)
    pdf.cell(PAGE_WIDTH - 40, 5, f"Verify at {content.verification_url}", align="C")
    return bytes(pdf.output())


def _frame(pdf: FPDF) -> None:
    pdf.set_fill_color(*PAPER)
    pdf.rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT, style="F")
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(2.2)
    pdf.rect(9, 9, PAGE_WIDTH - 18, PAGE_HEIGHT - 18)
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.5)
    pdf.rect(13, 13, PAGE_WIDTH - 26, PAGE_HEIGHT - 26)
    pdf.set_line_width(0.2)
    pdf.rect(14.5, 14.5, PAGE_WIDTH - 29, PAGE_HEIGHT - 29)
    # Small gold diamonds in the inner corners.
    pdf.set_fill_color(*GOLD)
    for x, y in ((19, 19), (PAGE_WIDTH - 19, 19), (19, PAGE_HEIGHT - 19), (PAGE_WIDTH - 19, PAGE_HEIGHT - 19)):
        pdf.polygon([(x, y - 2.6), (x + 2.6, y), (x, y + 2.6), (x - 2.6, y)], style="F")


def _ornament(pdf: FPDF, y: float) -> None:
    center = PAGE_WIDTH / 2
    pdf.set_draw_color(*GOLD)
    pdf.set_line_width(0.4)
    pdf.line(center - 40, y, center - 5, y)
    pdf.line(center + 5, y, center + 40, y)
    pdf.set_fill_color(*GOLD)
    pdf.polygon([(center, y - 2), (center + 2, y), (center, y + 2), (center - 2, y)], style="F")


def _centered(pdf: FPDF, y: float, text: str, style: str, size: float, color: tuple[int, int, int],
              spacing: float = 0) -> None:
    pdf.set_font(FONT, style, size)
    pdf.set_char_spacing(spacing)
    pdf.set_text_color(*color)
    pdf.set_xy(20, y)
    # Letter spacing (in points) adds space after the last letter too: widen the cell by that much
    # so the letters themselves stay centred.
    pdf.cell(PAGE_WIDTH - 40 + spacing / pdf.k, size * 0.45, text, align="C")
    pdf.set_char_spacing(0)


def _fitted(pdf: FPDF, middle: float, text: str, style: str, size: float, min_size: float, width: float,
            color: tuple[int, int, int]) -> None:
    """One line centred on `middle`, shrunk until it fits `width`; still too long at `min_size`, it is cut."""
    pdf.set_font(FONT, style, size)
    while size > min_size and pdf.get_string_width(text) > width:
        size -= 1
        pdf.set_font(FONT, style, size)
    while pdf.get_string_width(text) > width and len(text) > 1:
        text = text[:-2].rstrip() + "…"
    pdf.set_text_color(*color)
    pdf.set_xy((PAGE_WIDTH - width) / 2, middle - size * 0.225)
    pdf.cell(width, size * 0.45, text, align="C")


def _course_title(pdf: FPDF, y: float, title: str) -> None:
    """At most two centred lines, shrinking the type for long titles (and cutting the longest)."""
    width = 215
    for size in range(22, 12, -1):
        pdf.set_font(FONT, "B", size)
        lines = pdf.multi_cell(width, 1, title, dry_run=True, output="LINES")
        if len(lines) <= 2:
            break
    else:
        lines = [lines[0], lines[1].rstrip() + "…"]
    height = size * 0.5
    top = y if len(lines) == 2 else y + height / 2
    pdf.set_text_color(*INK)
    for index, line in enumerate(lines):
        pdf.set_xy((PAGE_WIDTH - width) / 2, top + index * height)
        pdf.cell(width, height, line, align="C")


def _signature_block(pdf: FPDF, center_x: float, value: str, label: str) -> None:
    width = 62
    left = center_x - width / 2
    size = 13.0
    pdf.set_font(FONT, "", size)
    while size > 8 and pdf.get_string_width(value) > width:
        size -= 0.5
        pdf.set_font(FONT, "", size)
    pdf.set_text_color(*INK)
    pdf.set_xy(left, 157)
    pdf.cell(width, 6, value, align="C")
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(0.3)
    pdf.line(left, 164.5, left + width, 164.5)
    pdf.set_font(FONT, "I", 9.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(left, 166)
    pdf.cell(width, 5, label, align="C")


def _qr_code(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    qr = segno.make(url, error="m")
    rows = list(qr.matrix_iter(scale=1, border=0))
    module = size / len(rows)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x - 2.5, y - 2.5, size + 5, size + 5, style="F")
    pdf.set_fill_color(*NAVY)
    for row_index, row in enumerate(rows):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            run = column
            while run < len(row) and row[run]:
                run += 1
            # A tiny overlap hides hairline seams between neighbouring modules in some viewers.
            pdf.rect(x + column * module, y + row_index * module, (run - column) * module + 0.02,
                     module + 0.02, style="F")
            column = run
    pdf.set_font(FONT, "I", 8)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(x - 10, y + size + 2.8)
    pdf.cell(size + 20, 4, "Scan to verify", align="C")
