"""Unicode text in every PDF (order confirmations and reports): ₹ and Indian scripts, embedded.

The PDF base fonts (Helvetica) have no ₹ and no Indian script, so store names printed as boxes.
The Noto fonts in ``resources/fonts/`` (SIL OFL 1.1, see ``OFL.txt`` there) are registered with
reportlab and embedded (as subsets) in each PDF: Noto Sans for Latin, digits and ₹, and Noto Sans
Devanagari, Bengali, Gujarati and Tamil. No single font has them all, so text is cut into runs
by the font that has its characters (:func:`runs`), and each run is set in its own font.

Shaping (conjuncts, vowel signs placed before their consonant) needs HarfBuzz: with the
``uharfbuzz`` package present, reportlab shapes the runs of paragraphs and of :func:`draw` lines.
Chart labels (reportlab graphics) are not shaped: their glyphs exist, but a conjunct may show
as its parts. A character no font has (an emoji) is printed as U+FFFD, never as a crash.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

BASE = "NotoSans"
SCRIPTS = ("NotoSansDevanagari", "NotoSansBengali", "NotoSansGujarati", "NotoSansTamil")
FAMILIES = (BASE, *SCRIPTS)
MISSING = "\ufffd"


def font_dir() -> Path:
    """``resources/fonts`` in a checkout, or beside the frozen executable (installer.spec)."""
    frozen = getattr(sys, "_MEIPASS", None)  # set by PyInstaller only: not a known type's field
    root = Path(frozen) if frozen else Path(__file__).resolve().parents[2]
    return root / "resources" / "fonts"


@dataclass(frozen=True)
class _Font:
    name: str
    chars: frozenset[int]


@cache
def _registered() -> tuple[tuple[_Font, ...], tuple[_Font, ...]]:
    """Register every family (regular, bold) once per process; their character sets."""
    regular: list[_Font] = []
    bold: list[_Font] = []
    folder = font_dir()
    for family in FAMILIES:
        faces = {}
        for weight, out in (("Regular", regular), ("Bold", bold)):
            path = folder / f"{family}-{weight}.ttf"
            if not path.exists():
                raise FileNotFoundError(f"PDF font {path} is missing (a packaging bug)")
            name = family if weight == "Regular" else f"{family}-Bold"
            font = TTFont(name, str(path))
            pdfmetrics.registerFont(font)
            out.append(_Font(name, frozenset(font.face.charToGlyph)))
            faces[weight] = name
        pdfmetrics.registerFontFamily(
            family, normal=faces["Regular"], bold=faces["Bold"], italic=faces["Regular"],
            boldItalic=faces["Bold"],
        )  # fmt: skip
    return tuple(regular), tuple(bold)


def register() -> tuple[str, str]:
    """Register the fonts; the (regular, bold) names to give styles and table cells."""
    _registered()
    return BASE, f"{BASE}-Bold"


def runs(text: str, *, bold: bool = False) -> list[tuple[str, str]]:
    """``text`` cut into ``(font name, part)`` runs, each part wholly covered by its font.

    A character stays in the current run while that font has it (spaces and digits between
    Devanagari words stay with them, so the run shapes as one); otherwise the first family that
    has it starts a new run, Noto Sans first. A character none has becomes U+FFFD.
    """
    fonts = _registered()[1 if bold else 0]
    if text.isascii() and text.isprintable():  # the common case, without a walk per character
        return [(fonts[0].name, text)] if text else []
    out: list[tuple[str, str]] = []
    current: _Font | None = None
    part: list[str] = []
    for ch in text:
        code = ord(ch)
        if current is None or code not in current.chars:
            found = next((f for f in fonts if code in f.chars), None)
            if found is None:
                found, ch = fonts[0], MISSING
            if found is not current:
                if part and current is not None:
                    out.append((current.name, "".join(part)))
                current, part = found, []
        part.append(ch)
    if part and current is not None:
        out.append((current.name, "".join(part)))
    return out


def needs_runs(text: str) -> bool:
    """True when ``text`` is not wholly in Noto Sans (so a plain table cell cannot show it)."""
    if text.isascii() and text.isprintable():
        return False
    base = _registered()[0][0].chars
    return any(ord(ch) not in base for ch in text)


def markup(text: str | None, *, bold: bool = False) -> str:
    """Paragraph markup for ``text``: escaped, other scripts wrapped in their ``<font>``."""
    if not text:
        return ""
    base = f"{BASE}-Bold" if bold else BASE
    return "".join(
        escape(part) if name == base else f'<font face="{name}">{escape(part)}</font>'
        for name, part in runs(text, bold=bold)
    ).replace("\n", "<br/>")


def paragraph(text: str | None, style: ParagraphStyle) -> Paragraph:
    """A paragraph of ``text`` in ``style``, other scripts in their fonts; shaped (HarfBuzz)
    only when it has such text, as shaping every Latin cell would cost a long PDF ~60% more."""
    bold = style.fontName.endswith("-Bold")
    if text and needs_runs(text):
        style = ParagraphStyle(f"{style.name}-shaped", parent=style, shaping=1)
    return Paragraph(markup(text, bold=bold), style)


def width(text: str, size: float, *, bold: bool = False) -> float:
    """The set width of ``text`` (unshaped: shaping changes it by a little, never by a lot)."""
    return float(
        sum(pdfmetrics.stringWidth(part, name, size) for name, part in runs(text, bold=bold))
    )


def main_font(text: str, *, bold: bool = False) -> str:
    """The one font for a label that can have only one (chart axes): its first other script."""
    names = [name for name, _ in runs(text, bold=bold)]
    base = f"{BASE}-Bold" if bold else BASE
    return next((n for n in names if n != base), base)


def draw(
    canvas: Canvas, x: float, y: float, text: str, size: float, *, right: bool = False
) -> None:
    """``canvas.drawString`` for any script: each run in its font, shaped when HarfBuzz is here."""
    parts = runs(text)
    if right:
        x -= sum(pdfmetrics.stringWidth(p, n, size) for n, p in parts)
    for name, part in parts:
        canvas.setFont(name, size)
        canvas.drawString(x, y, part, shaping=True)
        x += pdfmetrics.stringWidth(part, name, size)
