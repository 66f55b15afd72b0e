"""The call screen: one window per visit or phone call, keyboard first (docs/visits.md).

What the agent sees on opening (loaded on a worker: ``visits.header.load_header``): the store,
phone, locality/beat, outstanding balance, overdue invoices, credit left and the last three
orders; the order pre-filled from the suggestions (or the last order) as editable lines with
the last quantity, shelf count, price and amount, and a running total. What the agent enters:
lines, shelf counts, the outcome (ordered / no order with a reason / call back / not
reachable), notes and the next call date. One Save (Ctrl+Enter) writes all of it in one
transaction (``visits.service.save_visit``).

Keys: the cursor starts in the product box. SKU or part of a name, Enter → quantity, Enter →
the line is added (Tab from the quantity reaches the shelf count first) and the cursor is back
in the product box. F2 in the lines edits the quantity (column Qty) or shelf (column Shelf),
Delete removes a line. Alt+C the product box, Alt+L the lines. Below them two tabs: Alt+U
"Outcome and next call" (Alt+O outcome, Alt+R reason, Alt+X next call, Alt+N notes) and Alt+Y
"Payment collected" (the payments package's own panel: Alt+A amount, Alt+M mode, Alt+R
reference, Alt+D cheque date). Ctrl+Enter saves; Esc closes (asking first when something typed
would be lost).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

import shiboken6
from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain import formatting as fmt
from ..domain.changes import Changes
from ..domain.enums import CallOutcome
from ..domain.errors import UserError
from ..orders import entry
from ..orders.access import order_audit
from ..orders.errors import CreditLimitExceeded, OrderInvalid
from ..orders.model import Checked, LineInput, OrderDraft, Suggestion
from ..orders.pricing import line_money, order_money, pack_hint
from ..payments.service import PaymentInvalid
from ..visits.header import CallHeader, load_header
from ..visits.model import OUTCOME_WORDS, VisitInput, VisitResult
from ..visits.service import save_visit
from .call_dialogs import _pydate, _qdate
from .context import AppContext
from .errors import show_error
from .latest import LatestOnly
from .order_dialog import (
    ORDER_TABLES,
    EnterFilter,
    EnterSpinBox,
    contains_completer,
    desktop_actor,
    fill_row,
    focus_field,
    lines_table,
    match_product,
    scheme_words,
)
from .payment_panel import PaymentPanel
from .workers import Written

VISIT_TABLES = (*ORDER_TABLES, "call_log", "store_stock_report")


@dataclass
class CallEntry:
    """One line on the screen: what will be ordered and what the shelf holds."""

    product: entry.ProductChoice
    quantity: int
    last_quantity: int | None = None
    shelf: int | None = None  # counted on this visit (None: not counted)
    shelf_before: int | None = None  # the last count reported, shown as a hint
    reason: str = ""
    suggested_qty: int | None = None
    prediction_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Loaded:
    header: CallHeader | None
    stores: list[entry.StoreChoice]
    products: list[entry.ProductChoice]


def _load(task, engine, identity, store_id, today, agent_id) -> Loaded:  # noqa: ANN001
    products = entry.product_choices(engine)
    task.check()
    header = load_header(engine, identity, store_id, today) if store_id else None
    stores = [] if store_id else entry.store_choices(engine, agent_id, identity=identity)
    return Loaded(header, stores, products)


class CallScreen(QDialog):
    """The visit to ``store_id`` (or to a store typed in the store box when None)."""

    HEADERS = ["SKU", "Product", "Last", "Shelf", "Qty", "Price", "Scheme", "Amount", "Why"]
    COL_SHELF, COL_QTY, COL_SCHEME, COL_AMOUNT, COL_REASON = 3, 4, 6, 7, 8
    FIGURES = (2, 3, 4, 5, 7)  # last ordered, shelf, quantity, price, amount: right-aligned

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, store_id: uuid.UUID | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("callScreen")
        self.ctx = ctx
        self.store_id = store_id
        self.header: CallHeader | None = None
        self.products: list[entry.ProductChoice] = []
        self.stores: list[entry.StoreChoice] = []
        self.by_sku: dict[str, entry.ProductChoice] = {}
        self.by_label: dict[str, entry.ProductChoice] = {}
        self.lines: list[CallEntry] = []
        self.suggestions: list[Suggestion] = []
        self.pending: entry.ProductChoice | None = None
        self.saved_visit: VisitResult | None = None
        self.ready = False
        self.busy = False
        self.touched = False  # the agent typed something that closing would lose
        self.confirm_credit = self._ask_credit
        self.checked: Checked | None = None
        self._check_latest = LatestOnly(ctx.runner, "checking the order")
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(250)
        self._check_timer.timeout.connect(self._check)
        self.setWindowTitle("Call")
        self.resize(1100, 760)
        self._build()
        self._wire()
        self._request(store_id)

    # ---- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("Call", self)
        self.title.setObjectName("viewTitle")
        self.store_edit = QLineEdit(self)
        self.store_edit.setObjectName("callStoreEdit")
        self.store_edit.setPlaceholderText("Type the store's name, city or code, then Enter")
        self.store_edit.setVisible(self.store_id is None)
        self.contact = QLabel("Loading…", self)
        self.contact.setObjectName("callContact")
        self.money = QLabel("", self)
        self.money.setObjectName("callMoney")
        self.money.setTextFormat(Qt.TextFormat.RichText)
        self.past = QLabel("", self)
        self.past.setObjectName("callPastOrders")
        self.past.setWordWrap(True)
        self.past.setTextFormat(Qt.TextFormat.RichText)
        head = QGridLayout()
        head.addWidget(self.title, 0, 0)
        head.addWidget(self.store_edit, 0, 1)
        head.addWidget(self.contact, 1, 0, 1, 2)
        head.addWidget(self.money, 2, 0, 1, 2)
        head.addWidget(self.past, 3, 0, 1, 2)

        self.product_edit = QLineEdit(self)
        self.product_edit.setObjectName("callProductEdit")
        self.product_edit.setPlaceholderText("SKU or product name, then Enter  (Alt+C)")
        self.qty_edit = EnterSpinBox(self)
        self.qty_edit.setObjectName("callQtyEdit")
        self.qty_edit.setRange(0, 1_000_000)
        self.qty_edit.setSuffix(" units")
        self.shelf_edit = EnterSpinBox(self)
        self.shelf_edit.setObjectName("callShelfEdit")
        self.shelf_edit.setRange(-1, 1_000_000)
        self.shelf_edit.setSpecialValueText("not counted")
        self.shelf_edit.setValue(-1)
        self.add_button = QPushButton("Add l&ine", self)
        self.add_button.setObjectName("callAddLine")
        self.pack_label = QLabel("", self)
        product_label = QLabel("Produ&ct", self)
        product_label.setBuddy(self.product_edit)
        row = QHBoxLayout()
        row.addWidget(product_label)
        row.addWidget(self.product_edit, 3)
        row.addWidget(QLabel("Qty", self))
        row.addWidget(self.qty_edit)
        row.addWidget(QLabel("Shelf", self))
        row.addWidget(self.shelf_edit)
        row.addWidget(self.add_button)

        self.table = lines_table(self, self.HEADERS, "callLines")
        lines_label = QLabel("&Lines", self)
        lines_label.setBuddy(self.table)
        self.total_label = QLabel("", self)
        self.total_label.setObjectName("callTotal")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight)

        self.outcome_box = QComboBox(self)
        self.outcome_box.setObjectName("callOutcome")
        for outcome, words in OUTCOME_WORDS.items():
            self.outcome_box.addItem(words, outcome.value)
        self.reason_box = QComboBox(self)
        self.reason_box.setObjectName("callReason")
        self.reason_box.setEnabled(False)
        self.next_check = QCheckBox("Ne&xt call", self)
        self.next_check.setObjectName("callNextCheck")
        self.next_edit = QDateEdit(self)
        self.next_edit.setObjectName("callNextDate")
        self.next_edit.setCalendarPopup(True)
        self.next_edit.setDisplayFormat("dd MMM yyyy")
        self.next_edit.setEnabled(False)
        today = self.ctx.today()
        self.next_edit.setMinimumDate(_qdate(today))
        self.next_edit.setDate(_qdate(today + dt.timedelta(days=7)))
        self.notes_edit = QPlainTextEdit(self)
        self.notes_edit.setObjectName("callNotes")
        self.notes_edit.setTabChangesFocus(True)
        self.notes_edit.setMaximumHeight(56)
        next_row = QHBoxLayout()
        next_row.addWidget(self.next_check)
        next_row.addWidget(self.next_edit)
        next_row.addStretch(1)
        form = QFormLayout()
        form.addRow("&Outcome", self.outcome_box)
        form.addRow("&Reason (no order)", self.reason_box)
        form.addRow("", next_row)
        form.addRow("&Notes", self.notes_edit)

        self.messages = QLabel("", self)
        self.messages.setObjectName("callMessages")
        self.messages.setWordWrap(True)
        self.save_button = QPushButton("&Save call  (Ctrl+Enter)", self)
        self.save_button.setObjectName("callSave")
        self.close_button = QPushButton("Close", self)
        for b in (self.add_button, self.save_button, self.close_button):
            b.setAutoDefault(False)
            b.setDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.messages, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(row)
        layout.addWidget(self.pack_label)
        layout.addWidget(lines_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.total_label)
        outcome_page = QWidget(self)
        outcome_page.setLayout(form)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("callTabs")
        self.tabs.addTab(outcome_page, "O&utcome and next call")
        self.pay_page = QWidget(self)
        self.pay_layout = QVBoxLayout(self.pay_page)
        self.pay_placeholder = QLabel("Choose the store first.", self.pay_page)
        self.pay_layout.addWidget(self.pay_placeholder)
        self.tabs.addTab(self.pay_page, "Pa&yment collected")
        self.pay_panel: PaymentPanel | None = None
        layout.addWidget(self.tabs)
        layout.addLayout(buttons)

        self.product_completer = contains_completer(self.product_edit, 12)
        self.store_completer = contains_completer(self.store_edit)
        order: list[QWidget] = [
            self.store_edit,
            self.product_edit,
            self.qty_edit,
            self.shelf_edit,
            self.add_button,
            self.table,
            self.outcome_box,
            self.reason_box,
            self.next_check,
            self.next_edit,
            self.notes_edit,
            self.save_button,
            self.close_button,
        ]
        for first, then in zip(order, order[1:], strict=False):
            self.setTabOrder(first, then)

    def _wire(self) -> None:
        self._enter_filters = [
            EnterFilter(self.product_completer, self._pick_product, self),
            EnterFilter(self.store_completer, self._pick_store, self),
        ]
        self.qty_edit.entered.connect(self._add_line)
        self.shelf_edit.entered.connect(self._add_line)
        self.qty_edit.valueChanged.connect(self._show_pack_hint)
        self.add_button.clicked.connect(lambda: self._add_line())
        self.table.itemChanged.connect(self._cell_edited)
        self.table.installEventFilter(self)
        self.outcome_box.currentIndexChanged.connect(lambda _i: self._outcome_changed())
        self.next_check.toggled.connect(self.next_edit.setEnabled)
        self.next_check.toggled.connect(lambda _on: self._touch())
        self.notes_edit.textChanged.connect(self._touch)
        self.save_button.clicked.connect(lambda: self.save())
        self.close_button.clicked.connect(lambda: self.reject())
        QShortcut(QKeySequence("Ctrl+Return"), self, lambda: self.save())
        QShortcut(QKeySequence("Ctrl+Enter"), self, lambda: self.save())
        QShortcut(QKeySequence("Ctrl+S"), self, lambda: self.save())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        """Delete (or Backspace) on the lines removes the selected line."""
        if (
            obj is self.table
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)  # type: ignore[attr-defined]
            and self.table.state() != QAbstractItemView.State.EditingState
        ):
            row = self.table.currentRow()
            if 0 <= row < len(self.lines):
                del self.lines[row]
                self._touch()
                self._refresh()
                self.table.selectRow(min(row, len(self.lines) - 1))
            return True
        return super().eventFilter(obj, event)

    # ---- loading ----------------------------------------------------------------------------
    def _request(self, store_id: uuid.UUID | None) -> None:
        ctx = self.ctx
        self.ctx.runner.submit(
            _load,
            ctx.engine,
            ctx.identity,
            store_id,
            ctx.today(),
            ctx.own_stores_only,
            on_done=self._loaded,
            on_error=self._load_failed,
            name="opening the call",
        )

    def _load_failed(self, exc: BaseException) -> None:
        if shiboken6.isValid(self.contact):
            self.contact.setText("")
            show_error(self, exc, "opening the call")

    def _loaded(self, got: Loaded) -> None:
        if not shiboken6.isValid(self.table):
            return  # closed while loading
        self.products = got.products
        self.by_sku = {(p.sku or "").lower(): p for p in self.products if p.sku}
        self.by_label = {p.label.lower(): p for p in self.products}
        self.product_completer.setModel(QStringListModel([p.label for p in self.products], self))
        if got.header is None:
            self.stores = got.stores
            self.store_completer.setModel(QStringListModel([s.label for s in self.stores], self))
            self.contact.setText("Choose the store to call.")
            self.store_edit.setFocus()
            return
        self._show_header(got.header)
        self.ready = True
        self._check_timer.start()  # the schemes and the total as the order will be saved
        self.product_edit.setFocus()

    def _pick_store(self) -> None:
        t = self.store_edit.text().strip().lower()
        found = [s for s in self.stores if t and (t == s.code.lower() or t in s.label.lower())]
        if not found:
            self._say(f"No store matches “{self.store_edit.text()}”.")
            return
        self._say("")
        self.store_edit.setText(found[0].label)
        self.store_edit.setReadOnly(True)
        self.store_id = found[0].id
        self.contact.setText("Loading…")
        self._request(found[0].id)

    def _show_header(self, h: CallHeader) -> None:
        self.header = h
        self.store_id = h.store_id
        self.title.setText(f"<b>Call: {_html(h.store_name)}</b> · {h.store_code}")
        self.setWindowTitle(f"Call — {h.store_name}")
        bits = [h.phone or "no phone", h.locality or "no locality"]
        if h.beat:
            bits.append(f"beat {h.beat}")
        self.contact.setText(" · ".join(bits))
        money = [f"Outstanding <b>{fmt.money(h.outstanding)}</b>"]
        if h.overdue_count:
            money.append(
                f'<span style="color:#c62828">{h.overdue_count} overdue invoice'
                f"{'s' if h.overdue_count != 1 else ''}: {fmt.money(h.overdue_amount)}</span>"
            )
        else:
            money.append("nothing overdue")
        if h.credit_left is not None:
            money.append(f"credit left {fmt.money(h.credit_left)}")
        self.money.setText(" · ".join(money))
        past = [
            f"{fmt.day(p.day)} {_html(p.number)}: {fmt.number(p.units)} units, "
            f"{fmt.money(p.total)} — "
            + ", ".join(f"{_html(n)} {fmt.number(q)}" for n, q in p.lines[:4])
            + (" …" if len(p.lines) > 4 else "")
            for p in h.past_orders
        ]
        self.past.setText(
            "<b>Last orders</b><br>" + "<br>".join(past) if past else "No orders yet."
        )
        by_id = {p.id: p for p in self.products}
        self.lines = [
            CallEntry(
                by_id.get(x.product_id)
                or entry.ProductChoice(
                    x.product_id, x.sku, x.name, None, x.pack_size, x.price or Decimal(0)
                ),
                x.quantity,
                x.last_quantity,
                None,
                x.shelf,
                x.reason,
                x.suggested_qty,
                x.prediction_id,
            )
            for x in h.lines
        ]
        self.suggestions = list(h.suggestions)
        if self.pay_panel is None:  # the payment panel of payments (never saves by itself)
            self.pay_placeholder.hide()
            self.pay_panel = PaymentPanel(self.ctx, h.store_id, self.pay_page)
            self.pay_panel.amount.textChanged.connect(lambda _t: self._touch())
            # Tab leaves its invoices table (as every table here), on to "Settle oldest first"
            self.pay_panel.invoices.setTabKeyNavigation(False)
            self.pay_layout.addWidget(self.pay_panel)
        self.reason_box.clear()
        for r in h.reasons:
            self.reason_box.addItem(r.label, str(r.id))
        if not h.reasons:
            self.reason_box.addItem("(no reasons yet: a manager adds them)", None)
        self._refresh()

    # ---- lines ------------------------------------------------------------------------------
    def _match_product(self, text: str) -> entry.ProductChoice | None:
        return match_product(text, self.products, self.by_sku, self.by_label)

    def _pick_product(self) -> None:
        product = self._match_product(self.product_edit.text())
        if product is None:
            self._say(f"No product matches “{self.product_edit.text()}”.")
            return
        self.pending = product
        self._say("")
        self.product_edit.setText(product.label)
        there = next((x for x in self.lines if x.product.id == product.id), None)
        self.qty_edit.setValue(there.quantity if there else max(product.pack_size, 1))
        self.shelf_edit.setValue(there.shelf if there and there.shelf is not None else -1)
        self._show_pack_hint()
        self._focus(self.qty_edit)

    def _focus(self, widget: QWidget) -> None:
        focus_field(widget)

    def _show_pack_hint(self) -> None:
        p = self.pending
        if p is None:
            self.pack_label.setText("")
            return
        text = f"{p.label}: pack of {p.pack_size} · {fmt.money(p.price)} each"
        hint = pack_hint(self.qty_edit.value(), p.pack_size)
        self.pack_label.setText(text + (f" · {hint}" if hint else ""))

    def _add_line(self) -> None:
        product = self.pending or self._match_product(self.product_edit.text())
        if product is None:
            self.product_edit.setFocus()
            return
        qty = self.qty_edit.value()
        shelf = self.shelf_edit.value()
        there = next((x for x in self.lines if x.product.id == product.id), None)
        if there is None:
            there = CallEntry(product, qty)
            self.lines.append(there)
        there.quantity = qty  # typed again: the quantity now said replaces the one before
        if shelf >= 0:
            there.shelf = shelf
        self.pending = None
        self.product_edit.clear()
        self.qty_edit.setValue(0)
        self.shelf_edit.setValue(-1)
        self.pack_label.setText("")
        self._touch()
        self._refresh()
        self.table.selectRow(self.lines.index(there))
        self.product_edit.setFocus()

    def _refresh(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.lines))
        for r, ln in enumerate(self.lines):
            amount = line_money(ln.quantity, ln.product.price or Decimal(0)).total
            cells = [
                ln.product.sku or "",
                ln.product.name,
                "" if ln.last_quantity is None else str(ln.last_quantity),
                "" if ln.shelf is None else str(ln.shelf),
                str(ln.quantity),
                fmt.money(ln.product.price),
                "",  # the schemes arrive with the check (_show_check)
                fmt.money(amount),
                ln.reason,
            ]
            before = ln.shelf_before
            tips = {
                self.COL_SHELF: None if before is None else f"Last reported on the shelf: {before}",
                self.COL_REASON: ln.reason,
            }
            fill_row(
                self.table,
                r,
                cells,
                editable=(self.COL_SHELF, self.COL_QTY),
                right=self.FIGURES,
                tips=tips,
            )
        self.table.blockSignals(False)
        ordered = [x for x in self.lines if x.quantity > 0]
        try:
            total = order_money(
                [line_money(x.quantity, x.product.price or Decimal(0)) for x in ordered]
            ).total
            units = sum(x.quantity for x in ordered)
            self.total_label.setText(
                f"{len(ordered)} lines · {fmt.number(units)} units · <b>total {fmt.money(total)}</b>"
            )
        except ArithmeticError:
            self.total_label.setText("")
        if self.ready:
            self._check_timer.start()

    # ---- the order as it will be saved: schemes, validation (on a worker) ---------------------
    def _check(self) -> None:
        if self.store_id is None or not shiboken6.isValid(self.table):
            return
        agent = self.ctx.order_agent(self.header.agent_id if self.header else None)
        draft = OrderDraft(
            store=self.store_id,
            agent_id=agent or uuid.UUID(int=0),
            lines=[LineInput(x.product.id, x.quantity) for x in self.lines if x.quantity > 0],
            order_date=self.ctx.today(),
        )
        engine = self.ctx.engine
        self._check_latest.request(lambda _c: entry.check(engine, draft), self._show_check)

    def _show_check(self, checked: Checked) -> None:
        """Per line its amount after the schemes and the scheme in words; free goods and the
        total as the order will be saved (docs/orders.md "Schemes")."""
        if not shiboken6.isValid(self.table):
            return  # closed while the check ran
        self.checked = checked
        paid = {x.product_id: x for x in checked.lines if not x.free_goods}
        self.table.blockSignals(True)
        for r, ln in enumerate(self.lines):
            pl = paid.get(ln.product.id)
            if pl is None or pl.quantity != ln.quantity:
                continue
            words = scheme_words(pl)
            for col, value in ((self.COL_SCHEME, words), (self.COL_AMOUNT, fmt.money(pl.total))):
                item = self.table.item(r, col)
                if item is not None:
                    item.setText(value)
                    item.setToolTip(pl.scheme_reason or "")
        self.table.blockSignals(False)
        free = [x for x in checked.lines if x.free_goods]
        ordered = [x for x in self.lines if x.quantity > 0]
        if ordered and not checked.errors:
            units = sum(x.quantity for x in ordered)
            gift = "".join(
                f" · free {fmt.number(x.quantity)} {_html(x.name)} ({_html(x.scheme_reason or '')})"
                for x in free
            )
            self.total_label.setText(
                f"{len(ordered)} lines · {fmt.number(units)} units · schemes "
                f"{fmt.money(checked.discount_total)}{gift} · <b>total {fmt.money(checked.total)}</b>"
            )
        problems = [str(e) for e in checked.errors] + [str(w) for w in checked.warnings]
        if problems and self.outcome() is CallOutcome.ORDERED:
            self._say(" ".join(problems), "#b26a00")

    @property
    def idle(self) -> bool:
        return not self.busy and self._check_latest.idle and not self._check_timer.isActive()

    def _cell_edited(self, item: QTableWidgetItem) -> None:
        row, col = item.row(), item.column()
        if not 0 <= row < len(self.lines):
            return
        text = item.text().strip()
        try:
            if col == self.COL_QTY:
                self.lines[row].quantity = int(text or "0")
            elif col == self.COL_SHELF:
                self.lines[row].shelf = int(text) if text else None
            self._touch()
        except ValueError:
            self._say(f"“{item.text()}” is not a whole number.")
        self._refresh()

    # ---- outcome ----------------------------------------------------------------------------
    def outcome(self) -> CallOutcome:
        return CallOutcome(self.outcome_box.currentData())

    def _outcome_changed(self) -> None:
        outcome = self.outcome()
        self.reason_box.setEnabled(outcome is CallOutcome.NO_ORDER)
        if outcome is CallOutcome.CALL_BACK:
            self.next_check.setChecked(True)
        self._touch()

    def _touch(self) -> None:
        if self.ready:
            self.touched = True

    def _say(self, text: str, colour: str = "#c62828") -> None:
        self.messages.setText(f'<span style="color:{colour}">{_html(text)}</span>' if text else "")

    def visit(self, accept_credit_warning: bool = False) -> VisitInput:
        outcome = self.outcome()
        reason = self.reason_box.currentData() if outcome is CallOutcome.NO_ORDER else None
        assert self.store_id is not None
        return VisitInput(
            store_id=self.store_id,
            agent_id=self.ctx.agent_id,
            outcome=outcome,
            lines=[
                LineInput(x.product.id, x.quantity, Decimal(0), x.suggested_qty, x.prediction_id)
                for x in self.lines
                if x.quantity > 0
            ],
            suggestions=list(self.suggestions),
            reason_id=uuid.UUID(reason) if reason else None,
            notes=self.notes_edit.toPlainText(),
            next_call_date=_pydate(self.next_edit.date()) if self.next_check.isChecked() else None,
            stock={x.product.id: x.shelf for x in self.lines if x.shelf is not None},
            payment=self.pay_panel.payment_input() if self.pay_panel else None,
            promise=self.pay_panel.promise_input() if self.pay_panel else None,
            accept_credit_warning=accept_credit_warning,
        )

    # ---- saving -----------------------------------------------------------------------------
    def _ask_credit(self, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Credit limit",
            f"{text}\n\nSave the order anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def save(self, accept_credit_warning: bool = False) -> None:
        if self.busy or not self.ready:
            return
        ctx = self.ctx
        try:
            visit = self.visit(bool(accept_credit_warning))
        except UserError as exc:
            self._say(str(exc))
            return
        if visit.agent_id is None and self.header is not None:
            visit.agent_id = ctx.order_agent(self._store_agent())
        who, hook, today = ctx.identity, order_audit(desktop_actor(ctx)), ctx.today()
        self.busy = True
        self._say("Saving…", "#555555")
        ctx.runner.submit(
            lambda _c: Written(
                save_visit(ctx.engine, who, visit, today=today, on_write=hook),
                Changes.of(*VISIT_TABLES),
            ),
            write=True,
            on_done=self._saved,
            on_error=self._save_failed,
            name="saving the call",
        )

    def _store_agent(self) -> uuid.UUID | None:
        return self.header.agent_id if self.header is not None else None

    def _saved(self, w: Written) -> None:
        self.busy = False
        self.saved_visit = w.value
        res: VisitResult = w.value
        words = OUTCOME_WORDS[self.outcome()]
        said = [f"Order {res.order.number}: {fmt.money(res.order.total)}"] if res.order else []
        if res.payment is not None:
            said.append(f"receipt {res.payment.number}: {fmt.money(res.payment.amount)}")
        self.ctx.status(f"Call saved: {words}" + (" · " + " · ".join(said) if said else ""))
        self.touched = False
        self.accept()

    def _save_failed(self, exc: BaseException) -> None:
        self.busy = False
        if not shiboken6.isValid(self.messages):
            return
        if isinstance(exc, OrderInvalid | PaymentInvalid):
            said = [str(i) for i in exc.issues] if isinstance(exc, OrderInvalid) else exc.problems
            self.messages.setText(
                "<br>".join(f'<span style="color:#c62828">{_html(t)}</span>' for t in said)
            )
        elif isinstance(exc, CreditLimitExceeded):
            self._say(exc.issue.message, "#b26a00")
            if self.confirm_credit(exc.issue.message):
                self.save(accept_credit_warning=True)
        elif isinstance(exc, ValueError | LookupError | TypeError | AttributeError):
            raise exc  # a bug: the main window shows it with its traceback
        else:
            hint = getattr(exc, "hint", None)
            self._say(f"{exc}" + (f" {hint}" if hint else ""))

    # ---- closing ----------------------------------------------------------------------------
    def reject(self) -> None:
        if self.busy:
            return
        if not self.isVisible() or not self.touched or self._confirm_close():
            super().reject()

    def _confirm_close(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Unsaved call",
            "Close this call without saving what you typed?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
