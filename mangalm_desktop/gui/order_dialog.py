"""The order-entry dialog: store by typing, products by SKU or name, live totals, keyboard only.

Flow (no mouse needed): type the store and press Enter → lines are pre-filled from the
suggestions or the last order → type a SKU or part of a name, Enter → quantity (the pack
size and a rounding hint are shown), Enter → the line is added and the cursor is back in the
product box → Ctrl+Return submits, Ctrl+S saves a draft, Esc closes. Delete removes the
selected line; F2 edits a line's quantity or discount in place.

Totals are computed on the UI thread with the pure Decimal rules of ``orders.pricing`` (no
SQL); the full validation (``orders.entry.check``) and every write run on workers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import shiboken6
from PySide6.QtCore import QDate, QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..domain import formatting as fmt
from ..domain.changes import Changes
from ..domain.enums import OrderKind
from ..orders import entry, service
from ..orders.access import order_audit
from ..orders.errors import CreditLimitExceeded, OrderInvalid
from ..orders.model import Checked, LineInput, OrderDraft, OrderResult, PricedLine, Suggestion
from ..orders.pricing import line_money, order_money, pack_hint
from ..orders.queries import OrderDetail
from .context import AppContext
from .errors import show_error
from .latest import LatestOnly
from .tablemodels import RIGHT
from .workers import Written


def desktop_actor(ctx: AppContext) -> str:
    """Who the audit log names: the signed-in user when the app knows one."""
    identity = ctx.identity
    return f"desktop:{identity.username}" if identity is not None else "desktop"


ORDER_TABLES = ("orders", "order_line", "outbox", "suggestion_feedback", "audit_log")


class EnterFilter(QObject):
    """Runs ``on_enter`` for Return/Enter typed in a completer's field or popup."""

    def __init__(self, completer: QCompleter, on_enter, parent: QObject) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.completer = completer
        self.on_enter = on_enter
        completer.widget().installEventFilter(self)
        completer.popup().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress and event.key() in (  # type: ignore[attr-defined]
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
        ):
            self.on_enter()
            return True
        return False


class _EnterMixin:
    """Spin boxes that say when Enter was pressed (their line edit's returnPressed is not
    reliable), and never let a dialog's default button steal that Enter."""

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.interpretText()  # type: ignore[attr-defined]
            self.entered.emit()  # type: ignore[attr-defined]
            event.accept()
            return
        super().keyPressEvent(event)  # type: ignore[misc]


class EnterSpinBox(_EnterMixin, QSpinBox):
    entered = Signal()


class EnterDoubleSpinBox(_EnterMixin, QDoubleSpinBox):
    entered = Signal()


def contains_completer(field: QLineEdit, max_visible: int | None = None) -> QCompleter:
    """A case-blind "contains" completer on ``field`` (stores and products are typed by any
    part of their name); the order dialog and the call screen type the same way."""
    completer = QCompleter(field)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    if max_visible is not None:
        completer.setMaxVisibleItems(max_visible)
    field.setCompleter(completer)
    return completer


def lines_table(parent: QWidget, headers: list[str], name: str) -> QTableWidget:
    """The order lines: rows selected whole, F2 or a double-click edits, Tab leaves the table
    (the keyboard flow stays simple), the product column stretches."""
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(
        QAbstractItemView.EditTrigger.EditKeyPressed | QAbstractItemView.EditTrigger.DoubleClicked
    )
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    table.setTabKeyNavigation(False)
    return table


def set_cell(
    table: QTableWidget,
    row: int,
    col: int,
    text: str,
    *,
    editable: bool = False,
    right: bool = False,
    tip: str | None = None,
) -> None:
    """One cell of a lines table (the order dialog's, the call screen's): a new item, read-only
    unless ``editable``, right-aligned for figures, with ``tip`` as its tool tip when given."""
    item = QTableWidgetItem(text)
    if not editable:
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if right:
        item.setTextAlignment(RIGHT)
    if tip:
        item.setToolTip(tip)
    table.setItem(row, col, item)


