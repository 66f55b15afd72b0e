"""Reports: pick a report and filters, see chart + table, drill down, export, print.

The left column chooses the report and its filters; the right shows it (a
:class:`~mangalm_desktop.gui.reporting.panel.ReportPanel`). "Open in new window" and every
drill-down open a separate :class:`ReportWindow`, so a manager can compare, say, North's stores
with South's side by side. All queries and exports run in the task runner's workers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...domain.changes import Changes
from ...domain.errors import UserError
from ...reports.catalog import REPORTS
from ...reports.filters import PERIODS, ReportFilters
from ...reports.options import FilterChoices, filter_choices, store_id_for
from ..context import AppContext
from ..errors import show_error
from ..reporting.panel import ReportPanel
from ..reporting.window import ReportWindow
from .base import View

ALL = "All"
FILTER_FIELDS = ("region", "agent", "brand", "category", "store", "product")
USES = {
    "region": "region",
    "agent": "agent",
    "brand": "brand",
    "category": "category",
    "store": "store",
    "product": "product",
}


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


class ReportsView(View):
    view_id = "reports"
    title = "Reports"
    icon_name = "reports"
    description = "Sales, agents, forecast accuracy and balances: charts, drill-down, export."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.windows: list[ReportWindow] = []
        self.choices: FilterChoices | None = None
        self._choices_loading = False

        self.report_list = QListWidget(self)
        self.report_list.setObjectName("reportList")
        for name, spec in REPORTS.items():
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(spec.description)
            self.report_list.addItem(item)
        self.report_list.setCurrentRow(0)
        self.report_list.currentRowChanged.connect(self._report_changed)
        self.report_list.itemDoubleClicked.connect(lambda _i: self.show_report())

        today = ctx.today()
        self.use_from = QCheckBox("From", self)
        self.use_from.setChecked(True)
        self.date_from = QDateEdit(_qdate(today - dt.timedelta(days=364)), self)
        self.use_to = QCheckBox("To", self)
        self.use_to.setChecked(True)
        self.date_to = QDateEdit(_qdate(today), self)
        for de in (self.date_from, self.date_to):
            de.setCalendarPopup(True)
            de.setDisplayFormat("yyyy-MM-dd")
        self.use_from.toggled.connect(self.date_from.setEnabled)
        self.use_to.toggled.connect(self.date_to.setEnabled)

        self.combos: dict[str, QComboBox] = {}
        form = QFormLayout()
        form.addRow(self.use_from, self.date_from)
        form.addRow(self.use_to, self.date_to)
        for field in FILTER_FIELDS:
            combo = QComboBox(self)
            combo.setObjectName(f"filter_{field}")
            combo.addItem(ALL, None)
            if field in ("store", "product"):
                combo.setEditable(True)
                combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            self.combos[field] = combo
            form.addRow(field.capitalize(), combo)
        self.period = QComboBox(self)
        self.period.setObjectName("filter_period")
        self.period.addItems(list(PERIODS))
        self.period.setCurrentText("month")
        form.addRow("Period", self.period)

        self.show_button = QPushButton("Show", self)
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.show_report)
        self.window_button = QPushButton("Open in new window", self)
        self.window_button.clicked.connect(lambda: self.open_window())
        self.description = QLabel("", self)
        self.description.setWordWrap(True)
        self.description.setObjectName("reportDescription")

        left = QWidget(self)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("<b>Report</b>", left))
        lv.addWidget(self.report_list, 1)
        lv.addWidget(self.description)
        lv.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.window_button)
        lv.addLayout(buttons)

        self.panel = ReportPanel(ctx, self)
        self.panel.drill_requested.connect(self.open_window)
        self.panel.store_requested.connect(self.open_store)
        self.store_windows: list[QWidget] = []
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(self.panel)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 900])
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._report_changed(0)

    # -- data --------------------------------------------------------------------------------
    def activated(self) -> None:
        if self.choices is None and not self._choices_loading:
            self.load_choices()
        if self.panel.name is None:  # open on the chosen report with its result, not blank
            self.show_report()

    def load_choices(self) -> None:
        self._choices_loading = True
        self.ctx.runner.submit(
            lambda _task, engine: filter_choices(engine),
            self.ctx.engine,
            on_done=self._fill_choices,
            name="report filter values",
        )

    def _fill_choices(self, choices: FilterChoices) -> None:
        self._choices_loading = False
        self.choices = choices
        values: dict[str, list[tuple[str, str]]] = {
            "region": [(r, r) for r in choices.regions],
            "agent": [(f"{n} ({c})", c) for c, n in choices.agents],
            "brand": [(b, b) for b in choices.brands],
            "category": [(c, c) for c in choices.categories],
            "store": [(f"{n} ({c})", c) for c, n in choices.stores],
            "product": [(f"{n} ({s})", s) for s, n in choices.products],
        }
        for field, items in values.items():
            combo = self.combos[field]
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ALL, None)
            for label, value in items:
                combo.addItem(label, value)
            if current is not None:
                self.set_filter(field, current)
            combo.blockSignals(False)

    def on_changes(self, changes: Changes) -> None:
        if any(changes.touches(t) for t in ("store", "product", "agent")):
            self.choices = None
            if self.isVisible():
                self.load_choices()

    # -- filters -----------------------------------------------------------------------------
    def set_filter(self, field: str, value: str | None) -> None:
        """Select ``value`` (a code/SKU/name) in a filter box; None selects All."""
        combo = self.combos[field]
        i = combo.findData(value) if value is not None else 0
        if i < 0:
            combo.addItem(value, value)  # type: ignore[arg-type]
            i = combo.count() - 1
        combo.setCurrentIndex(i)

    def set_dates(self, date_from: dt.date | None, date_to: dt.date | None) -> None:
        self.use_from.setChecked(date_from is not None)
        self.use_to.setChecked(date_to is not None)
        if date_from is not None:
            self.date_from.setDate(_qdate(date_from))
        if date_to is not None:
            self.date_to.setDate(_qdate(date_to))

    def current_name(self) -> str:
        item = self.report_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else next(iter(REPORTS))

    def select_report(self, name: str) -> None:
        for i in range(self.report_list.count()):
            if self.report_list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.report_list.setCurrentRow(i)
                return
        raise KeyError(name)

    def current_filters(self) -> ReportFilters:
        def value(field: str) -> str | None:
            combo = self.combos[field]
            if not combo.isEnabled():
                return None
            data = combo.currentData()
            if data is None and combo.isEditable():  # typed text not from the list
                text = combo.currentText().strip()
                return None if text in ("", ALL) else text
            return data

        return ReportFilters(
            date_from=self.date_from.date().toPython()
            if self.use_from.isChecked() and self.use_from.isEnabled()
            else None,
            date_to=self.date_to.date().toPython() if self.use_to.isChecked() else None,
            period=self.period.currentText(),  # type: ignore[arg-type]
            **{f: value(f) for f in FILTER_FIELDS},
        )

    def _report_changed(self, _row: int) -> None:
        spec = REPORTS[self.current_name()]
        self.description.setText(spec.description)
        for field, combo in self.combos.items():
            combo.setEnabled(field in spec.uses)
        self.period.setEnabled(spec.name in ("sales-by-period", "forecast-accuracy-by-period"))
        self.use_from.setEnabled(not spec.as_of_only)
        self.date_from.setEnabled(not spec.as_of_only and self.use_from.isChecked())
        self.use_to.setText("As of" if spec.as_of_only else "To")

    # -- actions -----------------------------------------------------------------------------
    def show_report(self) -> None:
        try:
            filters = self.current_filters()
        except UserError as exc:
            show_error(self, exc, "reading the filters")
            return
        self.panel.show_report(self.current_name(), filters)

    def open_window(
        self, name: str | None = None, filters: ReportFilters | None = None
    ) -> ReportWindow | None:
        try:
            filters = filters if filters is not None else self.current_filters()
        except UserError as exc:
            show_error(self, exc, "reading the filters")
            return None
        window = ReportWindow(self.ctx, name or self.current_name(), filters)
        window.panel.drill_requested.connect(self.open_window)
        window.panel.store_requested.connect(self.open_store)
        window.closed.connect(self._window_closed)
        self.windows.append(window)
        window.show()
        return window

    def open_store(self, code: str) -> None:
        """Drill from a report row to the store card (the Stores view's detail window)."""

        def opened(store_id: uuid.UUID | None) -> None:
            if store_id is None:
                show_error(self, UserError(f"no store called {code!r}"), "opening the store")
                return
            from .store_detail import StoreDetailWindow

            window = StoreDetailWindow(self.ctx, store_id)
            self.store_windows.append(window)
            window.destroyed.connect(lambda *_: self._forget_store(window))
            window.show()

        self.ctx.runner.submit(
            lambda _task, engine, code: store_id_for(engine, code),
            self.ctx.engine,
            code,
            on_done=opened,
            name="finding the store",
        )

    def _forget_store(self, window: QWidget) -> None:
        if window in self.store_windows:
            self.store_windows.remove(window)

    def _window_closed(self, window: ReportWindow) -> None:
        if window in self.windows:
            self.windows.remove(window)

    def save_state(self, settings: QSettings) -> None:
        settings.setValue(self.settings_key("report"), self.current_name())
        settings.setValue(self.settings_key("splitter"), self.splitter.saveState())

    def restore_state(self, settings: QSettings) -> None:
        name = settings.value(self.settings_key("report"))
        if isinstance(name, str) and name in REPORTS:
            self.select_report(name)
        state = settings.value(self.settings_key("splitter"))
        if state is not None:
            with contextlib.suppress(TypeError):
                self.splitter.restoreState(state)

    def self_test(self) -> None:
        if self.report_list.count() != len(REPORTS):
            raise RuntimeError("report list incomplete")

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        for w in [*self.windows, *self.store_windows]:
            w.close()
        super().closeEvent(event)
