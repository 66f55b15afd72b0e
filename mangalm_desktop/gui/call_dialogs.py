"""Call log and shelf-stock dialogs: small forms whose writes run on the writer thread.

While a dialog's write is in flight its Save button is disabled and a second Save is ignored:
the write runs off the UI thread, so without that a double click (or Enter pressed twice)
queued a second write behind the first and logged the call twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, QStringListModel, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..domain.changes import Changes
from ..domain.enums import CallOutcome
from ..orders import calls, entry
from .context import AppContext
from .order_dialog import EnterSpinBox
from .workers import Written

OUTCOME_TEXT = {
    CallOutcome.ORDERED: "Ordered",
    CallOutcome.CALL_BACK: "Call back on a date",
    CallOutcome.NO_ANSWER: "No answer",
    CallOutcome.NOT_NEEDED: "Nothing needed",
}


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> dt.date:
    return dt.date(q.year(), q.month(), q.day())


class _SavingDialog(QDialog):
    """A form with Save/Cancel whose one write runs on the writer thread, at most once at a time."""

    ctx: AppContext
    buttons: QDialogButtonBox
    error: QLabel

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.saved = False
        self.saving = False  # a write is in flight: Save is disabled and ignored

    def _make_buttons(self) -> QDialogButtonBox:
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        return self.buttons

    def save(self) -> None:  # pragma: no cover - each dialog says what it writes
        raise NotImplementedError

    def _write(self, fn: Callable[[], Any], name: str) -> None:
        """Run ``fn`` as this dialog's write unless one is already in flight."""
        if self.saving or self.saved:
            return
        self.saving = True
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
        self.ctx.runner.submit(
            lambda _c: fn(), write=True, on_done=self._done, on_error=self._failed, name=name
        )

    def _done(self, _written: object) -> None:
        self.saving, self.saved = False, True
        self._saved()
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.saving = False
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(True)
        self.error.setText(str(exc))

    def _saved(self) -> None:
        """What to tell once the write is done (the status bar)."""


