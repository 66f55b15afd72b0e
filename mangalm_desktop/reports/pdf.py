"""PDF rendering of a report with reportlab (no Qt, so the CLI can mail reports from a server).

Layout: title, filter line, generated time, a chart drawn with reportlab graphics, then the
table with its header repeated on every page, and "page N of M" in the footer. Wide reports
(more than seven columns) go landscape so numbers are not squeezed. Text is set in the embedded
Noto fonts of :mod:`..printing.fonts` (₹, Devanagari, Bengali, Gujarati, Tamil); figures are written by
:mod:`..domain.formatting`, as on screen.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..domain import formatting as fmt
from ..domain.formatting import Kind, axis, cell, to_number
from ..domain.tasks import NULL_TASK, TaskContext
from ..printing import fonts
from .catalog import ReportResult, column_label

PALETTE = ["#2F5597", "#C55A11", "#548235", "#7030A0", "#BF9000", "#2E75B6"]
NUMERIC_KINDS = {"money", "int", "pct", "float"}
WIDE_COLUMNS = 7


def _numbered_canvas(footer_left: str, font: str) -> type[canvas.Canvas]:
    class NumberedCanvas(canvas.Canvas):
        """Defers each page so the footer can say "page N of M"."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab API
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                w, _h = self._pagesize
                self.setFillColor(colors.grey)
                fonts.draw(self, 15 * mm, 8 * mm, footer_left, 8)
                page = f"Page {self._pageNumber} of {total}"
                fonts.draw(self, w - 15 * mm, 8 * mm, page, 8, right=True)
                super().showPage()
            super().save()

    return NumberedCanvas


