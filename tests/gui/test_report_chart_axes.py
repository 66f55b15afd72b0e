"""Report chart axis labels fit (issue 17): long store names and crore-sized ₹ ticks are neither
cut off nor overlapping, from the moment the result is set (not a frame later)."""

from __future__ import annotations

from decimal import Decimal as D

import pandas as pd
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF, QImage, QPainter

from mangalm_desktop.gui.reporting.chart import ReportChart, tick_font
from mangalm_desktop.reports.catalog import ReportResult, get_spec
from mangalm_desktop.reports.filters import ReportFilters

pytestmark = pytest.mark.gui

NAMES = [f"Shree Ganesh Kirana & General Provision Stores No. {i}" for i in range(1, 13)]


def _result(sales: list[D]) -> ReportResult:
    frame = pd.DataFrame(
        {"store_code": [f"S{i}" for i in range(1, 13)], "store": NAMES, "sales": sales}
    )
    return ReportResult(get_spec("sales-by-store"), ReportFilters(), frame)


def _drawn(axis_item) -> list[tuple[QRectF, str]]:  # noqa: ANN001
    """The tick labels pyqtgraph would draw now: (rectangle, text), as its paint computes them."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis, _ticks, texts = axis_item.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _flags, text in texts]


@pytest.fixture
def chart(qtbot):
    c = ReportChart()
    qtbot.addWidget(c)
    c.resize(700, 360)
    c.show()
    qtbot.waitExposed(c)
    c.set_result(_result([D("1000")] * 12))  # a small first report: a narrow left axis
    qtbot.wait(50)
    return c


def test_left_axis_is_as_wide_as_its_widest_tick(chart, qtbot):
    big = [D("123456789.50") * (i + 1) for i in range(12)]  # up to ₹148 Cr
    chart.set_result(_result(big))
    axis_item = chart.amount_axis
    metrics = QFontMetricsF(tick_font(axis_item))
    texts = axis_item.tick_texts()
    assert any("Cr" in t and t.startswith("₹") for t in texts)
    widest = max(metrics.horizontalAdvance(t) for t in texts)
    # fitted when the result is set, before any paint (pyqtgraph alone widens it a frame later,
    # after dropping the labels that did not fit)
    assert axis_item.width() >= widest
    drawn = _drawn(axis_item)
    assert len(drawn) >= 3  # the labels are drawn, not dropped for want of room
    for rect, text in drawn:
        assert rect.left() >= 0, text  # nothing cut off at the left edge


def test_long_category_labels_are_elided_and_do_not_overlap(chart, qtbot):
    chart.set_result(_result([D("5000")] * 12))
    qtbot.wait(50)
    drawn = _drawn(chart.category_axis)
    assert len(drawn) >= 2
    drawn.sort(key=lambda d: d[0].left())
    width = chart.category_axis.geometry().width()
    for (left, _a), (right, _b) in zip(drawn, drawn[1:], strict=False):
        assert left.right() <= right.left(), "category labels overlap"
    assert drawn[0][0].left() >= 0 and drawn[-1][0].right() <= width  # none cut at an edge
    texts = [t for _r, t in drawn]
    assert all(t.endswith("…") for t in texts)  # elided, said so, not silently cut
    assert NAMES[0].startswith(texts[0][:-1])  # the first bar's label is its name's start
    # every category whose label is drawn is a real one; the full name is on hover
    assert chart.values_at(0).startswith(NAMES[0] + ":")

    # a wider chart has room for more of each name
    before = max(len(t) for t in texts)
    chart.resize(1400, 360)
    qtbot.wait(100)
    after = max(len(t) for _r, t in _drawn(chart.category_axis))
    assert after > before
