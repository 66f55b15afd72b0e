"""The house style of every printed document (order confirmation, payment receipt): the
company block, colours and paragraph styles, in one place so documents look alike."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

from . import fonts

BRAND = colors.HexColor("#B23A17")  # the Mangalm saffron-red
INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#6B6B6B")
RULE = colors.HexColor("#D9D4CF")
BAND = colors.HexColor("#FBF4EF")


@dataclass(frozen=True)
class CompanyInfo:
    name: str = "Mangalm Foods Distribution"
    address: str = "Bengaluru, Karnataka"
    phone: str | None = None
    email: str | None = None
    gstin: str | None = None


def styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles in the embedded fonts (``printing.fonts``)."""
    regular, bold = fonts.register()
    base = ParagraphStyle("base", getSampleStyleSheet()["Normal"], fontName=regular)
    mk = ParagraphStyle
    return {
        "company": mk("company", base, fontName=bold, fontSize=17, textColor=BRAND, leading=21),
        "small": mk("small", base, fontSize=8.5, textColor=MUTED, leading=11),
        "title": mk(
            "title",
            base,
            fontName=bold,
            fontSize=13,
            textColor=INK,
            alignment=TA_RIGHT,
            leading=16,
        ),
        "meta": mk("meta", base, fontSize=9, textColor=INK, alignment=TA_RIGHT, leading=12),
        "label": mk("label", base, fontName=bold, fontSize=8, textColor=BRAND, leading=10),
        "body": mk("body", base, fontSize=9.5, textColor=INK, leading=12.5),
        "cell": mk("cell", base, fontSize=8.5, textColor=INK, leading=10.5),
        "num": mk("num", base, fontSize=8.5, textColor=INK, leading=10.5, alignment=TA_RIGHT),
        "head": mk("head", base, fontName=bold, fontSize=8, textColor=colors.white, leading=10),
        "headr": mk(
            "headr",
            base,
            fontName=bold,
            fontSize=8,
            textColor=colors.white,
            leading=10,
            alignment=TA_RIGHT,
        ),
    }
