"""The report chart (pyqtgraph): bars or lines from the report's ChartSpec, a legend, and the
values of the category under the mouse in a label above the plot.

Axis labels fit: the left axis is as wide as its widest ₹ tick (fitted when the range is set,
not a frame later, when pyqtgraph would first drop the labels that do not fit), and long
category names (store names) are elided to the room each shown tick has, never overlapping
or cut off at the plot's edge; the hover label and the table give the full name."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from ...domain.formatting import Kind, axis, cell, to_number
from ...reports.catalog import ReportResult, column_kind, column_label

PALETTE = ["#2F5597", "#C55A11", "#548235", "#7030A0", "#BF9000", "#2E75B6"]
LABEL_GAP = 12  # pixels between two category labels
MIN_LABEL = "Mmmmmm…"  # a category label is never elided shorter than this


def tick_font(axis_item: pg.AxisItem) -> QFont:
    """The font the axis draws its tick labels in."""
    font = axis_item.style["tickFont"]
    return QFont(font) if font is not None else axis_item.font()


class AmountAxis(pg.AxisItem):
    """Left axis labels as a manager reads them: ₹12,500 / ₹4.5 L / ₹1.2 Cr, not 1.2e+07."""

    kind: Kind = "float"  # here too: pyqtgraph resizes the axis inside its __init__

    def __init__(self, orientation: str, kind: Kind = "float") -> None:
        super().__init__(orientation)
        self.kind: Kind = kind  # the plotted columns' kind (a report sets it with each result)
        self.enableAutoSIPrefix(False)  # ₹1.5 L on the tick, never "(x1e+05)" on the axis

    def tickStrings(self, values, scale, spacing) -> list[str]:  # noqa: ANN001, N802
        decimals = 2 if spacing * scale < 1 else 0
        return [axis(v * scale, self.kind, decimals=decimals) for v in values]

    def tick_texts(self) -> list[str]:
        """Every label the axis may draw for its current range and height."""
        lo, hi = self.range
        size = max(self.geometry().height(), 100.0)
        return [
            text
            for spacing, values in self.tickValues(lo, hi, size)
            for text in self.tickStrings(values, 1.0, spacing)
        ]

    def fit_width(self) -> None:
        """Reserve the widest tick label's width (plus tick and offset) for the labels."""
        if not self.style["showValues"]:
            return
        metrics = QFontMetricsF(tick_font(self))
        widest = max((metrics.horizontalAdvance(t) for t in self.tick_texts()), default=0.0)
        width = (
            math.ceil(widest) + self.style["tickTextOffset"][0] + max(0, self.style["tickLength"])
        )
        width += 4  # pyqtgraph's text rectangles are a little wider than the advance
        if width != self.fixedWidth:
            self.setWidth(width)

    def setRange(self, mn: float, mx: float) -> None:  # noqa: N802 - pyqtgraph's name
        super().setRange(mn, mx)
        self.fit_width()

    def resizeEvent(self, ev=None) -> None:  # noqa: ANN001, N802
        super().resizeEvent(ev)
        self.fit_width()


class CategoryAxis(pg.AxisItem):
    """The bottom axis of categories: as many labels as fit, each elided to its room."""

    categories: tuple[str, ...] = ()  # a class default: pyqtgraph resizes it inside __init__

    def set_categories(self, categories: list[str]) -> None:
        self.categories = tuple(categories)
        self.fit_ticks()

    def fit_ticks(self) -> None:
        if not self.categories:
            self.setTicks(None)
            return
        lo, hi = self.range
        pixels = self.geometry().width() or 600.0
        per = pixels / max(hi - lo, 1e-9)  # pixels per category
        metrics = QFontMetricsF(tick_font(self))
        natural = max(metrics.horizontalAdvance(c) for c in self.categories) + LABEL_GAP
        least = min(natural, metrics.horizontalAdvance(MIN_LABEL) + LABEL_GAP)
        step = max(1, math.ceil(least / per))
        ticks = []
        for i in range(0, len(self.categories), step):
            # centred on its bar: no wider than its share, nor than twice the room to an edge
            room = min(step * per - LABEL_GAP, 2 * (i - lo) * per - 2, 2 * (hi - i) * per - 2)
            ticks.append(
                (i, metrics.elidedText(self.categories[i], Qt.TextElideMode.ElideRight, room))
            )
        self.setTicks([ticks])

    def setRange(self, mn: float, mx: float) -> None:  # noqa: N802 - pyqtgraph's name
        super().setRange(mn, mx)
        self.fit_ticks()

    def resizeEvent(self, ev=None) -> None:  # noqa: ANN001, N802
        super().resizeEvent(ev)
        self.fit_ticks()


class ReportChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.categories: list[str] = []
        self.series: dict[str, list[float | None]] = {}
        self.kind = "bar"
        self.hover_text = ""
        self.items: list[pg.GraphicsObject] = []
        self.hover_label = QLabel("Point at the chart to see values", self)
        self.hover_label.setObjectName("chartHover")
        palette = QApplication.palette()
        self.amount_axis = AmountAxis(orientation="left")
        self.category_axis = CategoryAxis(orientation="bottom")
        self.plot = pg.PlotWidget(
            self, axisItems={"left": self.amount_axis, "bottom": self.category_axis}
        )
        self.plot.setObjectName("reportChart")
        self.plot.setBackground(palette.base().color())
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setTextPen(palette.text().color())
            self.plot.getAxis(side).setPen(palette.mid().color())
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        legend_bg = QColor(palette.base().color())
        legend_bg.setAlpha(220)
        self.legend = self.plot.addLegend(offset=(10, 5), brush=legend_bg)
        self.legend.setLabelTextColor(palette.text().color())
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hover_label)
        layout.addWidget(self.plot, 1)

    def clear(self) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items = []
        self.legend.clear()
        self.categories = []
        self.series = {}
        # the last report's category labels and ranges go too (they outlive its items)
        self.category_axis.set_categories([])
        self.plot.setXRange(0, 1, padding=0)
        self.plot.setYRange(0, 1, padding=0)
        self.plot.getAxis("left").setStyle(showValues=False)

    def set_result(self, result: ReportResult | None) -> None:
        self.clear()
        spec = result.spec.chart if result is not None else None
        if result is None or spec is None or result.frame.empty or spec.x not in result.frame:
            self.hover_label.setText(
                ""
                if result is None
                else "No rows to chart"
                if result.frame.empty
                else "No chart for this report"
            )
            return
        self.plot.getAxis("left").setStyle(showValues=True)
        part = result.frame.head(spec.max_points)
        # a period cut by the end date ("2026-11 (partial, to 02 Nov)") would plot as a cliff:
        # it stays in the table, labelled, and out of the chart
        partial = part[spec.x].astype(str).str.contains("(partial", regex=False)
        left_out = list(part[spec.x][partial].astype(str))
        part = part[~partial]
        self.kind = spec.kind
        self.categories = [str(v) for v in part[spec.x]]
        ys = [y for y in spec.y if y in part.columns]
        self.series = {y: [to_number(v) for v in part[y]] for y in ys}
        self._kinds = {y: column_kind(y) for y in ys}
        kinds = set(self._kinds.values())
        self.amount_axis.kind = kinds.pop() if len(kinds) == 1 else "float"
        n = len(self.categories)
        x = np.arange(n, dtype=float)
        width = 0.8 / (1 if spec.stacked or spec.kind == "line" else max(1, len(ys)))
        bottom = np.zeros(n)
        for i, y in enumerate(ys):
            values = np.array([v if v is not None else 0.0 for v in self.series[y]])
            colour = QColor(PALETTE[i % len(PALETTE)])
            if spec.kind == "line":
                item = pg.PlotDataItem(
                    x,
                    values,
                    pen=pg.mkPen(colour, width=2),
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=colour,
                    name=column_label(y),
                )
            else:
                offset = 0.0 if spec.stacked else (i - (len(ys) - 1) / 2) * width
                item = pg.BarGraphItem(
                    x=x + offset,
                    height=values,
                    y0=bottom.copy() if spec.stacked else 0,
                    width=width,
                    brush=colour,
                    pen=pg.mkPen(None),
                    name=column_label(y),
                )
                if spec.stacked:
                    bottom = bottom + values
            self.plot.addItem(item)  # named items join the legend by themselves
            self.items.append(item)
        self.legend.setColumnCount(max(1, len(ys)))
        self.legend.setVisible(len(ys) > 1)
        self.plot.setXRange(-0.6, n - 0.4, padding=0)
        self.category_axis.set_categories(self.categories)
        # Amounts are read against zero: a line from 350k to 600k must not look like a 5× rise.
        lows = [min(0.0, float(np.min(bottom if spec.stacked else 0.0)))]
        highs = [float(np.max(bottom))] if spec.stacked and n else []
        for vals in self.series.values():
            nums = [v for v in vals if v is not None]
            if nums:
                lows.append(min(nums))
                highs.append(max(nums))
        lo, hi = min(0.0, *lows), max([0.0, *highs])
        span = (hi - lo) or 1.0
        top = span * (0.22 if len(ys) > 1 else 0.08)  # room for the legend above the bars
        self.plot.setYRange(lo - (span * 0.08 if lo < 0 else 0), hi + top, padding=0)
        self.amount_axis.fit_width()  # the kind may have changed with the same range
        shown = (
            f" (first {spec.max_points} of {len(result.frame)})"
            if len(result.frame) > spec.max_points
            else ""
        )
        if left_out:
            shown += f"; not charted: {', '.join(left_out)} (see the table)"
        self.hover_label.setText("Point at the chart to see values" + shown)

    def values_at(self, index: int) -> str:
        """The text shown when the mouse is over category ``index``."""
        if not 0 <= index < len(self.categories):
            return ""
        parts = [
            f"{column_label(y)} {cell(vals[index], self._kinds[y])}"
            for y, vals in self.series.items()
        ]
        return f"{self.categories[index]}: " + ", ".join(parts)

    def _mouse_moved(self, pos: QPointF) -> None:
        if not self.categories or not self.plot.sceneBoundingRect().contains(pos):
            return
        point = self.plot.getPlotItem().vb.mapSceneToView(pos)
        index = int(round(point.x()))
        text = self.values_at(index)
        if text:
            self.hover_text = text
            self.hover_label.setText(text)