def _chart(result: ReportResult, width: float, font: str) -> Drawing | None:
    spec = result.spec.chart
    df = result.frame
    if spec is None or df.empty or spec.x not in df.columns:
        return None
    ys = [y for y in spec.y if y in df.columns]
    if not ys:
        return None
    part = df.head(spec.max_points)
    names = [str(v)[:18] for v in part[spec.x]]
    data = [[to_number(v) or 0.0 for v in part[y]] for y in ys]
    height = 190.0
    d = Drawing(width, height)
    chart = VerticalBarChart() if spec.kind == "bar" else HorizontalLineChart()
    chart.x, chart.y = 45, 50
    chart.width, chart.height = width - 60 - (110 if len(ys) > 1 else 0), height - 70
    chart.data = data
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = font
    for i, name in enumerate(names):  # one font per label: a store name in its own script
        label_font = fonts.main_font(name)
        if label_font != font:
            chart.categoryAxis.labels[i].fontName = label_font
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.categoryAxis.labels.angle = 30 if len(names) > 6 else 0
    step = max(1, len(names) // 24)
    if step > 1:  # thin the labels on long time series, keep every bar
        chart.categoryAxis.categoryNames = [n if i % step == 0 else "" for i, n in enumerate(names)]
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    axis_kind = _axis_kind(result, ys)
    small = max((abs(v) for row in data for v in row), default=0.0) < 10
    chart.valueAxis.labelTextFormat = lambda v: axis(v, axis_kind, decimals=2 if small else 0)
    chart.valueAxis.forceZero = 1  # amounts are read against zero
    for i in range(len(ys)):
        colour = colors.HexColor(PALETTE[i % len(PALETTE)])
        if spec.kind == "bar":
            chart.bars[i].fillColor = colour
            chart.bars[i].strokeColor = None
        else:
            chart.lines[i].strokeColor = colour
            chart.lines[i].strokeWidth = 1.5
    if spec.kind == "bar" and spec.stacked:
        chart.categoryAxis.style = "stacked"
    if spec.kind == "bar":
        chart.groupSpacing = 4 if len(names) > 10 else 8
    d.add(chart)
    if len(ys) > 1:
        legend = Legend()
        legend.x, legend.y = width - 105, height - 30
        legend.fontName, legend.fontSize = font, 7
        legend.alignment = "right"
        legend.colorNamePairs = [
            (colors.HexColor(PALETTE[i % len(PALETTE)]), column_label(y)) for i, y in enumerate(ys)
        ]
        d.add(legend)
    shown = f" (first {spec.max_points} of {len(df)})" if len(df) > spec.max_points else ""
    d.add(
        String(
            45,
            height - 12,
            ", ".join(column_label(y) for y in ys) + shown,
            fontName=font,
            fontSize=8,
            fillColor=colors.grey,
        )
    )
    return d


def _axis_kind(result: ReportResult, ys: list[str]) -> Kind:
    """The y columns' kind when they share one (money, ratio), else plain numbers."""
    kinds = {result.kinds()[y] for y in ys}
    return kinds.pop() if len(kinds) == 1 else "float"


CELL_PAD = 6.0  # reportlab's default left + right cell padding is 6 pt each side together


def _column_widths(
    header: list[str], body: list[list[str]], avail: float, size: float
) -> tuple[float, list[float]]:
    """Column widths that never break a header word, shared out by content; smaller type if
    even the header words do not fit the page."""
    sample = body[:300]
    while True:
        mins = [
            max(fonts.width(w, size, bold=True) for w in (lbl.split() or [""])) + 2 * CELL_PAD
            for lbl in header
        ]
        want = [
            max(
                [mins[j]]
                + [min(fonts.width(r[j], size), 40 * size * 0.55) + 2 * CELL_PAD for r in sample]
            )
            for j in range(len(header))
        ]
        if sum(mins) <= avail or size <= 5.5:
            break
        size -= 0.5
    # Short columns (codes, numbers, dates) keep their full width; long text gives way.
    keep = [w if w <= 12 * size else m for w, m in zip(want, mins, strict=True)]
    if sum(keep) <= avail:
        mins = keep
    if sum(want) <= avail:  # everything fits: share the spare room out evenly
        spare = (avail - sum(want)) / len(want)
        return size, [w + spare for w in want]
    extra = [w - m for w, m in zip(want, mins, strict=True)]
    room = max(0.0, avail - sum(mins))
    total_extra = sum(extra) or 1.0
    return size, [m + room * e / total_extra for m, e in zip(mins, extra, strict=True)]


def write_pdf(result: ReportResult, path: Path, ctx: TaskContext = NULL_TASK) -> None:
    font, bold = fonts.register()
    df = result.frame
    kinds = result.kinds()
    wide = len(df.columns) > WIDE_COLUMNS
    pagesize = landscape(A4) if wide else A4
    margin = 15 * mm
    doc = SimpleDocTemplate(
        str(path),
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=18 * mm,
        title=result.title,
        author="Mangalm Sales Desktop",
    )
    avail = pagesize[0] - 2 * margin
    styles = getSampleStyleSheet()
    h = ParagraphStyle("t", parent=styles["Title"], fontName=bold, alignment=0, fontSize=16)
    small = ParagraphStyle(
        "s",
        parent=styles["Normal"],
        fontName=font,
        fontSize=8.5,
        textColor=colors.HexColor("#444444"),
    )
    lines = result.filter_lines()
    filters = "; ".join(f"<b>{escape(k)}:</b> {fonts.markup(v)}" for k, v in lines) or "No filters"
    shaped = ParagraphStyle("s-shaped", parent=small, shaping=1)  # a store named in its script
    generated = f"{fmt.day_time(result.generated_at)} {result.generated_at:%Z}".rstrip()
    story: list[Flowable] = [
        fonts.paragraph(result.title, h),
        Paragraph(filters, shaped if any(fonts.needs_runs(v) for _, v in lines) else small),
        Paragraph(f"Generated {generated} · {fmt.number(len(df))} rows", small),
        Spacer(1, 4 * mm),
    ]
    chart = _chart(result, avail, font)
    if chart is not None:
        story += [chart, Spacer(1, 4 * mm)]

    header = result.labels()
    body: list[list[str]] = []
    total = len(df)
    for i, row in enumerate(df.itertuples(index=False, name=None), start=1):
        body.append([cell(v, kinds[c]) for v, c in zip(row, df.columns, strict=True)])
        if i % 500 == 0:
            ctx.check()
            ctx.progress(i, total, "laying out PDF")
    if not body:
        story.append(Paragraph("No rows match these filters.", small))
    else:
        size, widths = _column_widths(header, body, avail, 7.0 if wide else 8.0)
        hstyle = ParagraphStyle(
            "h", fontName=bold, fontSize=size, leading=size + 1.5, textColor=colors.white
        )
        head_cells = [fonts.paragraph(lbl, hstyle) for lbl in header]
        cstyle = ParagraphStyle("c", fontName=font, fontSize=size, leading=size + 2)
        rows: list[list[str | Paragraph]] = [list(r) for r in body]
        # Text that does not fit its column is shortened with an ellipsis rather than running
        # into the next column; text in another script is a paragraph set in its own font.
        for j, c in enumerate(df.columns):
            if kinds[c] != "text":
                continue
            room = widths[j] - 2 * CELL_PAD
            for r, out in zip(body, rows, strict=True):
                text = r[j]
                if fonts.width(text, size) > room:
                    while text and fonts.width(text + "…", size) > room:
                        text = text[:-1]
                    text += "…"
                out[j] = fonts.paragraph(text, cstyle) if fonts.needs_runs(text) else text
        table = Table([head_cells, *rows], colWidths=widths, repeatRows=1)
        ts = [
            ("FONT", (0, 1), (-1, -1), font, size),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#2F5597")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#EEF2F8")]),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#1F3864")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        for j, c in enumerate(df.columns):
            if kinds[c] in NUMERIC_KINDS:
                ts.append(("ALIGN", (j, 1), (j, -1), "RIGHT"))
        table.setStyle(TableStyle(ts))
        story.append(table)
    footer = f"{result.title} — Mangalm Sales Desktop"
    doc.build(story, canvasmaker=_numbered_canvas(footer, font))
    ctx.progress(total, total, "laying out PDF")
