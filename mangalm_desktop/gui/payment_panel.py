"""Payment entry: a panel to embed (the call screen) and the dialog around it (a store card).

:class:`PaymentPanel` shows the store's open invoices (balance after collections, how late),
takes amount, mode, reference, cheque date and how much of each invoice the payment settles
(typed, or "Settle oldest first"), and a promise to pay. It never writes: a host asks
:meth:`PaymentPanel.payment_input` / :meth:`promise_input` and saves them in its own
transaction with ``payments.service.record_payment(session, identity, ...)`` — the call screen
saves order and payment together. :class:`PaymentDialog` is the standalone host: it saves with
``record_payment_now`` on the writer and then offers the receipt PDF.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..db.engine import session_scope
from ..domain import formatting as fmt
from ..domain.changes import Changes
from ..domain.enums import PaymentMode
from ..domain.errors import UserError
from ..payments import queries, receipt, service
from ..payments.model import MODE_LABEL, AllocationInput, PaymentInput, PromiseInput
from .context import AppContext
from .workers import Written

ZERO = Decimal("0.00")
PAYMENT_CHANGES = ("payment", "payment_allocation", "payment_promise", "outbox", "audit_log")


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> dt.date:
    return dt.date(q.year(), q.month(), q.day())


def parse_amount(text: str, what: str) -> Decimal | None:
    """``1,250.50`` or ``₹1,250.50`` → Decimal; blank → None; anything else: words."""
    cleaned = text.replace(",", "").replace("₹", "").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise UserError(f"{what} {text!r} is not an amount (e.g. 2500 or 2,500.50).") from None
    if not value.is_finite():
        raise UserError(f"{what} {text!r} is not an amount.")
    return value


class PaymentPanel(QWidget):
    """Everything about one payment for one store; embeddable (it never saves by itself)."""

    loaded = Signal()

    def __init__(self, ctx: AppContext, store_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentPanel")
        self.ctx, self.store_id = ctx, store_id
        self.dues: queries.StoreDues | None = None
        self._request = 0
        self.summary = QLabel("Loading the store's invoices…", self)
        self.summary.setObjectName("paymentSummary")
        self.summary.setWordWrap(True)
        self.amount = QLineEdit(self)
        self.amount.setObjectName("paymentAmount")
        self.amount.setPlaceholderText("₹ received (blank: no payment)")
        self.mode = QComboBox(self)
        self.mode.setObjectName("paymentMode")
        for mode in PaymentMode:
            self.mode.addItem(MODE_LABEL[mode.value], mode.value)
        self.reference = QLineEdit(self)
        self.reference.setObjectName("paymentReference")
        self.reference.setPlaceholderText("cheque no., UPI transaction id or UTR")
        self.cheque_date = QDateEdit(self)
        self.cheque_date.setObjectName("chequeDate")
        self.cheque_date.setCalendarPopup(True)
        self.cheque_date.setDisplayFormat("dd MMM yyyy")
        self.cheque_date.setDate(_qdate(ctx.today()))
        self.notes = QLineEdit(self)
        self.notes.setObjectName("paymentNotes")
        self.invoices = QTableWidget(0, 5, self)
        self.invoices.setObjectName("openInvoices")
        self.invoices.setHorizontalHeaderLabels(["Invoice", "Date", "Owed", "Late", "Settle ₹"])
        self.invoices.verticalHeader().setVisible(False)
        self.invoices.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.invoices.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.oldest_button = QPushButton("Settle &oldest first", self)
        self.oldest_button.setObjectName("settleOldest")
        self.promise_check = QCheckBox("&Promise to pay", self)
        self.promise_check.setObjectName("promiseCheck")
        self.promise_amount = QLineEdit(self)
        self.promise_amount.setObjectName("promiseAmount")
        self.promise_amount.setPlaceholderText("₹")
        self.promise_date = QDateEdit(self)
        self.promise_date.setObjectName("promiseDate")
        self.promise_date.setCalendarPopup(True)
        self.promise_date.setDisplayFormat("dd MMM yyyy")
        self.promise_date.setDate(_qdate(ctx.today() + dt.timedelta(days=7)))
        promise_row = QHBoxLayout()
        for w in (self.promise_check, self.promise_amount, QLabel("by", self), self.promise_date):
            promise_row.addWidget(w)
        form = QFormLayout()
        form.addRow("&Amount", self.amount)
        form.addRow("&Mode", self.mode)
        form.addRow("&Reference", self.reference)
        form.addRow("Cheque &date", self.cheque_date)
        form.addRow("N&otes", self.notes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.invoices, 1)
        layout.addWidget(self.oldest_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(promise_row)
        self.mode.currentIndexChanged.connect(lambda _i: self._mode_changed())
        self.oldest_button.clicked.connect(lambda: self.settle_oldest_first())
        self.promise_check.toggled.connect(lambda _on: self._promise_toggled())
        self._mode_changed()
        self._promise_toggled()
        self.load()

    # ---- data --------------------------------------------------------------------------------
    def load(self) -> None:
        self._request += 1
        request = self._request
        engine, store_id, today = self.ctx.engine, self.store_id, self.ctx.today()
        identity = self.ctx.identity

        def read(_c: object) -> queries.StoreDues:
            with session_scope(engine) as s:
                return queries.store_dues(s, identity, store_id, today)

        self.ctx.runner.submit(
            read,
            on_done=lambda dues: self._show(request, dues),
            on_error=lambda exc: self.summary.setText(str(exc)),
            name="reading the store's invoices",
        )

    def _show(self, request: int, dues: queries.StoreDues) -> None:
        if request != self._request:
            return  # an older answer
        self.dues = dues
        b = dues.balance
        late = f"; overdue {fmt.money(b.overdue)} on {b.overdue_invoices}" if b.overdue else ""
        self.summary.setText(f"{dues.store_name} owes {fmt.money(b.outstanding)}{late}.")
        today = self.ctx.today()
        self.invoices.setRowCount(len(dues.invoices))
        for row, inv in enumerate(dues.invoices):
            days = inv.days_overdue(today)
            cells = [
                inv.number,
                fmt.day(inv.invoice_date),
                fmt.money(inv.open),
                f"{days} days" if days > 0 else "not due",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.invoices.setItem(row, col, item)
            self.invoices.setItem(row, 4, QTableWidgetItem(""))
        self.loaded.emit()

    def _mode_changed(self) -> None:
        cheque = self.mode.currentData() == PaymentMode.CHEQUE.value
        self.cheque_date.setEnabled(cheque)
        self.reference.setEnabled(self.mode.currentData() != PaymentMode.CASH.value)

    def _promise_toggled(self) -> None:
        on = self.promise_check.isChecked()
        self.promise_amount.setEnabled(on)
        self.promise_date.setEnabled(on)

    def settle_oldest_first(self) -> None:
        """Spread the amount over the open invoices, oldest first (what most stores mean)."""
        if self.dues is None:
            return
        try:
            left = parse_amount(self.amount.text(), "The amount") or ZERO
        except UserError:
            return
        for row, inv in enumerate(self.dues.invoices):
            part = min(left, inv.open) if left > 0 else ZERO
            left -= part
            self._settle_cell(row).setText(f"{part:.2f}" if part else "")

    def _settle_cell(self, row: int) -> QTableWidgetItem:
        item = self.invoices.item(row, 4)
        if item is None:  # cleared by a person (Delete on the cell): an empty one again
            item = QTableWidgetItem("")
            self.invoices.setItem(row, 4, item)
        return item

    # ---- what a host saves -------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self.amount.text().strip()

    def payment_input(self) -> PaymentInput | None:
        """The payment as entered, or None if no amount was typed; UserError for bad text."""
        amount = parse_amount(self.amount.text(), "The amount")
        if amount is None:
            return None
        allocations = []
        for row, inv in enumerate(self.dues.invoices if self.dues else []):
            part = parse_amount(self._settle_cell(row).text(), f"The amount for {inv.number}")
            if part is not None and part != 0:
                allocations.append(AllocationInput(inv.invoice_id, part))
        mode = self.mode.currentData()
        return PaymentInput(
            store_id=self.store_id,
            amount=amount,
            mode=mode,
            received_on=self.ctx.today(),
            reference=self.reference.text() if mode != PaymentMode.CASH.value else None,
            cheque_date=_pydate(self.cheque_date.date())
            if mode == PaymentMode.CHEQUE.value
            else None,
            notes=self.notes.text(),
            allocations=allocations,
        )

    def promise_input(self) -> PromiseInput | None:
        if not self.promise_check.isChecked():
            return None
        amount = parse_amount(self.promise_amount.text(), "The promised amount")
        if amount is None:
            raise UserError("Type the promised amount, or untick 'Promise to pay'.")
        return PromiseInput(self.store_id, amount, _pydate(self.promise_date.date()))


class PaymentDialog(QDialog):
    """Record a payment (and/or a promise) for one store; then save its receipt."""

    def __init__(
        self, ctx: AppContext, store_id: uuid.UUID, store_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("paymentDialog")
        self.setWindowTitle(f"Payment — {store_name}")
        self.resize(620, 520)
        self.ctx = ctx
        self.result_number: str | None = None
        self.payment_id: uuid.UUID | None = None
        self.panel = PaymentPanel(ctx, store_id, self)
        self.error = QLabel("", self)
        self.error.setObjectName("paymentError")
        self.error.setStyleSheet("color: #c62828")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        self.receipt_button = self.buttons.addButton(
            "Save &receipt…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.receipt_button.setObjectName("saveReceipt")
        self.receipt_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(lambda: self.save())
        self.buttons.rejected.connect(self.reject)
        self.receipt_button.clicked.connect(lambda: self.save_receipt())

    def save(self) -> None:
        try:
            data = self.panel.payment_input()
            promise = self.panel.promise_input()
        except UserError as exc:
            self.error.setText(str(exc))
            return
        if data is None and promise is None:
            self.error.setText("Type the amount received, or tick 'Promise to pay'.")
            return
        engine, identity, today = self.ctx.engine, self.ctx.identity, self.ctx.today()

        def write(_c: object) -> Written:
            with session_scope(engine) as s:  # payment and promise: one transaction
                res = service.record_payment(s, identity, data, today=today) if data else None
                if promise is not None:
                    service.record_promise(s, identity, promise, today=today)
            return Written(res, Changes.of(*PAYMENT_CHANGES))

        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
        self.ctx.runner.submit(
            write,
            write=True,
            on_done=self._saved,
            on_error=self._failed,
            name="recording the payment",
        )

    def _failed(self, exc: BaseException) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(True)
        self.error.setText(str(exc))

    def _saved(self, done: Written) -> None:
        res = done.value
        self.error.setStyleSheet("color: #2e7d32")
        if res is None:
            self.error.setText("Promise to pay recorded.")
            self.ctx.status("Promise to pay recorded")
            return
        self.result_number, self.payment_id = res.number, res.payment_id
        self.error.setText(
            f"Saved as receipt {res.number}: {fmt.money(res.amount)}, awaiting approval."
        )
        self.ctx.status(f"Payment {res.number} recorded")
        self.receipt_button.setEnabled(True)
        self.receipt_button.setFocus()

    def save_receipt(self) -> None:
        if self.payment_id is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save receipt", f"{self.result_number}.pdf", "PDF (*.pdf)"
        )
        if path:
            save_receipt_for(self.ctx, self.payment_id, Path(path), self.error)


def save_receipt_for(
    ctx: AppContext, payment_id: uuid.UUID, path: Path, label: QLabel | None = None
) -> None:
    """Write a payment's receipt PDF in the background; say where it went."""
    engine, identity = ctx.engine, ctx.identity

    def write(_c: object) -> Path:
        with session_scope(engine) as s:
            detail = queries.payment_detail(s, identity, payment_id)
        return receipt.save_receipt_pdf(detail, path)

    def done(p: Path) -> None:
        ctx.status(f"Receipt saved to {p}")
        if label is not None:
            label.setText(f"Receipt saved to {p}")

    ctx.runner.submit(
        write,
        on_done=done,
        on_error=(lambda exc: label.setText(str(exc))) if label is not None else None,
        name="saving the receipt",
    )
