"""Call log and shelf-stock dialogs: small forms whose writes run on the writer thread."""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import QDate, QStringListModel, Qt
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


class CallDialog(QDialog):
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
        self.saved = False
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
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.next_check.toggled.connect(self.next_date.setEnabled)
        self.outcome.currentIndexChanged.connect(self._outcome_changed)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

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
        self.ctx.runner.submit(
            lambda _c: Written(calls.log_call(engine, **kwargs), Changes.of("call_log", "outbox")),
            write=True,
            on_done=self._saved,
            on_error=lambda exc: self.error.setText(str(exc)),
            name="logging the call",
        )

    def _saved(self, _done: object) -> None:
        self.saved = True
        self.ctx.status("Call logged")
        self.accept()


class StockDialog(QDialog):
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
        self.saved = False
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
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.product.returnPressed.connect(lambda: self.qty.setFocus())
        self.qty.entered.connect(self.add)
        for button in self.buttons.buttons():
            button.setAutoDefault(False)  # Enter adds a row; saving is an explicit choice
            button.setDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        engine = ctx.engine
        ctx.runner.submit(
            lambda _c: entry.product_choices(engine), on_done=self._loaded, name="loading products"
        )

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
        self.ctx.runner.submit(
            lambda _c: Written(
                calls.record_stock(
                    engine, identity=who, store=sid, agent_id=aid, quantities=q, reported_on=day
                ),
                Changes.of("store_stock_report", "outbox"),
            ),
            write=True,
            on_done=self._saved,
            on_error=lambda exc: self.error.setText(str(exc)),
            name="recording shelf stock",
        )

    def _saved(self, _done: object) -> None:
        self.saved = True
        self.ctx.status("Shelf stock recorded")
        self.accept()
