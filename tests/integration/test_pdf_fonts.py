"""Store names in Indian scripts print in every PDF: the glyphs are in the embedded fonts.

The check reads each PDF back (pypdf), opens every embedded font program (fontTools) and
compares glyph *outlines* with the ones the shipped Noto fonts give for each name: shaped with
HarfBuzz as reportlab shapes paragraphs (conjuncts, reordered vowel signs), and plain per
character for chart labels, which reportlab draws unshaped. Outlines, not glyph ids or names,
because reportlab renumbers the glyphs of the subset it embeds.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cache
from pathlib import Path

import pytest
import uharfbuzz as hb
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from sqlalchemy import update

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Agent, Store
from mangalm_desktop.orders import pdf, service
from mangalm_desktop.orders.model import LineInput, OrderDraft
from mangalm_desktop.printing import fonts
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.export import export
from mangalm_desktop.reports.filters import ReportFilters
from tests.integration import reports_data

from .orders_support import seed

NAMES = {
    "Devanagari": "श्री गणेश किराना स्टोर",
    "Tamil": "முருகன் ஸ்டோர்ஸ்",
    "Gujarati": "શ્રી અંબિકા સ્ટોર",
    "Bengali": "মা কালী ভাণ্ডার",
}
EMOJI_NAME = "Kumar Stores 🙂"
FEATURES = {"kern": True, "liga": True, "dlig": True}  # what reportlab asks HarfBuzz for


def _outline(glyphset, name: str) -> tuple:
    pen = DecomposingRecordingPen(glyphset)
    glyphset[name].draw(pen)
    return tuple(pen.value)


def embedded_outlines(path: Path) -> dict[str, set[tuple]]:
    """Font name (subset prefix dropped) → outlines of every glyph embedded in the PDF."""
    out: dict[str, set[tuple]] = {}
    for page in PdfReader(path).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            base = str(font["/BaseFont"]).lstrip("/")
            descriptor = font.get("/FontDescriptor")
            if descriptor is None:
                continue  # a base-14 font in the resources: no program, so no text of ours
            program = descriptor.get_object().get("/FontFile2")
            assert program is not None, f"{base} is used but not embedded"
            tt = TTFont(io.BytesIO(program.get_object().get_data()))
            gs = tt.getGlyphSet()
            name = base.split("+", 1)[-1]
            out.setdefault(name, set()).update(_outline(gs, g) for g in tt.getGlyphOrder())
    return out


@cache
def _source(font_name: str) -> tuple[TTFont, hb.Font]:
    family, _, weight = font_name.partition("-")
    path = fonts.font_dir() / f"{family}-{weight or 'Regular'}.ttf"
    return TTFont(path), hb.Font(hb.Face(hb.Blob.from_file_path(str(path))))


def needed_outlines(text: str, *, shaped: bool) -> dict[str, set[tuple]]:
    """The outlines ``text`` needs from each font, as reportlab sets it."""
    need: dict[str, set[tuple]] = {}
    for font_name, part in fonts.runs(text):
        tt, hbf = _source(font_name)
        gs, order = tt.getGlyphSet(), tt.getGlyphOrder()
        if shaped:
            glyphs = []
            for word in part.split():
                buf = hb.Buffer()
                buf.add_str(word)
                buf.guess_segment_properties()
                hb.shape(hbf, buf, FEATURES)
                glyphs += [order[info.codepoint] for info in buf.glyph_infos]
        else:
            cmap = tt.getBestCmap()
            glyphs = [cmap[ord(ch)] for ch in part if not ch.isspace()]
        outlines = {_outline(gs, g) for g in glyphs} - {()}  # a space has no outline
        need.setdefault(font_name.removesuffix("-Regular"), set()).update(outlines)
    return need


def assert_printable(path: Path, text: str, *, shaped: bool = True) -> None:
    have = embedded_outlines(path)
    for font_name, outlines in needed_outlines(text, shaped=shaped).items():
        key = font_name if font_name.endswith("-Bold") else f"{font_name}-Regular"
        embedded = have.get(key, set()) | have.get(font_name, set())
        assert embedded, f"{font_name} (for {text!r}) is not embedded in {path.name}"
        missing = outlines - embedded
        assert not missing, f"{len(missing)} glyph(s) of {text!r} missing from {font_name}"


def test_runs_pick_a_font_per_script_and_replace_what_none_has() -> None:
    assert fonts.runs("Ganesh ₹") == [("NotoSans", "Ganesh ₹")]
    assert fonts.runs("श्री 12 Kirana") == [
        ("NotoSansDevanagari", "श्री 12 "),
        ("NotoSans", "Kirana"),
    ]
    assert fonts.runs(EMOJI_NAME) == [("NotoSans", "Kumar Stores \ufffd")]
    assert fonts.markup("A & B 🙂") == "A &amp; B \ufffd"
    for script, name in NAMES.items():
        assert [f for f, _ in fonts.runs(name)] == [f"NotoSans{script}"]


def test_order_pdf_embeds_every_glyph_of_indian_store_names(engine, tmp_path) -> None:
    sd = seed(engine)
    paths = {}
    for script, name in [*NAMES.items(), ("emoji", EMOJI_NAME)]:
        with session_scope(engine) as s:
            s.execute(update(Store).where(Store.id == sd.store_id).values(name=name))
            s.execute(update(Agent).where(Agent.id == sd.agent_id).values(name=f"{name} agent"))
        res = service.submit(
            engine,
            OrderDraft(
                store=sd.store_id,
                agent_id=sd.agent_id,
                lines=[LineInput("ATTA-5", 8)],
                notes=f"Deliver to {name}",
            ),
            today=dt.date(2026, 11, 25),
            identity=None,
        )
        paths[script] = pdf.write_order_pdf(
            engine, res.order_id, tmp_path / f"{script}.pdf", identity=None
        )
    for script, name in NAMES.items():
        assert_printable(paths[script], name)
        assert_printable(paths[script], f"{name} agent")
        assert_printable(paths[script], "₹1,964.00")  # the total, with the rupee sign
    assert_printable(paths["emoji"], EMOJI_NAME)  # the emoji is U+FFFD in Noto Sans
    text = PdfReader(paths["emoji"]).pages[0].extract_text()
    assert "Kumar Stores" in text and "Rs " not in text


@pytest.fixture
def report_db(tmp_path):
    from mangalm_desktop.db import migrate

    eng = migrate.open_local_database(tmp_path / "r.sqlite")
    reports_data.build(eng)
    with session_scope(eng) as s:
        for code, name in zip(("S1", "S2", "S3", "S4"), NAMES.values(), strict=True):
            s.execute(update(Store).where(Store.code == code).values(name=name))
    yield eng
    eng.dispose()


def test_report_pdf_embeds_every_glyph_of_indian_store_names(report_db, tmp_path) -> None:
    filters = ReportFilters(date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 3, 31))
    result = run_report(report_db, "sales-by-store", filters, identity=None)
    shown = set(result.frame["store"])
    assert shown, "the report has rows"
    out = export(result, "pdf", tmp_path / "stores.pdf", identity=None)
    for name in shown:
        assert_printable(out, name)  # the table: paragraphs, shaped
        assert_printable(out, name[:18], shaped=False)  # the chart's category labels