def fill_row(
    table: QTableWidget,
    row: int,
    cells: Sequence[str],
    *,
    editable: Collection[int] = (),
    right: Collection[int] = (),
    tips: Mapping[int, str | None] | None = None,
) -> None:
    """A whole row of a lines table from column 0, cell by cell as :func:`set_cell`; the
    columns in ``editable`` can be typed into, those in ``right`` hold figures."""
    for c, text in enumerate(cells):
        tip = tips.get(c) if tips else None
        set_cell(table, row, c, text, editable=c in editable, right=c in right, tip=tip)


def scheme_words(line: PricedLine) -> str:
    """The scheme a checked line got, in its table cell: the percentage off and the reason
    ("5% · Diwali atta"), the reason alone when the scheme takes no percentage off, else ""."""
    if not line.scheme_reason:
        return ""
    if line.scheme_pct:
        return f"{fmt.percent_points(line.scheme_pct)} · {line.scheme_reason}"
    return line.scheme_reason


def match_product(
    text: str,
    products: list[entry.ProductChoice],
    by_sku: dict[str, entry.ProductChoice],
    by_label: dict[str, entry.ProductChoice],
) -> entry.ProductChoice | None:
    """What a person means by ``text``: an exact SKU, an exact label, else the first label
    containing it."""
    t = text.strip().lower()
    if not t:
        return None
    if t in by_sku:
        return by_sku[t]
    if t in by_label:
        return by_label[t]
    found = [p for p in products if t in p.label.lower()]
    return found[0] if found else None


def focus_field(widget: QWidget) -> None:
    """Move the cursor on, also after a completer popup hands focus back to its field."""
    widget.setFocus()
    if isinstance(widget, QSpinBox):
        widget.selectAll()
    QTimer.singleShot(0, widget.setFocus)


@dataclass
class EntryLine:
    product: entry.ProductChoice
    quantity: int
    discount_pct: Decimal = Decimal(0)
    suggested_qty: int | None = None
    prediction_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Catalogue:
    stores: list[entry.StoreChoice]
    products: list[entry.ProductChoice]
    order: OrderDetail | None


def _load(engine, order_id: uuid.UUID | None, agent_id: uuid.UUID | None, identity) -> Catalogue:  # noqa: ANN001
    return Catalogue(
        entry.store_choices(engine, agent_id, identity=identity),
        entry.product_choices(engine),
        entry.detail(engine, order_id, identity=identity) if order_id else None,
    )


def checked_return(checked: Checked) -> bool:
    """True when the checked lines are a return's (stored negative)."""
    return any(x.quantity < 0 for x in checked.lines)