class CallDialog(_SavingDialog):
    """Outcome, notes and next call date for one call to ``store_id``."""

    def __init__(
        self,
        ctx: AppContext,
        store_id: uuid.UUID,
        store_name: str,
        parent: QWidget | None = None,
        *,
        agent_id: uuid.UUID | None = None,
        order_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("callDialog")
        self.setWindowTitle(f"Log call — {store_name}")
        self.ctx, self.store_id, self.agent_id, self.order_id = ctx, store_id, agent_id, order_id
        self.outcome = QComboBox(self)
        self.outcome.setObjectName("outcomeCombo")
        for value, text in OUTCOME_TEXT.items():
            self.outcome.addItem(text, value.value)
        if order_id is not None:
            self.outcome.setCurrentIndex(0)
        else:
            self.outcome.setCurrentIndex(2)
        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("callNotes")
        self.notes.setTabChangesFocus(True)
        self.next_check = QCheckBox("&Next call on", self)
        self.next_check.setObjectName("nextCheck")
        self.next_date = QDateEdit(self)
        self.next_date.setObjectName("nextDate")
        self.next_date.setCalendarPopup(True)
        self.next_date.setDisplayFormat("dd MMM yyyy")
        self.next_date.setDate(_qdate(ctx.today() + dt.timedelta(days=1)))
        self.next_date.setEnabled(False)
        self.error = QLabel("", self)
        self.error.setObjectName("callError")
        self.error.setStyleSheet("color: #c62828")
        row = QHBoxLayout()
        row.addWidget(self.next_check)
        row.addWidget(self.next_date)
        form = QFormLayout()
        form.addRow("&Outcome", self.outcome)
        form.addRow("N&otes", self.notes)
        form.addRow("", row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self._make_buttons())
        self.next_check.toggled.connect(self.next_date.setEnabled)
        self.outcome.currentIndexChanged.connect(self._outcome_changed)

    def _outcome_changed(self) -> None:
        if self.outcome.currentData() == CallOutcome.CALL_BACK.value:
            self.next_check.setChecked(True)

    def save(self) -> None:
        engine = self.ctx.engine
        kwargs = dict(
            identity=self.ctx.identity,
            store=self.store_id,
            agent_id=self.agent_id,
            outcome=self.outcome.currentData(),
            notes=self.notes.toPlainText(),
            next_call_date=_pydate(self.next_date.date()) if self.next_check.isChecked() else None,
            order_id=self.order_id,
            today=self.ctx.today(),
        )
        self._write(
            lambda: Written(calls.log_call(engine, **kwargs), Changes.of("call_log", "outbox")),
            "logging the call",
        )

    def _saved(self) -> None:
        self.ctx.status("Call logged")


class StockDialog(_SavingDialog):
    """What the store has on the shelf: product (SKU or name) + quantity, Enter adds a row."""

    def __init__(
        self,
        ctx: AppContext,
        store_id: uuid.UUID,
        store_name: str,
        parent: QWidget | None = None,
        *,
        agent_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("stockDialog")
        self.setWindowTitle(f"Shelf stock — {store_name}")
        self.ctx, self.store_id, self.agent_id = ctx, store_id, agent_id
        self.products: list[entry.ProductChoice] = []
        self.quantities: dict[uuid.UUID, int] = {}
        self.product = QLineEdit(self)
        self.product.setObjectName("stockProduct")
        self.product.setPlaceholderText("SKU or product name, then Enter")
        self.completer = QCompleter(self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.product.setCompleter(self.completer)
        self.qty = EnterSpinBox(self)
        self.qty.setObjectName("stockQty")
        self.qty.setRange(0, 100_000)
        self.list = QListWidget(self)
        self.list.setObjectName("stockList")
        self.error = QLabel("", self)
        self.error.setObjectName("stockError")
        self.error.setStyleSheet("color: #c62828")
        row = QHBoxLayout()
        row.addWidget(self.product, 3)
        row.addWidget(QLabel("on shelf", self))
        row.addWidget(self.qty)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.error)
        layout.addWidget(self._make_buttons())
        self.product.returnPressed.connect(lambda: self.qty.setFocus())
        self.qty.entered.connect(self.add)
        for button in self.buttons.buttons():
            button.setAutoDefault(False)  # Enter adds a row; saving is an explicit choice
            button.setDefault(False)
        engine = ctx.engine
        ctx.runner.submit(
            lambda _c: entry.product_choices(engine), on_done=self._loaded, name="loading products"
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        """Enter adds a row and never saves: the button box makes Save the default button
        when it shows, and QDialog would click it for an Enter the product field passed on
        (whenever no completion list was open to take it: no match, or not shown yet)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)

    def _loaded(self, products: list[entry.ProductChoice]) -> None:
        self.products = products
        self.completer.setModel(QStringListModel([p.label for p in products], self))

    def add(self) -> None:
        t = self.product.text().strip().lower()
        match = next(
            (p for p in self.products if (p.sku or "").lower() == t or p.label.lower() == t),
            None,
        ) or next((p for p in self.products if t and t in p.label.lower()), None)
        if match is None:
            self.error.setText(f"No product matches “{self.product.text()}”.")
            return
        self.error.setText("")
        self.quantities[match.id] = self.qty.value()
        self.list.addItem(f"{match.label}: {self.qty.value()} on shelf")
        self.product.clear()
        self.qty.setValue(0)
        self.product.setFocus()

    def save(self) -> None:
        engine, q = self.ctx.engine, dict(self.quantities)
        sid, aid, day, who = self.store_id, self.agent_id, self.ctx.today(), self.ctx.identity
        self._write(
            lambda: Written(
                calls.record_stock(
                    engine, identity=who, store=sid, agent_id=aid, quantities=q, reported_on=day
                ),
                Changes.of("store_stock_report", "outbox"),
            ),
            "recording shelf stock",
        )

    def _saved(self) -> None:
        self.ctx.status("Shelf stock recorded")
