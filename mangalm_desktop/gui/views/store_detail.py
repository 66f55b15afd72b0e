"""One store in its own window: profile (editable), weekly sales, top products, invoices, calls.

Everything arrives in one worker call (:func:`load_store_detail`); invoice lines are fetched
when an invoice is selected; a profile save goes through the Qt-free
:func:`save_store_profile` on the single writer thread, and the change signal tells the other
views.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...db.queries.store_detail import (
    CallRow,
    InvoiceLineRow,
    InvoiceSummary,
    StoreDetail,
    TopProduct,
    invoice_lines,
    load_store_detail,
)
from ...db.store_profile import (
    SIZE_CLASSES,
    ProfileEdit,
    ProfileInvalid,
    SaveResult,
    save_store_profile,
)
from ...domain import formatting as fmt
from ...domain.changes import Changes
from ..charts import WeeklySalesChart
from ..context import AppContext
from ..errors import show_error
from ..resources import icon, load_ui, ui_child
from ..tablemodels import RIGHT, Column, RowsModel
from .forecast_views import UpsellPanel

TOP_COLUMNS = [
    Column("name", "Product", lambda p: p.name),
    Column("brand", "Brand", lambda p: p.brand),
    Column("qty", "Units, 12 mo", lambda p: f"{fmt.number(p.quantity_12m)}", RIGHT),
    Column("value", "Value, 12 mo", lambda p: fmt.money(p.value_12m, paise=False), RIGHT),
    Column(
        "trend",
        "Trend",
        lambda p: fmt.trend(p.trend_pct),
        RIGHT,
        tooltip=lambda p: (
            f"Last 13 weeks {fmt.number(p.recent_qty)} units, the 13 before {fmt.number(p.previous_qty)}"
        ),
    ),
]
INVOICE_COLUMNS = [
    Column("number", "Invoice", lambda i: i.number),
    Column("date", "Date", lambda i: fmt.day(i.date), RIGHT),
    Column("kind", "Kind", lambda i: "credit note" if i.kind == "credit_note" else i.kind),
    Column("status", "Status", lambda i: i.status.replace("_", " ")),
    Column("lines", "Lines", lambda i: f"{fmt.number(i.lines)}", RIGHT),
    Column("total", "Total", lambda i: fmt.money(i.total), RIGHT),
    Column("balance", "Balance due", lambda i: fmt.money(i.balance), RIGHT),
]
LINE_COLUMNS = [
    Column("line", "#", lambda line: str(line.line_no), RIGHT),
    Column("product", "Product", lambda line: line.product),
    Column("sku", "SKU", lambda line: line.sku),
    Column("qty", "Qty", lambda line: f"{fmt.number(line.quantity)}", RIGHT),
    Column("price", "Unit price", lambda line: fmt.money(line.unit_price), RIGHT),
    Column("total", "Line total", lambda line: fmt.money(line.line_total), RIGHT),
]
CALL_COLUMNS = [
    Column("at", "When", lambda c: c.called_at.astimezone().strftime("%d %b %Y %H:%M"), RIGHT),
    Column("outcome", "Outcome", lambda c: c.outcome.replace("_", " ")),
    Column("agent", "Agent", lambda c: c.agent),
    Column("next", "Next call", lambda c: fmt.day(c.next_call_date), RIGHT),
    Column("notes", "Notes", lambda c: c.notes, tooltip=lambda c: c.notes),
]
PROFILE_FIELDS = {
    "address": "addressEdit",
    "contact_name": "contactEdit",
    "phone": "phoneEdit",
    "email": "emailEdit",
    "size_class": "sizeClassCombo",
    "call_cadence_days": "cadenceEdit",
    "credit_limit": "creditLimitEdit",
    "notes": "notesEdit",
}


def _table(parent: QWidget, model: RowsModel, name: str, stretch: int = 0) -> QTableView:
    table = QTableView(parent)
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    header = table.horizontalHeader()
    header.setResizeContentsPrecision(30)  # size columns from the first rows, not all of them
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


class StoreDetailWindow(QWidget):
    def __init__(self, ctx: AppContext, store_id: uuid.UUID, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ctx = ctx
        self.store_id = store_id
        self.detail: StoreDetail | None = None
        self.version: int | None = None
        self.load_seconds: float | None = None
        self.last_save: SaveResult | None = None
        self.reload()  # the query runs while the widgets below are built; results come queued
        self.setWindowTitle("Store")
        self.setWindowIcon(icon("stores"))
        self.resize(1100, 760)

        self.name_label = QLabel("Loading…", self)
        self.name_label.setObjectName("viewTitle")
        self.sub_label = QLabel("", self)
        self.kpi: dict[str, QLabel] = {}
        kpis = QGridLayout()
        for column, (key, caption) in enumerate(
            [
                ("balance", "Outstanding"),
                ("limit", "Credit limit"),
                ("sales", "Sales, last 12 months"),
                ("last", "Last order"),
                ("cadence", "Call every"),
            ]
        ):
            value = QLabel("–", self)
            value.setObjectName("kpiValue")
            cap = QLabel(caption, self)
            cap.setObjectName("kpiCaption")
            kpis.addWidget(value, 0, column)
            kpis.addWidget(cap, 1, column)
            self.kpi[key] = value

        self.tabs = QTabWidget(self)
        # Sales tab: chart over top products
        self.chart = WeeklySalesChart(self)
        self.top_model = RowsModel(TOP_COLUMNS, self)
        self.top_table = _table(self, self.top_model, "topProducts")
        sales = QSplitter(Qt.Orientation.Vertical, self)
        sales.addWidget(self.chart)
        top_box = QWidget(self)
        top_layout = QVBoxLayout(top_box)
        top_layout.setContentsMargins(0, 6, 0, 0)
        top_layout.addWidget(
            QLabel("Top products (last 12 months; trend: last 13 weeks vs the 13 before)", top_box)
        )
        top_layout.addWidget(self.top_table)
        sales.addWidget(top_box)
        sales.setSizes([380, 300])
        self.tabs.addTab(sales, "&Sales")
        # Invoices tab
        self.invoice_model = RowsModel(INVOICE_COLUMNS, self)
        self.invoice_table = _table(self, self.invoice_model, "invoices", stretch=3)
        self.line_model = RowsModel(LINE_COLUMNS, self)
        self.line_table = _table(self, self.line_model, "invoiceLines", stretch=1)
        invoices = QSplitter(Qt.Orientation.Vertical, self)
        invoices.addWidget(self.invoice_table)
        invoices.addWidget(self.line_table)
        self.invoices_page = invoices
        self.tabs.addTab(invoices, "&Invoices")
        self.tabs.currentChanged.connect(lambda _i: self._select_first_invoice())
        self.invoice_table.selectionModel().currentRowChanged.connect(
            lambda current, _prev: self._load_lines(current.row())
        )
        # Profile tab (Designer form)
        self.form = load_ui("store_profile.ui", self)
        self.fields: dict[str, QWidget] = {
            key: self.form.findChild(QWidget, name) for key, name in PROFILE_FIELDS.items()
        }
        size: QComboBox = self.fields["size_class"]  # type: ignore[assignment]
        size.addItem("", "")
        for cls in SIZE_CLASSES:
            size.addItem({"S": "S — small", "M": "M — medium", "L": "L — large"}[cls], cls)
        self.form_message: QLabel = ui_child(self.form, QLabel, "formMessage")
        self.save_button: QPushButton = ui_child(self.form, QPushButton, "saveButton")
        self.revert_button: QPushButton = ui_child(self.form, QPushButton, "revertButton")
        self.save_button.clicked.connect(self.save_profile)
        self.revert_button.clicked.connect(lambda: self._fill_profile())
        self._filling = False
        self.form_dirty = False
        """Typed into and not saved: a reload arriving in the background keeps the person's
        text (and the marks of a refused save) instead of putting the stored values back."""
        for widget in self.fields.values():
            changed = (
                widget.currentIndexChanged if isinstance(widget, QComboBox) else widget.textChanged
            )
            changed.connect(self._form_edited)
        self.tabs.addTab(self.form, "&Profile")
        # Calls tab
        self.call_model = RowsModel(CALL_COLUMNS, self)
        self.call_table = _table(self, self.call_model, "calls", stretch=4)
        self.tabs.addTab(self.call_table, "&Calls")
        # Upsell tab (forecasting): similar-store suggestions, loaded when first shown
        self.upsell_panel = UpsellPanel(ctx, store_id, self)
        self.tabs.addTab(self.upsell_panel, "&Upsell")

        layout = QVBoxLayout(self)
        title_row = QHBoxLayout()
        title_row.addWidget(self.name_label, 1)
        self.new_order_button = QPushButton(icon("orders"), "New order for this store", self)
        self.new_order_button.setToolTip(
            "Take an order for this store (pre-filled from suggestions)"
        )
        self.new_order_button.clicked.connect(self.new_order)
        title_row.addWidget(self.new_order_button)
        self.call_button = QPushButton("&Call / visit…", self)
        self.call_button.setObjectName("storeCallButton")
        self.call_button.setToolTip(
            "The call screen: order, no-order reason, shelf stock, next call in one save"
        )
        self.call_button.clicked.connect(lambda: self.open_call())
        title_row.addWidget(self.call_button)
        self.payment_button = QPushButton("Record &payment…", self)
        self.payment_button.setObjectName("recordPayment")
        self.payment_button.setToolTip("Money collected from this store, or a promise to pay")
        self.payment_button.clicked.connect(lambda: self.record_payment())
        title_row.addWidget(self.payment_button)
        layout.addLayout(title_row)
        layout.addWidget(self.sub_label)
        layout.addLayout(kpis)
        layout.addWidget(self.tabs, 1)
        QShortcut(QKeySequence.StandardKey.Close, self, self.close)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        save = QShortcut(QKeySequence.StandardKey.Save, self.form)
        save.activated.connect(self.save_profile)
        ctx.runner.changed.connect(self._on_changes)

    # ---- loading ----------------------------------------------------------------------------
    def new_order(self) -> QWidget | None:
        """Open the order dialog for this store through the main window's Orders view."""
        main = self.parent().window() if self.parent() is not None else None
        if main is None or not hasattr(main, "show_view"):
            return None
        view = main.show_view("orders")
        return view.new_order(self.store_id)

    def open_call(self) -> QWidget:
        """The call screen for this store (docs/visits.md)."""
        from ..call_screen import CallScreen

        self.call_screen = CallScreen(self.ctx, self, store_id=self.store_id)
        self.call_screen.open()
        return self.call_screen

    def record_payment(self) -> QWidget:
        """The payment dialog for this store (docs/collections.md); not modal, like orders."""
        from ..payment_panel import PaymentDialog

        dialog = PaymentDialog(self.ctx, self.store_id, self.name_label.text(), self)
        dialog.show()
        return dialog

    def reload(self) -> None:
        engine, store_id, as_of = self.ctx.engine, self.store_id, self.ctx.today()
        identity = self.ctx.identity
        started = time.perf_counter()

        def done(detail: StoreDetail | None) -> None:
            if detail is None:
                self.name_label.setText("This store no longer exists")
                return
            self.show_detail(detail)
            self.load_seconds = time.perf_counter() - started

        self.ctx.runner.submit(
            lambda _ctx: load_store_detail(engine, store_id, as_of, identity=identity),
            on_done=done,
            name="loading the store",
        )

    def show_detail(self, detail: StoreDetail) -> None:
        self.detail = detail
        p = detail.profile
        self.version = p.version
        self.setWindowTitle(f"{p.name} — {p.code}")
        self.name_label.setText(p.name)
        self.sub_label.setText(
            " · ".join(x for x in (p.code, p.city, p.region, p.agent and f"Agent: {p.agent}") if x)
        )
        self.kpi["balance"].setText(fmt.money(p.outstanding_balance))
        self.kpi["limit"].setText(
            fmt.money(p.credit_limit, paise=False) if p.credit_limit is not None else "none"
        )
        self.kpi["sales"].setText(fmt.money(detail.sales_12m, paise=False))
        if detail.last_order:
            days = (detail.as_of - detail.last_order).days
            self.kpi["last"].setText(f"{fmt.day(detail.last_order)} ({days} d)")
        else:
            self.kpi["last"].setText("never")
        self.kpi["cadence"].setText(f"{p.call_cadence_days} days" if p.call_cadence_days else "–")
        self.chart.set_weeks(detail.weekly, detail.as_of)
        self.top_model.set_rows(detail.top_products)
        self.invoice_model.set_rows(detail.invoices)
        self.call_model.set_rows(detail.calls)
        if not self.form_dirty:
            self._fill_profile(keep_message=True)
        self._select_first_invoice()

    def _select_first_invoice(self) -> None:
        """Lines load when the Invoices tab is looked at, not on every store open."""
        if (
            self.tabs.currentWidget() is self.invoices_page
            and self.invoice_model.rows
            and self.invoice_table.currentIndex().row() < 0
        ):
            self.invoice_table.selectRow(0)

    def _load_lines(self, row: int) -> None:
        if not 0 <= row < len(self.invoice_model.rows):
            return
        invoice: InvoiceSummary = self.invoice_model.rows[row]
        engine, identity = self.ctx.engine, self.ctx.identity
        wanted = invoice.id

        def done(lines: list[InvoiceLineRow]) -> None:
            current = self.invoice_table.currentIndex().row()
            if (
                0 <= current < len(self.invoice_model.rows)
                and self.invoice_model.rows[current].id == wanted
            ):
                self.line_model.set_rows(lines)

        self.ctx.runner.submit(
            lambda _ctx: invoice_lines(engine, wanted, identity=identity),
            on_done=done,
            name="loading invoice lines",
        )

    # ---- profile ----------------------------------------------------------------------------
    def _fill_profile(self, *, keep_message: bool = False) -> None:
        if self.detail is None:
            return
        p = self.detail.profile
        values = {
            "address": p.address,
            "contact_name": p.contact_name,
            "phone": p.phone,
            "email": p.email,
            "size_class": p.size_class,
            "call_cadence_days": "" if p.call_cadence_days is None else str(p.call_cadence_days),
            "credit_limit": "" if p.credit_limit is None else f"{p.credit_limit:.2f}",
            "notes": p.notes,
        }
        self._filling = True
        try:
            for key, value in values.items():
                self._set_field(key, value)
        finally:
            self._filling = False
        self.form_dirty = False
        self._mark_problems(set())
        if not keep_message:
            self.form_message.setText("")

    def _form_edited(self) -> None:
        if not self._filling:
            self.form_dirty = True

    def _form_edit(self) -> ProfileEdit:
        return ProfileEdit(**{key: self._get_field(key) for key in PROFILE_FIELDS})

    def _set_field(self, key: str, value: str) -> None:
        widget = self.fields[key]
        if isinstance(widget, QPlainTextEdit):
            widget.setPlainText(value)
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(widget.findData(value), 0))
        elif isinstance(widget, QLineEdit):
            widget.setText(value)

    def _get_field(self, key: str) -> str:
        widget = self.fields[key]
        if isinstance(widget, QPlainTextEdit):
            return widget.toPlainText()
        if isinstance(widget, QComboBox):
            return str(widget.currentData() or "")
        if isinstance(widget, QLineEdit):
            return widget.text()
        return ""

    def set_field(self, key: str, value: str) -> None:
        """Type into a profile field (tests and scripted use)."""
        self._set_field(key, value)

    def _mark_problems(self, keys: set[str]) -> None:
        for key, widget in self.fields.items():
            widget.setStyleSheet("border: 2px solid #d32f2f;" if key in keys else "")
            widget.setToolTip("")

    def save_profile(self) -> None:
        if self.version is None:
            return
        edit = self._form_edit()
        engine, store_id, version = self.ctx.engine, self.store_id, self.version
        identity = self.ctx.identity  # an agent may edit only its own stores (the save checks)
        self.save_button.setEnabled(False)
        self.form_message.setProperty("error", False)
        self.form_message.setText("Saving…")

        def done(result: SaveResult) -> None:
            self.save_button.setEnabled(True)
            self.last_save = result
            self.version = result.version
            self.form_dirty = self._form_edit() != edit  # typed on while it was saving
            self._mark_problems(set())
            self.form_message.setText(
                "Saved. The change will reach the central server at the next sync."
                if result.changes.tables
                else "Nothing changed."
            )
            self.reload()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            if isinstance(exc, ProfileInvalid):
                self._mark_problems({p.field for p in exc.problems})
                for problem in exc.problems:
                    self.fields[problem.field].setToolTip(problem.message)
                self.form_message.setProperty("error", True)
                self.form_message.setText(exc.message)
                self.form_message.style().polish(self.form_message)
                first = self.fields[exc.problems[0].field]
                first.setFocus()
            else:
                self.form_message.setText("Not saved.")
                show_error(self, exc, "saving the store")

        self.ctx.runner.submit(
            lambda _ctx: save_store_profile(
                engine, store_id, edit, expected_version=version, identity=identity
            ),
            write=True,
            on_done=done,
            on_error=failed,
            name="saving the store",
        )

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches("invoice", "invoice_line", "call_log") or (
            changes.touches("store") and self.store_id in changes.ids and self.last_save is None
        ):
            self.reload()

    def self_test(self) -> None:
        if self.detail is None:
            raise RuntimeError("the store's data did not arrive")
        if not self.chart.all_weeks and self.detail.invoices:
            raise RuntimeError("the store has invoices but the chart is empty")

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        with contextlib.suppress(RuntimeError, TypeError):
            self.ctx.runner.changed.disconnect(self._on_changes)
        super().closeEvent(event)


__all__ = ["StoreDetailWindow", "CallRow", "TopProduct"]
