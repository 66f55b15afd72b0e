"""The Collections view: payments collected, filtered by status; managers approve or reject;
anyone saves a receipt (docs/collections.md). Reads and writes run in workers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...domain import formatting as fmt
from ...domain.changes import Changes
from ...domain.identity import Permission
from ...payments import queries, service
from ...payments.model import MODE_LABEL
from ..context import AppContext
from ..payment_panel import PAYMENT_CHANGES, save_receipt_for
from ..workers import Written
from .base import View

COLUMNS = ("Receipt", "Date", "Status", "Agent", "Store", "Mode", "Reference", "Amount", "Zoho")
STATUSES = (
    ("Awaiting approval", "collected"),
    ("Approved", "approved"),
    ("Rejected", "rejected"),
    ("All", None),
)


class CollectionsView(View):
    view_id = "collections"
    title = "Collections"
    icon_name = "collections"
    description = "Payments collected from stores; approve them, print receipts"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.rows: list[queries.PaymentRow] = []
        self._request = 0
        self.status_combo = QComboBox(self)
        self.status_combo.setObjectName("collectionsStatus")
        for text, value in STATUSES:
            self.status_combo.addItem(text, value)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("collectionsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.approve_button = QPushButton("&Approve", self)
        self.approve_button.setObjectName("approvePayment")
        self.reject_button = QPushButton("Re&ject…", self)
        self.reject_button.setObjectName("rejectPayment")
        self.receipt_button = QPushButton("Save &receipt…", self)
        self.receipt_button.setObjectName("collectionsReceipt")
        self.message = QLabel("", self)
        self.message.setObjectName("collectionsMessage")
        self.message.setWordWrap(True)
        manager = ctx.identity is None or ctx.identity.can(Permission.APPROVE_PAYMENTS)
        self.approve_button.setVisible(manager)
        self.reject_button.setVisible(manager)
        top = QHBoxLayout()
        show_label = QLabel("&Show", self)
        show_label.setBuddy(self.status_combo)  # Alt+S; without a buddy Qt shows the "&"
        top.addWidget(show_label)
        top.addWidget(self.status_combo)
        top.addStretch(1)
        for b in (self.approve_button, self.reject_button, self.receipt_button):
            top.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self.status_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.table.itemSelectionChanged.connect(lambda: self._selection_changed())
        self.approve_button.clicked.connect(lambda: self.approve())
        self.reject_button.clicked.connect(lambda: self.reject())
        self.receipt_button.clicked.connect(lambda: self.save_receipt())
        self._selection_changed()

    # ---- data --------------------------------------------------------------------------------
    def activated(self) -> None:
        self.reload()

    def on_changes(self, changes: Changes) -> None:
        if changes.touches("payment"):
            self.reload()

    def reload(self) -> None:
        self._request += 1
        request = self._request
        engine, identity, status = (
            self.ctx.engine,
            self.ctx.identity,
            self.status_combo.currentData(),
        )
        self.ctx.runner.submit(
            lambda _c: queries.list_payments(engine, identity, status=status),
            on_done=lambda rows: self._show(request, rows),
            on_error=lambda exc: self.message.setText(str(exc)),
            name="listing payments",
        )

    def _show(self, request: int, rows: list[queries.PaymentRow]) -> None:
        if request != self._request:
            return
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = (
                r.number,
                fmt.day(r.received_on),
                r.status,
                r.agent_code,
                r.store_name,
                MODE_LABEL.get(r.mode, r.mode),
                r.reference or "",
                fmt.money(r.amount),
                r.zoho_payment_id or (f"parked: {r.zoho_error}" if r.zoho_error else ""),
            )
            for col, text in enumerate(cells):
                self.table.setItem(i, col, QTableWidgetItem(text))
        total = sum((r.amount for r in rows), Decimal("0.00"))
        self.message.setText(f"{len(rows)} payments, {fmt.money(total)}")
        self._selection_changed()

    def selected(self) -> queries.PaymentRow | None:
        picked = self.table.selectionModel().selectedRows()
        return self.rows[picked[0].row()] if picked else None

    def _selection_changed(self) -> None:
        row = self.selected()
        waiting = row is not None and row.status == "collected"
        self.approve_button.setEnabled(waiting)
        self.reject_button.setEnabled(waiting)
        self.receipt_button.setEnabled(row is not None)

    # ---- actions -----------------------------------------------------------------------------
    def _decide(self, fn, number: str, **kwargs: str) -> None:  # noqa: ANN001 - a service fn
        engine, identity = self.ctx.engine, self.ctx.identity
        self.ctx.runner.submit(
            lambda _c: Written(
                fn(engine, identity, number, **kwargs), Changes.of(*PAYMENT_CHANGES)
            ),
            write=True,
            on_done=lambda w: self.message.setText(f"{w.value.number}: {w.value.status}"),
            on_error=lambda exc: self.message.setText(str(exc)),
            name="deciding a payment",
        )

    def approve(self) -> None:
        row = self.selected()
        if row is not None:
            self._decide(service.approve, row.number)

    def reject(self) -> None:
        row = self.selected()
        if row is None:
            return
        reason, ok = QInputDialog.getText(
            self, "Reject payment", f"Why is {row.number} rejected (e.g. cheque bounced)?"
        )
        if ok:
            self._decide(service.reject, row.number, reason=reason)

    def save_receipt(self) -> None:
        row = self.selected()
        if row is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save receipt", f"{row.number}.pdf", "PDF (*.pdf)"
        )
        if path:
            save_receipt_for(self.ctx, row.payment_id, Path(path), self.message)
