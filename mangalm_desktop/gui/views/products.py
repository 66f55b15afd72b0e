"""Products: the catalogue with search and brand/category filters; the selected product's sales
across stores (weekly chart + the stores buying most) on the right.

A catalogue is thousands of rows at most, so the filtered list arrives whole from a worker;
search still goes through FTS5 and only the latest request is shown.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...db.queries.products import (
    ProductFilter,
    ProductFilterOptions,
    ProductRow,
    ProductSales,
    product_filter_options,
    product_sales,
    search_products,
)
from ...domain import formatting as fmt
from ...domain.changes import Changes
from ..charts import WeeklySalesChart
from ..context import AppContext
from ..latest import LatestOnly
from ..tablemodels import RIGHT, Column, RowsModel
from .base import View, focus_search_box, list_and_detail, search_field, title_bar

PRODUCT_COLUMNS = [
    Column("name", "Product", lambda p: p.name),
    Column("sku", "SKU", lambda p: p.sku),
    Column("brand", "Brand", lambda p: p.brand),
    Column("category", "Category", lambda p: p.category),
    Column("pack", "Pack", lambda p: f"{p.pack_size} {p.unit}".strip(), RIGHT),
    Column("price", "Price", lambda p: fmt.money(p.price), RIGHT),
    Column("mrp", "MRP", lambda p: fmt.money(p.mrp), RIGHT),
    Column("active", "Active", lambda p: "yes" if p.active else "no"),
]
TOP_STORE_COLUMNS = [
    Column("name", "Store", lambda s: s.name),
    Column("city", "City", lambda s: s.city),
    Column("qty", "Units, 12 mo", lambda s: f"{fmt.number(s.quantity)}", RIGHT),
    Column("value", "Value, 12 mo", lambda s: fmt.money(s.value, paise=False), RIGHT),
]


def _table(parent: QWidget, model: RowsModel, name: str) -> QTableView:
    table = QTableView(parent)
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    table.horizontalHeader().setSectionsMovable(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


class ProductsView(View):
    view_id = "products"
    title = "Products"
    icon_name = "products"
    description = "The catalogue, and each product's sales across stores."

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.loaded = False
        self.sales: ProductSales | None = None
        self._latest = LatestOnly(ctx.runner, "searching products")
        self._sales_latest = LatestOnly(ctx.runner, "loading product sales")

        self.search = search_field(self, "searchEdit", "Name, SKU, brand, category  (Ctrl+F)")
        self.brand = QComboBox(self)
        self.brand.setObjectName("brandFilter")
        self.brand.addItem("All brands", None)
        self.category = QComboBox(self)
        self.category.setObjectName("categoryFilter")
        self.category.addItem("All categories", None)
        self.active_only = QCheckBox("Active only", self)
        self.count_label = QLabel("", self)
        bar = title_bar(self, "Products", self.search, self.count_label)
        filters = QHBoxLayout()
        filters.addWidget(self.brand)
        filters.addWidget(self.category)
        filters.addSpacing(8)
        filters.addWidget(self.active_only)
        filters.addStretch(1)

        self.model = RowsModel(PRODUCT_COLUMNS, self)
        self.table = _table(self, self.model, "productsTable")
        for column, width in enumerate([250, 80, 110, 120, 70, 80, 80, 50]):
            self.table.horizontalHeader().resizeSection(column, width)

        self.detail = QWidget(self)
        self.detail_title = QLabel("Select a product to see its sales", self.detail)
        self.detail_title.setObjectName("viewTitle")
        self.detail_title.setWordWrap(True)
        self.detail_sub = QLabel("", self.detail)
        self.detail_sub.setWordWrap(True)
        self.chart = WeeklySalesChart(self.detail)
        self.top_model = RowsModel(TOP_STORE_COLUMNS, self)
        self.top_table = _table(self.detail, self.top_model, "topStores")
        top_header = self.top_table.horizontalHeader()
        top_header.setResizeContentsPrecision(30)
        top_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        top_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        detail_layout = QVBoxLayout(self.detail)
        detail_layout.setContentsMargins(8, 0, 0, 0)
        detail_layout.addWidget(self.detail_title)
        detail_layout.addWidget(self.detail_sub)
        detail_layout.addWidget(self.chart, 3)
        detail_layout.addWidget(QLabel("Stores buying most (last 12 months)", self.detail))
        detail_layout.addWidget(self.top_table, 2)

        self.splitter = list_and_detail(
            self, "productsSplitter", self.table, self.detail, [560, 520]
        )
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)

        self.search.textChanged.connect(self.refresh)
        self.brand.currentIndexChanged.connect(self.refresh)
        self.category.currentIndexChanged.connect(self.refresh)
        self.active_only.toggled.connect(self.refresh)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _prev: self._select(current.row())
        )

    def activated(self) -> None:
        if not self.loaded:
            self.loaded = True
            engine, identity = self.ctx.engine, self.ctx.identity
            self.ctx.runner.submit(
                lambda _ctx: product_filter_options(engine, identity=identity),
                on_done=self._set_options,
                name="loading product filters",
            )
            self.refresh()

    def _set_options(self, options: ProductFilterOptions) -> None:
        for combo, items in ((self.brand, options.brands), (self.category, options.categories)):
            current = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for item in items:
                combo.addItem(item, item)
            combo.setCurrentIndex(max(combo.findData(current), 0) if current else 0)
            combo.blockSignals(False)

    def current_filter(self) -> ProductFilter:
        return ProductFilter(
            text=self.search.text(),
            brand=self.brand.currentData(),
            category=self.category.currentData(),
            active_only=self.active_only.isChecked(),
        )

    def refresh(self) -> None:
        flt = self.current_filter()
        engine, identity = self.ctx.engine, self.ctx.identity
        selected = self.selected_product()

        def show(rows: list[ProductRow]) -> None:
            self.model.set_rows(rows)
            self.count_label.setText(f"{fmt.number(len(rows))} products")
            ids = [r.id for r in rows]
            if selected is not None and selected.id in ids:
                self.table.selectRow(ids.index(selected.id))
            elif rows:
                self.table.selectRow(0)

        self._latest.request(lambda _ctx: search_products(engine, flt, identity=identity), show)

    def selected_product(self) -> ProductRow | None:
        row = self.table.currentIndex().row()
        return self.model.rows[row] if 0 <= row < len(self.model.rows) else None

    def _select(self, row: int) -> None:
        if not 0 <= row < len(self.model.rows):
            return
        product: ProductRow = self.model.rows[row]
        self.detail_title.setText(product.name)
        self.detail_sub.setText(
            " · ".join(x for x in (product.sku, product.brand, product.category) if x)
        )
        engine, as_of, pid = self.ctx.engine, self.ctx.today(), product.id
        identity = self.ctx.identity
        self._sales_latest.request(
            lambda _ctx: product_sales(engine, pid, as_of, identity=identity), self._show_sales
        )

    def _show_sales(self, sales: ProductSales) -> None:
        self.sales = sales
        self.chart.set_weeks(sales.weekly, sales.as_of)
        self.top_model.set_rows(sales.top_stores)
        self.detail_sub.setText(
            self.detail_sub.text().split("  —  ")[0]
            + f"  —  {fmt.number(sales.stores_buying)} stores bought {fmt.number(sales.quantity_12m)} units"
            f" ({fmt.money(sales.value_12m, paise=False)}) in the last 12 months"
        )

    def product_id_shown(self) -> uuid.UUID | None:
        return self.sales.product_id if self.sales else None

    @property
    def idle(self) -> bool:
        return self._latest.idle and self._sales_latest.idle

    def on_changes(self, changes: Changes) -> None:
        if self.loaded and changes.touches("product", "invoice", "invoice_line"):
            self.refresh()

    def focus_search(self) -> bool:
        return focus_search_box(self.search)

    def save_state(self, settings: QSettings) -> None:
        self.save_layout(settings, header=self.table.horizontalHeader(), splitter=self.splitter)

    def restore_state(self, settings: QSettings) -> None:
        self.restore_layout(settings, header=self.table.horizontalHeader(), splitter=self.splitter)

    def self_test(self) -> None:
        if not self.model.rows:
            raise RuntimeError("no products are listed")
        if self.sales is None:
            raise RuntimeError("the selected product's sales did not arrive")
