"""The manager's Zoho panel: connection, last runs, counts, parked orders, "Run now".

Everything it shows comes from :mod:`mangalm_desktop.zoho.panel` on a worker thread (the central
database and Zoho are both network calls); the view only lays results out. A second bridge
(the headless server, another manager) holding the lock is reported in words, not as a crash.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...domain.changes import Changes
from ...security.roles import Permission
from ...zoho import panel
from ...zoho.bridge import RunReport, budget_warning
from ...zoho.errors import BridgeBusy
from ..context import AppContext
from .base import View

RUN_COLUMNS = ("Started", "Requests", "Retries", "Jobs", "Stopped")
PARKED_COLUMNS = ("Order", "Store", "Zoho said")
COUNT_LABELS = {
    "stores_linked": "Stores linked",
    "products_linked": "Products linked",
    "invoices_from_zoho": "Invoices from Zoho",
    "orders_waiting": "Orders waiting",
    "orders_sent": "Orders sent",
    "orders_parked": "Orders parked",
    "orders_maybe_created": "Orders maybe created",
    "payments_waiting": "Payments waiting",
    "payments_sent": "Payments sent",
    "payments_parked": "Payments parked",
    "payments_maybe_created": "Payments maybe created",
}


def _table(parent: QWidget, name: str, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class ZohoView(View):
    view_id = "zoho"
    title = "Zoho"
    icon_name = "zoho"
    description = "The Zoho bridge: connection, last runs, counts, parked orders, Run now."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._request = 0
        self.connection = QLabel(self)
        self.connection.setObjectName("zohoConnection")
        self.run_button = QPushButton("Run now", self)
        self.run_button.setObjectName("zohoRunNow")
        self.run_button.clicked.connect(self.run_now)
        top = QHBoxLayout()
        top.addWidget(self.connection, 1)
        top.addWidget(self.run_button)

        self.message = QLabel(self)
        self.message.setObjectName("zohoMessage")
        self.message.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.counts = QLabel(self)
        self.counts.setObjectName("zohoCounts")

        self.runs = _table(self, "zohoRuns", RUN_COLUMNS)
        self.parked = _table(self, "zohoParked", PARKED_COLUMNS)
        self.retry_button = QPushButton("Send again (after fixing)", self)
        self.retry_button.setObjectName("zohoRetry")
        self.retry_button.clicked.connect(self.retry_selected)
        parked_page = QWidget(self)
        pl = QVBoxLayout(parked_page)
        pl.addWidget(self.parked, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.retry_button)
        pl.addLayout(row)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.runs, "Last runs")
        self.tabs.addTab(parked_page, "Parked orders")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.counts)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.tabs, 1)
        self._parked_numbers: list[str] = []

    # ---- data ----------------------------------------------------------------------------
    def activated(self) -> None:
        self.reload()

    def on_changes(self, changes: Changes) -> None:
        if changes.touches("orders"):
            self.reload()

    def reload(self) -> None:
        identity = self.ctx.identity
        if identity is not None and not identity.can(Permission.RUN_ZOHO):
            return  # hidden for this person (an agent signed in after a manager)
        self._request += 1
        request = self._request
        self.ctx.runner.submit(
            panel.load_panel,
            identity=identity,
            on_done=lambda data: self._apply(request, data),
            name="zoho status",
        )

    def _apply(self, request: int, data: panel.PanelData) -> None:
        if request != self._request:
            return
        self.connection.setText(data.connection)
        st = data.status
        self.run_button.setEnabled(data.connected and st is not None)
        if st is None:
            self.counts.setText("")
            self.message.setText(data.problem)
            self.runs.setRowCount(0)
            self.parked.setRowCount(0)
            return
        self.counts.setText(
            "   ".join(f"{COUNT_LABELS[k]}: {v:,}" for k, v in st.counts.items())
            + f"   Requests today: {st.budget_used_today:,} of {data.daily_budget:,}"
        )
        if st.first_pull_needs and st.first_pull_needs > data.daily_budget:
            self.message.setText(budget_warning(st.first_pull_needs, data.daily_budget))
        self.runs.setRowCount(len(st.runs))
        for r, run in enumerate(st.runs):
            jobs = ", ".join(
                f"{j['job']} {j['sent'] or j['created'] + j['updated']}"
                + (" ERROR" if j.get("error") else "")
                for j in run.get("jobs", [])
            )
            values = (
                run.get("started_at", ""),
                f"{run.get('requests', 0):,}",
                str(run.get("retries", 0)),
                jobs,
                run.get("stopped") or "",
            )
            for c, value in enumerate(values):
                self.runs.setItem(r, c, QTableWidgetItem(str(value)))
        self._parked_numbers = [p.number for p in st.parked]
        self.parked.setRowCount(len(st.parked))
        for r, p in enumerate(st.parked):
            for c, value in enumerate((p.number, p.store, p.error)):
                self.parked.setItem(r, c, QTableWidgetItem(value))
        self.tabs.setTabText(1, f"Parked orders ({len(st.parked)})")
        self.retry_button.setEnabled(bool(st.parked))

    # ---- actions ------------------------------------------------------------------------
    def run_now(self) -> None:
        self.run_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.message.setText("Running the Zoho bridge…")
        self.ctx.runner.submit(
            panel.run_now,
            identity=self.ctx.identity,
            write=False,
            on_done=self._run_done,
            on_error=self._run_failed,
            on_progress=self._on_progress,
            name="zoho run",
        )

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.message.setText(f"{message}: {done:,}" + (f" of {total:,}" if total else ""))

    def _run_done(self, report: RunReport) -> None:
        self.progress.setVisible(False)
        errors = [f"{r.job}: {r.error}" for r in report.results if r.error]
        sent = sum(r.sent for r in report.results)
        parked = sum(r.parked for r in report.results)
        waiting = sum(r.waiting for r in report.results)
        text = f"Done: {report.requests:,} requests, {sent} orders sent, {parked} parked."
        if waiting:
            text += f" {waiting} maybe created in Zoho (looked up again next run)."
        if report.stopped:
            text += f" Stopped early ({report.stopped})."
        self.message.setText(text + (" " + "; ".join(errors) if errors else ""))
        self.ctx.status("Zoho bridge run finished")
        self.reload()

    def _released(self, n: int) -> None:
        self.message.setText(f"{n} order(s) will be sent on the next run.")
        self.reload()

    def _run_failed(self, exc: BaseException) -> None:
        self.progress.setVisible(False)
        if isinstance(exc, BridgeBusy):
            self.message.setText(
                "Another Zoho bridge is running right now (a server or another manager); "
                "nothing was done here."
            )
        else:
            self.message.setText(f"The Zoho run failed: {exc}")
        self.reload()

    def retry_selected(self) -> None:
        rows = sorted({i.row() for i in self.parked.selectedIndexes()})
        numbers = [self._parked_numbers[r] for r in rows if r < len(self._parked_numbers)]
        self.retry_button.setEnabled(False)
        self.ctx.runner.submit(
            panel.release_parked,
            numbers or None,
            identity=self.ctx.identity,
            on_done=self._released,
            on_error=self._run_failed,
            name="zoho retry",
        )
