"""One report on screen: chart above, table below, export/print/refresh, and drill-down.

The panel never runs SQL: the report is computed by ``reports.catalog.run_report`` in a pool
worker and exports run there too, with a progress bar and a Cancel button. Double-clicking a
row asks for the drill-down report (region → its stores, store → its products, product → the
stores buying it) through :attr:`ReportPanel.drill_requested`; the owner opens it in a new
window, so the manager can keep both side by side.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...domain.formatting import number
from ...domain.tasks import TaskContext
from ...reports.catalog import ReportResult, get_spec, run_report
from ...reports.export import FORMATS, export
from ...reports.filters import ReportFilters
from ..context import AppContext
from ..errors import show_error
from ..workers import Worker
from . import printing
from .chart import ReportChart
from .frame_model import FrameModel


def compute(  # noqa: ANN001
    task: TaskContext, engine, name: str, filters: ReportFilters, identity=None
) -> ReportResult:
    task.check()
    return run_report(engine, name, filters, identity=identity)


def write_export(
    task: TaskContext,
    result: ReportResult,
    fmt: str,
    path: Path,
    engine=None,  # noqa: ANN001
    identity=None,  # noqa: ANN001
) -> Path:
    """Export; with the engine the export is checked for the signed-in user and audited."""
    if engine is None:
        return export(result, fmt, path, task, identity=identity)
    from ...reports.export import export_audited

    actor = f"desktop:{identity.username}" if identity is not None else "desktop"
    return export_audited(task, engine, result, fmt, path, identity=identity, actor=actor)


class ReportPanel(QWidget):
    drill_requested = Signal(str, object)  # report name, ReportFilters
    store_requested = Signal(str)  # store code: open the store card
    loaded = Signal(object)  # ReportResult
    exported = Signal(object)  # Path

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result: ReportResult | None = None
        self.name: str | None = None
        self.filters = ReportFilters()
        self.request = 0
        self.job: Worker | None = None
        self.last_error: BaseException | None = None

        self.title = QLabel("Choose a report", self)
        self.title.setObjectName("reportTitle")
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.3)
        f.setBold(True)
        self.title.setFont(f)
        self.summary = QLabel("", self)
        self.summary.setObjectName("reportSummary")
        self.summary.setWordWrap(True)
        # what the report left out (invoice lines with implausible dates): said, not hidden
        self.note = QLabel("", self)
        self.note.setObjectName("reportNote")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setStyleSheet("color: palette(link);")
        self.note.setVisible(False)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for kind in FORMATS:
            menu.addAction(f"{kind.upper()}…", lambda kind=kind: self.choose_export(kind))
        self.export_button.setMenu(menu)
        self.print_button = QPushButton("Print…", self)
        self.print_button.clicked.connect(self.print_preview)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)
        top.addWidget(self.refresh_button)
        top.addWidget(self.export_button)
        top.addWidget(self.print_button)

        self.chart = ReportChart(self)
        self.model = FrameModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("reportTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.verticalHeader().setVisible(False)
        # Enter or a double-click on a row drills down (activated is both)
        self.table.activated.connect(self._double_clicked)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.drill_hint = QLabel("", self)
        self.drill_hint.setObjectName("drillHint")

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.chart)
        split.addWidget(self.table)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 400])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.note)
        layout.addWidget(split, 1)
        layout.addWidget(self.drill_hint)
        self._set_enabled()

    # -- running -----------------------------------------------------------------------------
    def show_report(self, name: str, filters: ReportFilters) -> None:
        spec = get_spec(name)
        self.name = name
        self.filters = filters
        self.title.setText(spec.title)
        if self.result is not None and self.result.spec.name != name:
            # another report: the last one's chart and rows go at once, not when this arrives
            self.result = None
            self.chart.set_result(None)
            self.model.set_result(None)
            self.drill_hint.setText("")
            self._set_note("")
        self.refresh()

    def refresh(self) -> None:
        if self.name is None:
            return
        self.request += 1
        request = self.request
        self.summary.setText("Computing…")
        self._busy(True, "Computing…")

        def done(result: ReportResult) -> None:
            if not self._alive() or request != self.request:  # closed, or an older answer
                return
            self._busy(False)
            self.set_result(result)

        def failed(exc: BaseException) -> None:
            if not self._alive() or request != self.request:
                return
            self._busy(False)
            self.last_error = exc
            self.summary.setText(f"Could not compute the report: {exc}")
            show_error(self, exc, "computing the report")

        self.job = self.ctx.runner.submit(
            compute,
            self.ctx.engine,
            self.name,
            self.filters,
            self.ctx.identity,
            on_done=done,
            on_error=failed,
            on_cancelled=lambda: self._alive() and self._busy(False),
            name=f"report {self.name}",
        )

    def set_result(self, result: ReportResult) -> None:
        self.result = result
        self.model.set_result(result)
        self.chart.set_result(result)
        self.table.resizeColumnsToContents()
        for col in range(self.model.columnCount()):
            self.table.setColumnWidth(col, min(self.table.columnWidth(col), 260))
        parts = [f"{k}: {v}" for k, v in result.filter_lines()] or ["all data"]
        self.summary.setText(
            f"{'; '.join(parts)} — {number(len(result.frame))} rows, "
            f"computed {result.generated_at:%H:%M:%S}"
            + (f"<br><b>No rows.</b> {result.spec.empty_reason}" if result.frame.empty else "")
        )
        self._set_note(result.note)
        drill = result.spec.drill
        self.drill_hint.setText(
            f"Enter or double-click on a row opens {get_spec(drill.report).title.lower()} for it"
            if drill
            else ""
        )
        self._set_enabled()
        self.loaded.emit(result)

    def _set_note(self, note: str) -> None:
        self.note.setText(f"Note: {note}." if note else "")
        self.note.setVisible(bool(note))

    def _alive(self) -> bool:
        """False once the window showing this panel was closed while a task ran (its answer
        then has nowhere to go)."""
        return shiboken6.isValid(self) and shiboken6.isValid(self.progress)

    def cancel(self) -> None:
        if self.job is not None and not self.job.done:
            self.job.cancel()

    def _busy(self, busy: bool, text: str = "") -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self._set_enabled(busy)

    def _set_enabled(self, busy: bool = False) -> None:
        has = self.result is not None
        self.export_button.setEnabled(has and not busy)
        self.print_button.setEnabled(has and not busy)
        self.refresh_button.setEnabled(self.name is not None and not busy)

    # -- drill-down --------------------------------------------------------------------------
    def drill_target(self, row: int) -> tuple[str, ReportFilters] | None:
        if self.result is None or self.result.spec.drill is None:
            return None
        drill = self.result.spec.drill
        if drill.column not in self.model.frame.columns:
            return None
        value = self.model.frame[drill.column].iloc[row]
        if value is None or str(value).startswith("("):  # "(none)" / "(unassigned)" groups
            return None
        return drill.report, self.filters.with_(**{drill.field: str(value)})

    def store_code_at(self, row: int) -> str | None:
        if "store_code" not in self.model.frame.columns or row < 0:
            return None
        code = self.model.frame["store_code"].iloc[row]
        return None if code is None else str(code)

    def _context_menu(self, pos) -> None:  # noqa: ANN001
        row = self.table.indexAt(pos).row()
        menu = QMenu(self)
        target = self.drill_target(row) if row >= 0 else None
        if target is not None:
            title = get_spec(target[0]).title
            menu.addAction(f"Open {title.lower()}", lambda: self.drill_requested.emit(*target))
        code = self.store_code_at(row)
        if code is not None:
            menu.addAction("Open store card", lambda: self.store_requested.emit(code))
        if not menu.isEmpty():
            menu.exec(self.table.viewport().mapToGlobal(pos))

    def _double_clicked(self, index: QModelIndex) -> None:
        target = self.drill_target(index.row())
        if target is not None:
            self.drill_requested.emit(*target)

    # -- export and print --------------------------------------------------------------------
    def choose_export(self, fmt: str) -> None:
        if self.result is None:
            return
        default = f"{self.result.spec.name}-{self.result.generated_at:%Y%m%d}.{fmt}"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export {fmt.upper()}", str(Path.home() / default), f"{fmt.upper()} (*.{fmt})"
        )
        if path:
            self.export_to(Path(path), fmt)

    def export_to(self, path: Path, fmt: str) -> None:
        """Write the shown report to ``path`` in a worker, with progress."""
        assert self.result is not None
        self._busy(True, f"Exporting {fmt.upper()}…")

        def progress(done: int, total: int, message: str) -> None:
            if not self._alive():
                return
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
            self.progress.setFormat(f"{message} %p%")

        def done(written: Path) -> None:
            if not self._alive():
                return
            self._busy(False)
            self.ctx.status(f"Exported {written.name}")
            self.exported.emit(written)

        def failed(exc: BaseException) -> None:
            if not self._alive():
                return
            self._busy(False)
            self.last_error = exc
            show_error(self, exc, f"exporting {path.name}")

        self.job = self.ctx.runner.submit(
            write_export,
            self.result,
            fmt,
            path,
            self.ctx.engine,
            self.ctx.identity,
            on_done=done,
            on_error=failed,
            on_progress=progress,
            on_cancelled=lambda: self._alive() and self._busy(False),
            name=f"export {path.name}",
        )

    def chart_image(self) -> QImage:
        return self.chart.plot.grab().toImage()

    def print_preview(self) -> None:
        if self.result is None:
            return
        printing.preview(self, self.result, self.chart_image()).exec()