class OrderDialog(QDialog):
    """New order (``order_id=None``), edit a draft, or amend a submitted/synced order."""

    LINE_HEADERS = ["SKU", "Product", "Qty", "Pack", "Price", "Disc. %", "Amount", "Scheme"]
    SCHEME_COLUMN = 7
    FIGURES = range(2, 7)  # quantity, pack, price, discount, amount: right-aligned

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        store_id: uuid.UUID | None = None,
        order_id: uuid.UUID | None = None,
        agent_id: uuid.UUID | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("orderDialog")
        self.ctx = ctx
        self.order_id = order_id
        self.mode = "new"
        self.agent_id = agent_id
        self.store: entry.StoreChoice | None = None
        self.stores: list[entry.StoreChoice] = []
        self.products: list[entry.ProductChoice] = []
        self.by_label: dict[str, entry.ProductChoice] = {}
        self.by_sku: dict[str, entry.ProductChoice] = {}
        self.lines: list[EntryLine] = []
        self.suggestions: list[Suggestion] = []
        self.pending: entry.ProductChoice | None = None
        self.checked: Checked | None = None
        self.result: OrderResult | None = None
        self.ready = False
        self.busy = False
        self._saved: tuple | None = None  # what was last loaded or saved (None: nothing yet)
        self._close_after_save = False
        self._initial_store = store_id
        self._typed_messages: list[tuple[str, str]] = []
        self._checked_messages: list[tuple[str, str]] = []
        self.message_list: list[tuple[str, str]] = []
        self._check_latest = LatestOnly(ctx.runner, "checking the order")
        self.confirm_credit = self._ask_credit  # tests replace this
        self.setWindowTitle("New order")
        self.resize(980, 680)
        self._build()
        self._wire()
        ctx.runner.submit(
            lambda _c: _load(ctx.engine, order_id, ctx.own_stores_only, ctx.identity),
            on_done=self._loaded,
            on_error=lambda exc: show_error(self, exc, "opening the order"),
            name="loading stores and products",
        )

    # ---- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("New order", self)
        self.title.setObjectName("viewTitle")
        self.store_edit = QLineEdit(self)
        self.store_edit.setObjectName("storeEdit")
        self.store_edit.setPlaceholderText("Type the store's name, city or code, then Enter")
        self.store_info = QLabel("", self)
        self.store_info.setObjectName("storeInfo")
        self.return_check = QCheckBox("&Return of goods (quantities come back)", self)
        self.return_check.setObjectName("returnCheck")

        self.product_edit = QLineEdit(self)
        self.product_edit.setObjectName("productEdit")
        self.product_edit.setPlaceholderText("SKU or product name, then Enter")
        self.qty_edit = EnterSpinBox(self)
        self.qty_edit.setObjectName("qtyEdit")
        self.qty_edit.setRange(0, 1_000_000)
        self.qty_edit.setSuffix(" units")
        self.line_disc = EnterDoubleSpinBox(self)
        self.line_disc.setObjectName("lineDiscEdit")
        self.line_disc.setRange(0, 100)
        self.line_disc.setSuffix(" %")
        self.add_button = QPushButton("&Add line", self)
        self.add_button.setObjectName("addLine")
        self.pack_label = QLabel("", self)
        self.pack_label.setObjectName("packLabel")
        entry_row = QHBoxLayout()
        entry_row.addWidget(self.product_edit, 3)
        entry_row.addWidget(QLabel("Qty", self))
        entry_row.addWidget(self.qty_edit)
        entry_row.addWidget(QLabel("Disc.", self))
        entry_row.addWidget(self.line_disc)
        entry_row.addWidget(self.add_button)

        self.table = lines_table(self, self.LINE_HEADERS, "linesTable")

        self.order_disc = QDoubleSpinBox(self)
        self.order_disc.setObjectName("orderDiscEdit")
        self.order_disc.setRange(0, 100)
        self.order_disc.setSuffix(" %")
        self.order_disc.setMaximumWidth(120)
        self.delivery_check = QCheckBox("Requested &delivery", self)
        self.delivery_check.setObjectName("deliveryCheck")
        self.delivery_edit = QDateEdit(self)
        self.delivery_edit.setObjectName("deliveryEdit")
        self.delivery_edit.setCalendarPopup(True)
        self.delivery_edit.setDisplayFormat("dd MMM yyyy")
        self.delivery_edit.setEnabled(False)
        today = self.ctx.today()
        self.delivery_edit.setDate(QDate(today.year, today.month, today.day).addDays(1))
        self.notes_edit = QPlainTextEdit(self)
        self.notes_edit.setObjectName("notesEdit")
        self.notes_edit.setTabChangesFocus(True)
        self.notes_edit.setPlaceholderText("Notes for the office or the delivery")
        self.notes_edit.setMaximumHeight(60)
        delivery_row = QHBoxLayout()
        delivery_row.addWidget(self.delivery_check)
        delivery_row.addWidget(self.delivery_edit)
        delivery_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Order &discount", self.order_disc)
        form.addRow("", delivery_row)
        form.addRow("&Notes", self.notes_edit)

        self.totals_label = QLabel("", self)
        self.totals_label.setObjectName("totalsLabel")
        self.totals_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.messages = QLabel("", self)
        self.messages.setObjectName("messagesLabel")
        self.messages.setWordWrap(True)
        self.messages.setTextFormat(Qt.TextFormat.RichText)

        self.draft_button = QPushButton("Save &draft  (Ctrl+S)", self)
        self.draft_button.setObjectName("saveDraft")
        self.submit_button = QPushButton("&Submit order  (Ctrl+Enter)", self)
        self.submit_button.setObjectName("submitOrder")
        self.close_button = QPushButton("Close", self)
        for button in (self.add_button, self.draft_button, self.submit_button, self.close_button):
            button.setAutoDefault(False)  # Enter belongs to the field being typed in
            button.setDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.messages, 1)
        buttons.addWidget(self.draft_button)
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.close_button)

        store_row = QHBoxLayout()
        store_label = QLabel("S&tore", self)
        store_label.setBuddy(self.store_edit)
        store_row.addWidget(store_label)
        store_row.addWidget(self.store_edit, 2)
        store_row.addWidget(self.return_check)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(store_row)
        layout.addWidget(self.store_info)
        layout.addLayout(entry_row)
        layout.addWidget(self.pack_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.totals_label)
        layout.addLayout(buttons)

        self.store_completer = contains_completer(self.store_edit)
        self.product_completer = contains_completer(self.product_edit, 12)
        self.setTabOrder(self.store_edit, self.product_edit)
        self.setTabOrder(self.product_edit, self.qty_edit)
        self.setTabOrder(self.qty_edit, self.line_disc)
        self.setTabOrder(self.line_disc, self.add_button)
        self.setTabOrder(self.add_button, self.table)
        self.setTabOrder(self.table, self.order_disc)
        self.setTabOrder(self.order_disc, self.delivery_check)
        self.setTabOrder(self.delivery_check, self.delivery_edit)
        self.setTabOrder(self.delivery_edit, self.notes_edit)
        self.setTabOrder(self.notes_edit, self.submit_button)

    def _wire(self) -> None:
        # Enter is taken before the completer sees it (on the field and on its popup), so
        # picking never races the popup handing the focus back to the field.
        self._enter_filters = [
            EnterFilter(self.store_completer, self._pick_store, self),
            EnterFilter(self.product_completer, self._pick_product, self),
        ]
        self.qty_edit.valueChanged.connect(self._show_pack_hint)
        self.qty_edit.entered.connect(self._add_line)
        self.line_disc.entered.connect(self._add_line)
        self.add_button.clicked.connect(lambda: self._add_line())
        self.table.itemChanged.connect(self._cell_edited)
        self.order_disc.valueChanged.connect(self._changed)
        self.return_check.toggled.connect(self._changed)
        self.delivery_check.toggled.connect(self.delivery_edit.setEnabled)
        self.delivery_check.toggled.connect(self._changed)
        self.delivery_edit.dateChanged.connect(self._changed)
        # clicked(bool) must not reach submit()'s accept_credit_warning argument
        self.draft_button.clicked.connect(lambda: self.save_draft())
        self.submit_button.clicked.connect(lambda: self.submit())
        self.close_button.clicked.connect(lambda: self.reject())
        QShortcut(QKeySequence("Ctrl+Return"), self, lambda: self.submit())
        QShortcut(QKeySequence("Ctrl+Enter"), self, lambda: self.submit())
        QShortcut(QKeySequence("Ctrl+S"), self, self.save_draft)
        self.table.installEventFilter(self)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(250)
        self._check_timer.timeout.connect(self._check)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        """Delete (or Backspace) on the lines table removes the selected line."""
        if (
            obj is self.table
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)  # type: ignore[attr-defined]
            and self.table.state() != QAbstractItemView.State.EditingState
        ):
            self.remove_selected()
            return True
        return super().eventFilter(obj, event)

    # ---- loading ----------------------------------------------------------------------------
    def _loaded(self, cat: Catalogue) -> None:
        self.stores, self.products = cat.stores, cat.products
        self.by_label = {p.label.lower(): p for p in self.products}
        self.by_sku = {(p.sku or "").lower(): p for p in self.products if p.sku}
        self.store_completer.setModel(QStringListModel([s.label for s in self.stores], self))
        self.product_completer.setModel(QStringListModel([p.label for p in self.products], self))
        if cat.order is not None:
            self._show_order(cat.order)
            self._saved = self._signature()
        elif self._initial_store is not None:
            store = next((s for s in self.stores if s.id == self._initial_store), None)
            if store is not None:
                self.store_edit.setText(store.label)
                self._set_store(store)
        self.ready = True
        if self.lines:  # an opened order or pre-filled lines: show its schemes and messages
            self._check_timer.start()
        (self.product_edit if self.store else self.store_edit).setFocus()

    def _show_order(self, o: OrderDetail) -> None:
        self.mode = "draft" if o.state == "draft" else "amend"
        self.agent_id = o.agent_id
        verb = "Edit draft" if self.mode == "draft" else "Amend order"
        self.title.setText(f"{verb} {o.number}")
        self.setWindowTitle(f"{verb} {o.number}")
        if self.mode == "amend":
            self.submit_button.setText("&Amend order  (Ctrl+Enter)")
            self.draft_button.setEnabled(False)
            self.store_edit.setReadOnly(True)
            self.return_check.setEnabled(False)
        self.store = entry.StoreChoice(o.store_id, o.store_code, o.store_name, o.store_city, None)
        self.store_edit.setText(self.store.label)
        self.return_check.setChecked(o.kind == OrderKind.RETURN.value)
        self.order_disc.setValue(float(o.discount_pct))
        if o.requested_delivery_date:
            d = o.requested_delivery_date
            self.delivery_check.setChecked(True)
            self.delivery_edit.setDate(QDate(d.year, d.month, d.day))
        self.notes_edit.setPlainText(o.notes or "")
        by_id = {p.id: p for p in self.products}
        for ln in o.lines:
            if ln.free_goods:
                continue  # free goods come back from the schemes when the order is checked
            product = by_id.get(ln.product_id) or entry.ProductChoice(
                ln.product_id, ln.sku, ln.name, ln.unit, ln.pack_size, ln.unit_price
            )
            self.lines.append(
                EntryLine(product, abs(ln.quantity), ln.own_discount_pct, ln.suggested_qty)
            )
        self._refresh_table()

    # ---- store ------------------------------------------------------------------------------
    def _match_store(self, text: str) -> entry.StoreChoice | None:
        t = text.strip().lower()
        if not t:
            return None
        exact = [s for s in self.stores if s.label.lower() == t or s.code.lower() == t]
        if exact:
            return exact[0]
        found = [s for s in self.stores if t in s.label.lower()]
        return found[0] if found else None

    def _pick_store(self) -> None:
        if self.mode == "amend":
            self.product_edit.setFocus()
            return
        store = self._match_store(self.store_edit.text())
        if store is None:
            self._say([("error", f"No store matches “{self.store_edit.text()}”.")])
            return
        self._say([])
        self.store_edit.setText(store.label)
        self._set_store(store)
        self._focus(self.product_edit)

    def _set_store(self, store: entry.StoreChoice) -> None:
        changed = self.store is None or self.store.id != store.id
        self.store = store
        if self.agent_id is None:
            self.agent_id = self.ctx_agent() or store.agent_id
        self.store_info.setText(f"{store.name}, {store.city or ''} · code {store.code}")
        if changed and not self.lines and self.mode == "new":
            engine, sid, identity = self.ctx.engine, store.id, self.ctx.identity
            self.ctx.runner.submit(
                lambda _c: entry.start_lines(engine, sid, identity=identity),
                on_done=self._prefilled,
                name="pre-filling the order",
            )
        self._changed()

    def ctx_agent(self) -> uuid.UUID | None:
        """The signed-in agent, when the app knows one."""
        return self.ctx.agent_id

    def _prefilled(self, pf) -> None:  # noqa: ANN001 - orders.prefill.Prefill
        if self.lines or pf.source == "none":
            return
        by_id = {p.id: p for p in self.products}
        for line in pf.lines:
            product = by_id.get(line.product)
            if product is not None:
                self.lines.append(
                    EntryLine(
                        product, line.quantity, Decimal(0), line.suggested_qty, line.prediction_id
                    )
                )
        self.suggestions = list(pf.suggestions)
        source = {
            "suggestions": "the suggested order",
            "last_order": "the last order",
            "last_invoice": "the last invoice",
        }[pf.source]
        self.store_info.setText(f"{self.store_info.text()} · pre-filled from {source}")
        self._refresh_table()

    # ---- products and lines -----------------------------------------------------------------
    def _match_product(self, text: str) -> entry.ProductChoice | None:
        return match_product(text, self.products, self.by_sku, self.by_label)

    def _pick_product(self) -> None:
        product = self._match_product(self.product_edit.text())
        if product is None:
            self._say([("error", f"No product matches “{self.product_edit.text()}”.")])
            return
        self.pending = product
        self._say([])
        self.product_edit.setText(product.label)
        self.qty_edit.setValue(product.pack_size if product.pack_size > 1 else 1)
        self._show_pack_hint()
        self._focus(self.qty_edit)

    def _focus(self, widget: QWidget) -> None:
        focus_field(widget)

    def _show_pack_hint(self) -> None:
        p = self.pending
        if p is None:
            self.pack_label.setText("")
            return
        unit = p.unit or "units"
        text = f"{p.label}: pack of {p.pack_size} {unit} · {fmt.money(p.price)} each"
        hint = pack_hint(self.qty_edit.value(), p.pack_size)
        if hint:
            text += f" · {hint}"
        self.pack_label.setText(text)

    def _add_line(self) -> None:
        product = self.pending or self._match_product(self.product_edit.text())
        if product is None:
            self.product_edit.setFocus()
            return
        qty = self.qty_edit.value()
        disc = Decimal(str(round(self.line_disc.value(), 2)))
        existing = next((x for x in self.lines if x.product.id == product.id), None)
        if existing is not None and qty > 0 and existing.discount_pct == disc:
            existing.quantity += qty  # the same product again: one line, as the server would
        else:
            self.lines.append(EntryLine(product, qty, disc))
        self.pending = None
        self.product_edit.clear()
        self.qty_edit.setValue(0)
        self.line_disc.setValue(0)
        self.pack_label.setText("")
        self._refresh_table()
        self.product_edit.setFocus()

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.lines):
            del self.lines[row]
            self._refresh_table()
            self.table.selectRow(min(row, len(self.lines) - 1))

    def _refresh_table(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.lines))
        sign = -1 if self.return_check.isChecked() else 1
        for r, ln in enumerate(self.lines):
            money = line_money(sign * ln.quantity, ln.product.price, ln.discount_pct)
            cells = [
                ln.product.sku or "",
                ln.product.name,
                str(ln.quantity),
                str(ln.product.pack_size),
                fmt.money(ln.product.price),
                fmt.pct_number(ln.discount_pct),
                fmt.money(money.total),
                "",  # the schemes arrive with the check (_show_schemes)
            ]
            suggested = None if ln.suggested_qty is None else f"Suggested {ln.suggested_qty}"
            fill_row(self.table, r, cells, editable=(2, 5), right=self.FIGURES, tips={2: suggested})
        self.table.blockSignals(False)
        self._changed()

    def _cell_edited(self, item: QTableWidgetItem) -> None:
        row, col = item.row(), item.column()
        if not 0 <= row < len(self.lines):
            return
        text = item.text().strip().rstrip("%").strip()
        try:
            if col == 2:
                self.lines[row].quantity = int(text)
            elif col == 5:
                self.lines[row].discount_pct = Decimal(text or "0")
        except (ValueError, ArithmeticError):
            self._say([("error", f"“{item.text()}” is not a number.")])
        self._refresh_table()

    # ---- totals and checks ------------------------------------------------------------------
    def _changed(self) -> None:
        sign = -1 if self.return_check.isChecked() else 1
        try:
            monies = [
                line_money(sign * x.quantity, x.product.price, x.discount_pct) for x in self.lines
            ]
            t = order_money(monies, Decimal(str(round(self.order_disc.value(), 2))))
            units = sum(x.quantity for x in self.lines)
            self.totals_label.setText(
                f"{len(self.lines)} lines · {fmt.number(units)} units · subtotal {fmt.money(t.subtotal)}"
                f" · discounts {fmt.money(t.discount_total)} · <b>total {fmt.money(t.total)}</b>"
            )
        except ArithmeticError:
            self.totals_label.setText("")
        if self.ready:
            self._check_timer.start()

    def draft(self) -> OrderDraft:
        delivery = None
        if self.delivery_check.isChecked():
            d = self.delivery_edit.date()
            delivery = dt.date(d.year(), d.month(), d.day())
        return OrderDraft(
            store=self.store.id if self.store else None,
            agent_id=self.agent_id or uuid.UUID(int=0),
            lines=[
                LineInput(
                    x.product.id, x.quantity, x.discount_pct, x.suggested_qty, x.prediction_id
                )
                for x in self.lines
            ],
            kind=OrderKind.RETURN if self.return_check.isChecked() else OrderKind.ORDER,
            discount_pct=Decimal(str(round(self.order_disc.value(), 2))),
            notes=self.notes_edit.toPlainText(),
            requested_delivery_date=delivery,
            order_date=self.ctx.today(),
            suggestions=list(self.suggestions),
        )

    def _check(self) -> None:
        engine, draft, oid = self.ctx.engine, self.draft(), self.order_id
        self._check_latest.request(lambda _c: entry.check(engine, draft, oid), self._checked)

    def _checked(self, checked: Checked) -> None:
        if not shiboken6.isValid(self.messages):
            return  # the dialog was closed while the check ran
        self.checked = checked
        self._show_schemes(checked)
        msgs = [("error", str(e)) for e in checked.errors]
        msgs += [("warning", str(w)) for w in checked.warnings]
        msgs += [("notice", str(n)) for n in checked.notices]
        self._checked_messages = msgs
        self._show_messages()

    def _show_schemes(self, checked: Checked) -> None:
        """The schemes the check applied: per typed line its amount after the scheme and the
        reason in words; each free-goods line as an extra row (not editable) at price 0; the
        totals as the order will be saved (docs/orders.md "Schemes")."""
        paid = {x.product_id: x for x in checked.lines if not x.free_goods}
        free = [x for x in checked.lines if x.free_goods]
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.lines) + len(free))
        for r, ln in enumerate(self.lines):
            pl = paid.get(ln.product.id)
            if pl is None or pl.quantity != (-1 if checked_return(checked) else 1) * ln.quantity:
                continue
            set_cell(self.table, r, 6, fmt.money(pl.total), right=True)
            set_cell(self.table, r, self.SCHEME_COLUMN, scheme_words(pl), tip=pl.scheme_reason)
        for i, pl in enumerate(free, start=len(self.lines)):
            cells = [
                pl.sku or "",
                pl.name,
                str(pl.quantity),
                str(pl.pack_size),
                fmt.money(0),
                "",
                "free",
                f"Free · {pl.scheme_reason or ''}",
            ]
            tips = dict.fromkeys(range(len(cells)), pl.scheme_reason)
            fill_row(self.table, i, cells, right=self.FIGURES, tips=tips)
        self.table.blockSignals(False)
        if self.lines:
            units = sum(x.quantity for x in self.lines)
            offered = sum((x.scheme_value for x in checked.lines if x.free_goods), Decimal(0))
            gift = f" · free goods worth {fmt.money(offered)}" if offered else ""
            self.totals_label.setText(
                f"{len(self.lines)} lines · {fmt.number(units)} units · subtotal "
                f"{fmt.money(checked.subtotal)} · discounts {fmt.money(checked.discount_total)}"
                f"{gift} · <b>total {fmt.money(checked.total)}</b>"
            )

    def _say(self, msgs: list[tuple[str, str]]) -> None:
        """Messages about what was just typed (kept until the next thing typed succeeds)."""
        self._typed_messages = msgs
        self._show_messages()

    def _show_messages(self, checked: list[tuple[str, str]] | None = None) -> None:
        if checked is not None:
            self._checked_messages = checked
        msgs = self._typed_messages + self._checked_messages
        colours = {"error": "#c62828", "warning": "#b26a00", "notice": "#555555"}
        self.messages.setText(
            "<br>".join(f'<span style="color:{colours[k]}">{_html(t)}</span>' for k, t in msgs)
        )
        self.message_list = msgs

    @property
    def idle(self) -> bool:
        return not self.busy and self._check_latest.idle and not self._check_timer.isActive()

    # ---- writes -----------------------------------------------------------------------------
    def _ask_credit(self, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Credit limit",
            f"{text}\n\nSubmit the order anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def save_draft(self) -> None:
        if self.mode == "amend" or self.busy:
            return
        engine, draft, oid = self.ctx.engine, self.draft(), self.order_id
        who = self.ctx.identity
        self._write(lambda: service.save_draft(engine, draft, identity=who, order_id=oid))

    def submit(self, accept_credit_warning: bool = False) -> None:
        if self.busy or not self.ready:
            return
        engine, draft, oid = self.ctx.engine, self.draft(), self.order_id
        accept = bool(accept_credit_warning)
        who = self.ctx.identity
        hook = order_audit(desktop_actor(self.ctx))
        if self.mode == "amend":
            self._write(
                lambda: service.amend(
                    engine, oid, draft, identity=who, accept_credit_warning=accept, on_write=hook
                )
            )
        else:
            self._write(
                lambda: service.submit(
                    engine,
                    draft,
                    identity=who,
                    order_id=oid,
                    accept_credit_warning=accept,
                    on_write=hook,
                )
            )

    # ---- closing ----------------------------------------------------------------------------
    def _signature(self) -> tuple:
        """What the person would lose by closing: lines and the order's own fields."""
        d = self.delivery_edit.date() if self.delivery_check.isChecked() else None
        return (
            self.store.id if self.store else None,
            tuple((x.product.id, x.quantity, x.discount_pct) for x in self.lines),
            round(self.order_disc.value(), 2),
            self.return_check.isChecked(),
            d.toString("yyyy-MM-dd") if d is not None else None,
            self.notes_edit.toPlainText(),
        )

    @property
    def unsaved(self) -> bool:
        """True when closing would lose lines or changes (a new order with no lines loses
        nothing)."""
        if self._saved is None:
            return bool(self.lines)
        return self._signature() != self._saved

    def reject(self) -> None:
        """Esc, Close and the window's close button: ask before losing unsaved lines."""
        if self.busy:
            return  # a write is on its way; its answer closes or keeps the dialog
        if not self.isVisible() or not self.unsaved or self._confirm_close():
            super().reject()

    def _confirm_close(self) -> bool:
        n = len(self.lines)
        box = QMessageBox(self)
        box.setObjectName("unsavedOrder")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved order")
        box.setText(f"This order has {n} unsaved line{'s' if n != 1 else ''}.")
        box.setInformativeText("Close it and lose them?")
        save = None
        if self.mode != "amend" and self.store is not None:
            save = box.addButton("Save &draft", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("&Discard", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        clicked = box.clickedButton()
        if save is not None and clicked is save:
            self._close_after_save = True
            self.save_draft()
            return False
        return clicked is discard

    def _write(self, fn) -> None:  # noqa: ANN001
        self.busy = True
        self.ctx.runner.submit(
            lambda _c: Written(fn(), Changes.of(*ORDER_TABLES)),
            write=True,
            on_done=self._written,
            on_error=self._write_failed,
            name="saving the order",
        )

    def _written(self, w: Written) -> None:
        self.busy = False
        self.result = w.value
        if w.value.state == "draft":
            self.order_id = w.value.order_id
            self.mode = "draft"
            self.title.setText(f"Edit draft {w.value.number}")
            self.ctx.status(f"Draft {w.value.number} saved")
            self._say([("notice", f"Draft {w.value.number} saved.")])
            self._saved = self._signature()
            if self._close_after_save:
                self.accept()
            return
        verb = "amended" if self.mode == "amend" else "submitted"
        self.ctx.status(f"Order {w.value.number} {verb}: {fmt.money(w.value.total)}")
        self.accept()

    def _write_failed(self, exc: BaseException) -> None:
        self.busy = False
        self._close_after_save = False
        if isinstance(exc, OrderInvalid):
            self._show_messages([("error", str(i)) for i in exc.issues])
        elif isinstance(exc, CreditLimitExceeded):
            if self.confirm_credit(exc.issue.message):
                self.submit(accept_credit_warning=True)
            else:
                self._show_messages([("warning", exc.issue.message)])
        else:
            show_error(self, exc, "saving the order")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
