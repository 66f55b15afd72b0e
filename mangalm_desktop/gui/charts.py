"""Weekly sales chart (pyqtgraph): bars per week, a range selector, values on hover.

Colours follow the application palette, so the chart reads well in light and dark mode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..db.queries.store_detail import WeekPoint
from ..domain import formatting as fmt
from .reporting.chart import AmountAxis

RANGES: list[tuple[str, int | None]] = [
    ("Last 13 weeks", 13),
    ("Last 26 weeks", 26),
    ("Last 52 weeks", 52),
    ("Last 2 years", 104),
    ("All history", None),
]
WEEK_SECONDS = 7 * 86400
EPOCH = dt.date(1970, 1, 1)


def fill_weeks(points: Sequence[WeekPoint], end: dt.date) -> list[WeekPoint]:
    """Every week from the first to ``end``'s week, zero where nothing was bought (honest gaps)."""
    if not points:
        return []
    by_week = {p.week: p for p in points}
    last = end - dt.timedelta(days=end.weekday())
    week = points[0].week
    out = []
    while week <= last:
        out.append(by_week.get(week, WeekPoint(week, Decimal("0.00"), 0)))
        week += dt.timedelta(weeks=1)
    return out


class WeeklySalesChart(QWidget):
    def __init__(self, parent: QWidget | None = None, default_range: int = 2) -> None:
        super().__init__(parent)
        self.all_weeks: list[WeekPoint] = []
        self.shown: list[WeekPoint] = []
        self.range_combo = QComboBox(self)
        self.range_combo.setObjectName("chartRange")
        for label, weeks in RANGES:
            self.range_combo.addItem(label, weeks)
        self.range_combo.setCurrentIndex(default_range)
        self.hover_label = QLabel("Point at a bar to see its week", self)
        self.hover_label.setObjectName("hoverLabel")
        self.total_label = QLabel("", self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Weekly sales", self))
        top.addWidget(self.range_combo)
        top.addSpacing(12)
        top.addWidget(self.total_label)
        top.addStretch(1)

        palette = QApplication.palette()
        self.plot = pg.PlotWidget(  # no context menu: it costs a third of the chart's build time
            self,
            axisItems={
                "bottom": pg.DateAxisItem(orientation="bottom"),
                "left": AmountAxis("left", "money"),  # ₹12,500 / ₹4.5 L, as every chart reads
            },
            enableMenu=False,
        )
        self.plot.setObjectName("weeklyChart")
        self.plot.setBackground(palette.base().color())
        text_color = palette.text().color()
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTextPen(text_color)
            self.plot.getAxis(axis).setPen(palette.mid().color())
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.getAxis("left").setWidth(56)
        self.highlight = palette.highlight().color()
        self.bars: pg.BarGraphItem | None = None
        self.cursor_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(text_color, width=1)
        )
        self.cursor_line.setVisible(False)
        self.plot.addItem(self.cursor_line, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hover_label)
        self.range_combo.currentIndexChanged.connect(lambda _i: self._redraw())

    def set_weeks(self, weeks: Sequence[WeekPoint], end: dt.date) -> None:
        self.all_weeks = fill_weeks(weeks, end)
        self._redraw()

    def _redraw(self) -> None:
        limit = self.range_combo.currentData()
        self.shown = self.all_weeks[-limit:] if limit else list(self.all_weeks)
        if self.bars is not None:
            self.plot.removeItem(self.bars)
            self.bars = None
        total = sum((w.value for w in self.shown), Decimal("0.00"))
        self.total_label.setText(f"Total {fmt.money(total, paise=False)}")
        if not self.shown:
            self.hover_label.setText("No sales in this period")
            return
        x = np.array([(w.week - EPOCH).days * 86400 + WEEK_SECONDS / 2 for w in self.shown])
        y = np.array([float(w.value) for w in self.shown])
        self.bars = pg.BarGraphItem(
            x=x, height=y, width=WEEK_SECONDS * 0.8, brush=self.highlight, pen=pg.mkPen(None)
        )
        self.plot.addItem(self.bars)
        self.plot.setXRange(x[0] - WEEK_SECONDS, x[-1] + WEEK_SECONDS, padding=0)
        self.plot.setYRange(0, max(float(y.max()), 1.0) * 1.08, padding=0)

    def week_at(self, x_seconds: float) -> WeekPoint | None:
        if not self.shown:
            return None
        day = EPOCH + dt.timedelta(seconds=float(x_seconds))
        monday = day - dt.timedelta(days=day.weekday())
        for w in self.shown:
            if w.week == monday:
                return w
        return None

    def hover_text(self, week: WeekPoint) -> str:
        return (
            f"Week of {fmt.day(week.week)}: {fmt.money(week.value, paise=False)}"
            f" · {fmt.number(week.quantity)} units"
        )

    def _mouse_moved(self, pos: QPointF) -> None:
        view = self.plot.getPlotItem().vb
        if not self.plot.sceneBoundingRect().contains(pos):
            return
        point = view.mapSceneToView(pos)
        week = self.week_at(point.x())
        if week is None:
            self.cursor_line.setVisible(False)
            return
        self.cursor_line.setPos((week.week - EPOCH).days * 86400 + WEEK_SECONDS / 2)
        self.cursor_line.setVisible(True)
        self.hover_label.setText(self.hover_text(week))

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        if event.key() == Qt.Key.Key_Escape:
            self.cursor_line.setVisible(False)
        super().keyPressEvent(event)
