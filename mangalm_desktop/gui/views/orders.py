"""Orders: the list (lazy, filterable by state, store text, agent and date), the selected
order's detail, and the actions — new (Ctrl+Shift+N), edit/amend, duplicate, cancel, PDF, print,
log a call, record shelf stock.

The list model reads one page per worker call (``orders.entry.page``); the first paint needs
only the first page (benchmarks/orders_bench.py). Every write runs on the single writer and
announces its changes, so the list refreshes itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...domain import formatting as fmt
from ...domain.changes import Changes
from ...domain.errors import UserError
from ...messaging.service import CONFIRMABLE
from ...orders import entry, pdf, service
from ...orders.access import order_audit
from ...orders.queries import OrderDetail, OrderFilter
from ..call_dialogs import CallDialog, StockDialog
from ..confirmations import ConfirmationBar, email_confirmation, share_on_whatsapp
from ..context import AppContext
from ..errors import show_error
from ..mail_dialogs import MailQueueDialog
from ..order_dialog import ORDER_TABLES, OrderDialog, desktop_actor
from ..order_print import preview_and_print
from ..orders_model import STATE_TEXT, OrdersModel
from ..tablemodels import RIGHT, Column, RowsModel
from ..workers import Written
from .base import View, focus_search_box, list_and_detail, search_field, title_bar

LINE_COLUMNS = [
    Column("no", "#", lambda ln: str(ln.line_no), RIGHT),
    Column("sku", "SKU", lambda ln: ln.sku or ""),
    Column("name", "Product", lambda ln: ln.name),
    Column("qty", "Qty", lambda ln: f"{fmt.number(ln.quantity)}", RIGHT),
    Column("price", "Price", lambda ln: fmt.money(ln.unit_price), RIGHT),
    Column(
        "disc",
        "Disc. %",
        lambda ln: f"{ln.discount_pct.normalize():f}" if ln.discount_pct else "",
        RIGHT,
    ),
    Column("total", "Amount", lambda ln: fmt.money(ln.line_total), RIGHT),
    Column(
        "scheme",
        "Scheme",
        lambda ln: ("Free · " if ln.free_goods else "") + (ln.scheme_reason or ""),
    ),
]
ANY_DATE = QDate(2000, 1, 1)


def save_order_pdf(d: OrderDetail, target: Path) -> Path:
    """``orders.pdf.save_order_pdf`` (whole or not at all), with a folder that cannot be
    written said in words."""
    try:
        return pdf.save_order_pdf(d, target)
    except OSError as exc:
        raise UserError(
            f"{target.name} could not be saved in {target.parent}: {exc.strerror or exc}.",
            hint="Choose another folder or file name.",
        ) from exc


class OrdersView(View):
    view_id = "orders"
    title = "Orders"
    icon_name = "orders"
    description = "Drafts, submitted and synced orders; new order with Ctrl+Shift+N."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.loaded = False
        self.detail: OrderDetail | None = None
        self.dialogs: list[QWidget] = []
        self._detail_request = 0
        self._reselect: uuid.UUID | None = None

        self.search = search_field(self, "orderSearch", "Order number or store  (Ctrl+F)")
        self.state = QComboBox(self)
        self.state.setObjectName("stateFilter")
        self.state.addItem("All states", None)
        self.state.addItem(
            "Open (submitted, synced, sent)", ("submitted", "synced", "sent_to_zoho")
        )
        for value, text in STATE_TEXT.items():
            self.state.addItem(text, (value,))
        self.agent = QComboBox(self)
        self.agent.setObjectName("agentFilter")
        self.agent.addItem("All agents", None)
        self.date_from = self._date_edit("dateFrom", "From: any")
        self.date_to = self._date_edit("dateTo", "To: any")
        self.count_label = QLabel("", self)
        bar = title_bar(
            self,
            "Orders",
            self.search,
            self.count_label,
            self.state,
            self.agent,
            self.date_from,
            self.date_to,
        )

        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        for key, text, slot in [
            ("new", "&New order", self.new_order),
            ("edit", "Edit / &amend", self.edit_selected),
            ("duplicate", "D&uplicate", self.duplicate_selected),
            ("cancel", "&Cancel order", self.cancel_selected),
            ("pdf", "Save &PDF…", self.save_pdf),
            ("print", "P&rint…", self.print_selected),
            ("call", "&Log call…", self.log_call),
            ("stock", "Shelf s&tock…", self.record_stock),
            ("email", "E-&mail confirmation", self.email_selected),
            ("whatsapp", "&WhatsApp", self.whatsapp_selected),
            ("mailqueue", "Mail &queue…", self.open_mail_queue),
        ]:
            button = QPushButton(text, self)
            button.setObjectName(f"order_{key}")
            # clicked(bool) would land in a slot's first optional argument (the cancel reason,
            # the PDF path): every button calls its slot with no argument.
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            actions.addWidget(button)
            self.buttons[key] = button
        actions.addStretch(1)

        self.model = OrdersModel(ctx.engine, ctx.runner, self, identity=lambda: ctx.identity)
        self.table = QTableView(self)
        self.table.setObjectName("ordersTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setSectionsMovable(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate([150, 95, 100, 60, 230, 60, 110, 95]):
            self.table.horizontalHeader().resizeSection(column, width)

        self.detail_pane = QWidget(self)
        self.detail_title = QLabel("Select an order", self.detail_pane)
        self.detail_title.setObjectName("viewTitle")
        self.detail_info = QLabel("", self.detail_pane)
        self.detail_info.setObjectName("orderInfo")
        self.detail_info.setWordWrap(True)
        self.lines_model = RowsModel(LINE_COLUMNS, self)
        self.lines_table = QTableView(self.detail_pane)
        self.lines_table.setObjectName("orderLines")
        self.lines_table.setModel(self.lines_model)
        self.lines_table.verticalHeader().setVisible(False)
        self.lines_table.setWordWrap(False)
        self.lines_table.verticalHeader().setDefaultSectionSize(22)
        header = self.lines_table.horizontalHeader()
        for column in range(len(LINE_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.detail_totals = QLabel("", self.detail_pane)
        self.detail_totals.setObjectName("orderTotals")
        self.detail_totals.setAlignment(Qt.AlignmentFlag.AlignRight)
        d = QVBoxLayout(self.detail_pane)
        d.setContentsMargins(8, 0, 0, 0)
        d.addWidget(self.detail_title)
        d.addWidget(self.detail_info)
        d.addWidget(self.lines_table, 1)
        d.addWidget(self.detail_totals)

        self.splitter = list_and_detail(
            self, "ordersSplitter", self.table, self.detail_pane, [700, 460]
        )
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(actions)
        self.confirmation_bar = ConfirmationBar(ctx, self)
        layout.addWidget(self.confirmation_bar)
        layout.addWidget(self.splitter, 1)

        self.search.textChanged.connect(self.refresh)
        self.state.currentIndexChanged.connect(self.refresh)
        self.agent.currentIndexChanged.connect(self.refresh)
        self.date_from.dateChanged.connect(self.refresh)
        self.date_to.dateChanged.connect(self.refresh)
        self.model.loaded.connect(self._page_loaded)
        self.model.counted.connect(
            lambda: self.count_label.setText(f"{fmt.number(self.model.total or 0)} orders")
        )
        self.table.selectionModel().currentRowChanged.connect(
            lambda cur, _prev: self._select(cur.row())
        )
        # Enter or a double-click opens the order (activated is both; doubleClicked as well
        # would open it twice)
        self.table.activated.connect(lambda _i: self.open_selected())
        self._update_buttons()

    def _date_edit(self, name: str, special: str) -> QDateEdit:
        edit = QDateEdit(self)
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd MMM yyyy")
        edit.setMinimumDate(ANY_DATE)
        edit.setSpecialValueText(special)
        edit.setDate(ANY_DATE)
        return edit

    # ---- loading ----------------------------------------------------------------------------
    def activated(self) -> None:
        if not self.loaded:
            self.loaded = True
            engine = self.ctx.engine
            self.ctx.runner.submit(
                lambda _c: entry.agent_choices(engine), on_done=self._agents, name="loading agents"
            )
            self.refresh()

    def _agents(self, agents: list[entry.AgentChoice]) -> None:
        self.agent.blockSignals(True)
        for a in agents:
            self.agent.addItem(f"{a.code} {a.name}", a.id)
        self.agent.blockSignals(False)

    @staticmethod
    def _day(edit: QDateEdit) -> dt.date | None:
        q = edit.date()
        return None if q == ANY_DATE else dt.date(q.year(), q.month(), q.day())

    def current_filter(self) -> OrderFilter:
        return OrderFilter(
            states=self.state.currentData(),
            agent_id=self.agent.currentData(),
            date_from=self._day(self.date_from),
            date_to=self._day(self.date_to),
            text=self.search.text() or None,
        )

    def refresh(self) -> None:
        self.model.set_filter(self.current_filter())

    def _page_loaded(self) -> None:
        if self.model.total is None:
            self.count_label.setText(f"{fmt.number(len(self.model.rows))}+ orders")
        if self.table.currentIndex().row() >= 0 or not self.model.rows:
            return
        ids = [r.id for r in self.model.rows]
        keep, self._reselect = self._reselect, None
        self.table.selectRow(ids.index(keep) if keep in ids else 0)

    def selected_id(self) -> uuid.UUID | None:
        row = self.table.currentIndex().row()
        return self.model.rows[row].id if 0 <= row < len(self.model.rows) else None

    def _select(self, row: int) -> None:
        if not 0 <= row < len(self.model.rows):
            return
        oid, engine, identity = self.model.rows[row].id, self.ctx.engine, self.ctx.identity
        self._detail_request += 1
        request = self._detail_request
        self.ctx.runner.submit(
            lambda _c: entry.detail(engine, oid, identity=identity),
            on_done=lambda d: self._show_detail(request, d),
            name="loading the order",
        )

    def _show_detail(self, request: int, d: OrderDetail) -> None:
        if request != self._detail_request:
            return
        self.detail = d
        kind = "Return" if d.kind == "return" else "Order"
        self.detail_title.setText(f"{kind} {d.number}")
        parts = [
            f"{STATE_TEXT.get(d.state, d.state)} · {fmt.day(d.order_date)}",
            f"{d.store_name} ({d.store_code}), {d.store_city or ''}",
            f"Agent {d.agent_code} {d.agent_name}",
        ]
        if d.requested_delivery_date:
            parts.append(f"Delivery requested {fmt.day(d.requested_delivery_date)}")
        if d.notes:
            parts.append(f"Notes: {d.notes}")
        self.detail_info.setText("\n".join(parts))
        self.lines_model.set_rows(d.lines)
        self.detail_totals.setText(
            f"Subtotal {fmt.money(d.subtotal)} · discounts {fmt.money(d.discount_total)} · "
            f"<b>total {fmt.money(d.total)}</b>"
        )
        self._update_buttons()

    def _update_buttons(self) -> None:
        d = self.detail
        has = d is not None
        for key in ("duplicate", "pdf", "print", "call", "stock"):
            self.buttons[key].setEnabled(has)
        confirmable = has and d.state in CONFIRMABLE
        self.buttons["email"].setEnabled(confirmable)
        self.buttons["whatsapp"].setEnabled(confirmable)
        changeable = has and d.state in ("draft", *service.AMENDABLE)
        self.buttons["edit"].setEnabled(changeable)
        self.buttons["cancel"].setEnabled(changeable)
        if has:
            self.buttons["cancel"].setText(
                "&Discard draft" if d.state == "draft" else "&Cancel order"
            )

    # ---- actions ----------------------------------------------------------------------------
    def _open_dialog(self, dialog: QWidget) -> QWidget:
        self.dialogs = [x for x in self.dialogs if x.isVisible()]
        self.dialogs.append(dialog)
        if isinstance(dialog, OrderDialog):
            dialog.accepted.connect(lambda d=dialog: self._order_closed(d))
        dialog.open()
        return dialog

    def _order_closed(self, dialog: OrderDialog) -> None:
        """After a submit (not an amend or a draft): offer the confirmation to the store."""
        r = dialog.result
        if r is not None and r.state == "submitted" and dialog.mode != "amend":
            self.confirmation_bar.show_for(r.order_id, r.number)

    def email_selected(self) -> None:
        if self.detail is not None and self.detail.state in CONFIRMABLE:
            email_confirmation(self.ctx, self, self.detail.id)

    def whatsapp_selected(self) -> None:
        if self.detail is not None and self.detail.state in CONFIRMABLE:
            share_on_whatsapp(self.ctx, self, self.detail.id)

    def open_mail_queue(self) -> MailQueueDialog:
        return self._open_dialog(MailQueueDialog(self.ctx, self))  # type: ignore[return-value]

    def new_order(self, store_id: uuid.UUID | None = None) -> OrderDialog:
        """Ctrl+Shift+N (main window), the store detail and the call list start here."""
        return self._open_dialog(OrderDialog(self.ctx, self, store_id=store_id))  # type: ignore[return-value]

    def open_selected(self) -> OrderDialog | None:
        """Enter on a row: edit or amend it when it still can change (else the detail pane
        already shows it)."""
        row = self.table.currentIndex().row()
        if self.detail is None or self.selected_id() != self.detail.id or row < 0:
            return None
        return self.edit_selected()

    def open_order(self, order_id: uuid.UUID) -> OrderDialog:
        """Open ``order_id`` for editing (Predictions opens the draft it just made here)."""
        return self._open_dialog(OrderDialog(self.ctx, self, order_id=order_id))  # type: ignore[return-value]

    def edit_selected(self) -> OrderDialog | None:
        if self.detail is None or self.detail.state not in ("draft", *service.AMENDABLE):
            return None
        return self._open_dialog(OrderDialog(self.ctx, self, order_id=self.detail.id))  # type: ignore[return-value]

    def _write(self, fn, doing: str) -> None:  # noqa: ANN001
        self.ctx.runner.submit(
            lambda _c: Written(fn(), Changes.of(*ORDER_TABLES)),
            write=True,
            on_done=lambda w: self.ctx.status(f"Order {w.value.number}: {w.value.state}"),
            on_error=lambda exc: show_error(self, exc, doing),
            name=doing,
        )

    def duplicate_selected(self) -> None:
        d = self.detail
        if d is None:
            return
        engine, agent = self.ctx.engine, self.ctx.order_agent(d.agent_id)
        today, who = self.ctx.today(), self.ctx.identity
        self._write(
            lambda: service.duplicate(engine, d.id, agent_id=agent, identity=who, today=today),
            "duplicating the order",
        )

    def cancel_selected(self) -> None:
        """Asks first, with the reason (required to cancel a submitted order, optional to
        discard a draft); nothing happens when the person says no."""
        d = self.detail
        if d is None:
            return
        draft = d.state == "draft"
        what = "Discard draft" if draft else "Cancel order"
        question = f"{what} {d.number} for {d.store_name} ({fmt.money(d.total)})?\n" + (
            "Reason (optional):" if draft else "Reason (required):"
        )
        while True:
            reason, ok = QInputDialog.getText(self, what, question)
            if not ok:
                return
            reason = reason.strip()
            if reason or draft:
                break
            question = f"A reason is needed to cancel {d.number}.\nReason (required):"
        engine = self.ctx.engine
        hook, who = order_audit(desktop_actor(self.ctx)), self.ctx.identity
        self._write(
            lambda: service.cancel(engine, d.id, identity=who, reason=reason, on_write=hook),
            "cancelling the order",
        )

    def save_pdf(self) -> None:
        """Asks where, then writes the order confirmation there (errors in words)."""
        d = self.detail
        if d is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save order PDF", f"{d.number}.pdf", "PDF files (*.pdf)"
        )
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != ".pdf":
            target = target.with_name(target.name + ".pdf")
        self.ctx.runner.submit(
            lambda _c: save_order_pdf(d, target),
            on_done=lambda _r: self.ctx.status(f"Saved {target.name}"),
            on_error=lambda exc: show_error(self, exc, "writing the PDF"),
            name="writing the order PDF",
        )

    def print_selected(self) -> None:
        d = self.detail
        if d is None:
            return
        self.ctx.runner.submit(
            lambda _c: pdf.order_pdf_bytes(d),
            on_done=lambda data: self.dialogs.append(
                preview_and_print(data, f"Order {d.number}", self)
            ),
            on_error=lambda exc: show_error(self, exc, "preparing the print"),
            name="preparing the print",
        )

    def log_call(self) -> CallDialog | None:
        d = self.detail
        if d is None:
            return None
        return self._open_dialog(  # type: ignore[return-value]
            CallDialog(self.ctx, d.store_id, d.store_name, self, agent_id=d.agent_id, order_id=d.id)
        )

    def record_stock(self) -> StockDialog | None:
        d = self.detail
        if d is None:
            return None
        return self._open_dialog(  # type: ignore[return-value]
            StockDialog(self.ctx, d.store_id, d.store_name, self, agent_id=d.agent_id)
        )

    # ---- hooks ------------------------------------------------------------------------------
    def on_changes(self, changes: Changes) -> None:
        if self.loaded and changes.touches("orders", "order_line", "store", "agent"):
            self._reselect = self.selected_id()
            self.refresh()

    def focus_search(self) -> bool:
        return focus_search_box(self.search)

    def save_state(self, settings: QSettings) -> None:
        self.save_layout(settings, header=self.table.horizontalHeader(), splitter=self.splitter)

    def restore_state(self, settings: QSettings) -> None:
        self.restore_layout(settings, header=self.table.horizontalHeader(), splitter=self.splitter)

    def self_test(self) -> None:
        if self.model.loading or (self.model.rows == [] and not self.model.exhausted):
            raise RuntimeError("the order list did not load")
