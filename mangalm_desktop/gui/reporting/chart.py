"""The report chart (pyqtgraph): bars or lines from the report's ChartSpec, a legend, and the
values of the category under the mouse in a label above the plot."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from ...domain.formatting import Kind, axis, cell, to_number
from ...reports.catalog import ReportResult, column_kind, column_label

PALETTE = ["#2F5597", "#C55A11", "#548235", "#7030A0", "#BF9000", "#2E75B6"]
MAX_TICKS = 16


class AmountAxis(pg.AxisItem):
    """Left axis labels as a manager reads them: ₹12,500 / ₹4.5 L / ₹1.2 Cr, not 1.2e+07."""

    def __init__(self, orientation: str, kind: Kind = "float") -> None:
        super().__init__(orientation)
        self.kind: Kind = kind  # the plotted columns' kind (a report sets it with each result)
        self.enableAutoSIPrefix(False)  # ₹1.5 L on the tick, never "(x1e+05)" on the axis

    def tickStrings(self, values, scale, spacing) -> list[str]:  # noqa: ANN001, N802
        decimals = 2 if spacing * scale < 1 else 0
        return [axis(v * scale, self.kind, decimals=decimals) for v in values]


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
        palette = (QApplication.instance() or self).palette()
        self.amount_axis = AmountAxis(orientation="left")
        self.plot = pg.PlotWidget(self, axisItems={"left": self.amount_axis})
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
        self.plot.getAxis("bottom").setTicks(None)
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
        longest = max((len(c) for c in self.categories), default=1)
        max_ticks = max(3, min(MAX_TICKS, int(MAX_TICKS * 6 / max(6, min(longest, 16)))))
        step = max(1, int(np.ceil(n / max_ticks)))
        ticks = [(i, self.categories[i][:16]) for i in range(0, n, step)]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setXRange(-0.6, n - 0.4, padding=0)
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
