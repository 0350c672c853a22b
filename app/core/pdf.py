"""PDF documents of the product: A4, with a font that carries every name on staff.

DejaVu Sans (shipped in ``app/static/fonts``) has umlauts, ß and the letters of the names a
diverse town has (Çelik, Kovačević, Yılmaz), which the PDF core fonts lack.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fpdf import FPDF

STATIC = Path(__file__).resolve().parent.parent / "static"
FONTS = STATIC / "fonts"
FONT = "DejaVu"


def new_document(
    *,
    title: str,
    author: str,
    lang: str,
    orientation: Literal["portrait", "landscape"] = "portrait",
) -> FPDF:
    """An empty A4 document with DejaVu Sans (regular and bold) and automatic page breaks."""
    from fpdf import FPDF  # only when a PDF is made: the web and worker start without it

    pdf = FPDF(orientation=orientation, format="A4")
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_lang(lang)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font(FONT, "", 10)
    return pdf


def static_file(relative: str) -> Path | None:
    """A file under ``app/static`` (the city's logo, say), or None when it is missing or
    would lie outside that folder."""
    path = (STATIC / relative).resolve()
    if not path.is_file() or STATIC not in path.parents:
        return None
    return path
