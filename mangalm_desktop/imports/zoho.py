"""``import invoices``: Zoho Books invoice exports (CSV, CSV.gz, XLSX) → stores, products, invoices.

Rules (also in docs/import.md):
- one row per invoice line; invoice-level fields are read from the first row of each invoice;
- Invoice Status *void* and *draft* rows are skipped by rule (a void invoice an earlier import
  kept is removed, as a tombstone);
- credit notes (status mentioning "credit", number starting "CN", or a negative Total) are kept
  as ``kind='credit_note'``; negative quantities are kept as returns, never dropped;
- a row identical to an earlier row in every cell is rejected (a doubled export), because Zoho
  writes one row per line and cannot legitimately repeat one;
- the store key is Customer ID (Store.code and Store.zoho_customer_id); the product key is
  Product ID, else SKU; Sales Person becomes the invoice's agent (created when unknown).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from itertools import filterfalse
from operator import itemgetter
from pathlib import Path
from typing import TypeVar, cast

from sqlalchemy import Engine

from ..domain.money import round_money
from ..domain.tasks import NULL_TASK, TaskContext
from ..security.roles import Identity, Permission, require
from .columns import ColumnMap
from .pipeline import ImportOptions, Skip, run_import
from .records import InvoiceIn, LineColumns, LineIn, ProductIn, StoreIn
from .report import ImportSummary, RowRejected
from .source import Cell, SourceFile
from .values import GROUPED_AMOUNT_2, BadValue, DateReader, NumberReader, check_amount

SOURCE = "zoho_books_export"
REQUIRED = (
    "Invoice Date",
    "Invoice ID",
    "Invoice Number",
    "Invoice Status",
    "Customer ID",
    "Customer Name",
    "Item Name",
    "Quantity",
    "Item Price",
)
OPTIONAL = (
    "Due Date", "Product ID", "SKU", "Brand", "Category Name", "Usage unit", "Item Total",
    "SubTotal", "Total", "Discount Amount", "Sales Person", "Billing City", "Billing State",
    "Billing Country", "Billing Code", "Shipping City", "Shipping State", "Shipping Country",
    "Shipping Code", "MRP", "Balance", "Purchase Order", "Sales Order Number",
)  # fmt: skip
R = TypeVar("R")
SKIPPED_STATUSES = {"void": "void invoice", "draft": "draft invoice"}


def import_invoices(
    engine: Engine,
    paths: Sequence[Path],
    options: ImportOptions | None = None,
    ctx: TaskContext = NULL_TASK,
    *,
    identity: Identity | None,
) -> ImportSummary:
    """Import Zoho Books invoice exports; each file all-or-nothing (see module docstring).

    ``identity`` needs the import permission (managers, admins); None = standalone laptop."""
    require(identity, Permission.IMPORT_DATA)
    return run_import(
        engine,
        paths,
        ZohoMapper,
        source=SOURCE,
        invoice_key="zoho_invoice_id",
        options=options or ImportOptions(),
        ctx=ctx,
    )


class ZohoMapper:
    """Maps one Zoho export's rows to records."""

    def __init__(self, src: SourceFile, dates: DateReader) -> None:
        cols = ColumnMap(src.path, src.header)
        cols.require(REQUIRED, what="a Zoho Books invoice export")
        if not (cols.has("Product ID") or cols.has("SKU")):
            cols.require(["Product ID or SKU"], what="matching products")
        self.ix = {name: cols.index(name) for name in (*REQUIRED, *OPTIONAL)}
        self.width = len(src.header)
        self.dates = dates
        self.nums = NumberReader()
        self.date_columns = [
            i for i in (self.ix["Invoice Date"], self.ix["Due Date"]) if i is not None
        ]
        self.date_column_name = "Invoice Date"
        self.notes: Counter[str] = Counter()
        self._invoices: dict[str, InvoiceIn] = {}
        self._products: dict[Cell, ProductIn] = {}
        # fingerprints only (a set, ~60 bytes a row): the first row's number is not kept
        self._rows_seen: set[int] = set()
        self._status_rules: dict[Cell, str] = {}
        self._qty_cache = self.nums._qty  # the readers' own caches, consulted inline (hot path)
        self._m2, self._m4 = self.nums._money[2], self.nums._money[4]
        sentinel = self.width  # index of the "" appended to every row by _fit
        pos = {k: (v if v is not None else sentinel) for k, v in self.ix.items()}
        self._i_status, self._i_invoice = pos["Invoice Status"], pos["Invoice ID"]
        self._i_qty, self._i_price = pos["Quantity"], pos["Item Price"]
        self._i_total, self._i_mrp = pos["Item Total"], pos["MRP"]
        # products are cached by the cell that keys them: Product ID, else SKU
        self._i_item = pos["Product ID"] if self.ix["Product ID"] is not None else pos["SKU"]

    def _get(self, cells: list[Cell], name: str) -> Cell:
        i = self.ix[name]
        if i is None:
            return ""
        v = cells[i]
        return v.strip() if isinstance(v, str) else v

    def _text(self, cells: list[Cell], name: str) -> str | None:
        v = self._get(cells, name)
        return str(v) if v != "" else None

    def _money(
        self, cells: list[Cell], name: str, scale: int = 2, required: bool = False
    ) -> Decimal | None:
        try:
            return self.nums.money(self._get(cells, name), scale, required=required)
        except BadValue as exc:
            raise RowRejected(name, self._get(cells, name), str(exc)) from None

    def _fit(self, cells: list[Cell]) -> None:
        """A row of the wrong width: trailing empty cells are dropped, anything else rejected.

        Every row then gets a trailing "" that stands in for absent optional columns.
        """
        n = len(cells)
        if n > self.width and not any(str(c).strip() for c in cells[self.width :]):
            del cells[self.width :]
        elif n != self.width:
            raise RowRejected(
                "(row)",
                f"{n} fields",
                f"row has {n} fields, the header has {self.width} (truncated or misquoted row?)",
            )
        cells.append("")

    def map(self, row_no: int, cells: list[Cell]) -> LineIn | Skip:
        if len(cells) == self.width:
            cells.append("")
        else:
            self._fit(cells)
        raw_status = cells[self._i_status]
        rule = self._status_rules.get(raw_status)
        if rule is None:
            rule = SKIPPED_STATUSES.get(str(raw_status).strip().casefold(), "")
            self._status_rules[raw_status] = rule
        invoice_id = str(cells[self._i_invoice]).strip()
        if rule:
            return Skip(rule, invoice_id if rule == SKIPPED_STATUSES["void"] else None)
        fingerprint = hash(tuple(cells[: self.width]))  # its cells, as map_chunk hashes them
        if fingerprint in self._rows_seen:
            raise RowRejected("(row)", "", "exact duplicate of an earlier row (a doubled export?)")
        self._rows_seen.add(fingerprint)
        if not invoice_id:
            raise RowRejected("Invoice ID", "", "missing Invoice ID")
        invoice = self._invoices.get(invoice_id) or self._invoice(invoice_id, cells)
        item_id = cells[self._i_item]
        product = self._products.get(item_id) if item_id else None
        if product is None:
            product = self._product(cells)
        nums = self.nums
        raw = cells[self._i_qty]
        qty = self._qty_cache.get(raw)  # type: ignore[arg-type]
        if qty is None:
            try:
                qty = nums.quantity(raw)
            except BadValue as exc:
                raise RowRejected("Quantity", raw, str(exc)) from None
        try:
            price = self._m4.get(cells[self._i_price]) or nums.money(cells[self._i_price], 4)
            raw = cells[self._i_total]
            total = self._m2.get(raw) or nums.money(raw, 2, required=False)
            raw = cells[self._i_mrp]
            mrp = self._m4.get(raw) or nums.money(raw, 4, required=False)
        except BadValue:
            self._money(cells, "Item Price", 4, required=True)
            self._money(cells, "Item Total")
            self._money(cells, "MRP", 4)
            raise
        assert price is not None
        if total is None:
            try:
                total = check_amount(round_money(price * qty))
            except BadValue as exc:
                raise RowRejected("Quantity", cells[self._i_qty], f"line total: {exc}") from None
        if qty < 0:
            self.notes["negative-quantity lines kept as returns"] += 1
        return LineIn(row_no, invoice, product, qty, price, total, None, mrp)

    def map_chunk(self, chunk: list[tuple[int, list[Cell]]]) -> LineColumns | None:
        """The chunk column-wise when every row is an ordinary line, else None (issue 21).

        None sends the chunk through :meth:`map` row by row, which finds and words each
        problem: a row of another width, a skipped status, a missing Invoice ID, a doubled
        row, a value that does not read, a missing Item Total. Nothing is remembered from a
        chunk handed back (row fingerprints are kept by ``accept``); invoices and products met
        here are created exactly as :meth:`map` would at their first row, so the row path
        finds them as it would have.
        """
        rows = list(map(itemgetter(1), chunk))
        if not rows or set(map(len, rows)) != {self.width}:
            return None
        col = partial(self._column, rows)
        for raw in set(col(self._i_status)):
            rule = self._status_rules.get(raw)
            if rule is None:
                rule = SKIPPED_STATUSES.get(str(raw).strip().casefold(), "")
                self._status_rules[raw] = rule
            if rule:
                return None
        fingerprints = list(map(hash, map(tuple, rows)))  # as map() hashes a row
        seen = set(fingerprints)
        if len(seen) != len(rows) or not self._rows_seen.isdisjoint(seen):
            return None
        qty_col, price_col = col(self._i_qty), col(self._i_price)
        total_col, mrp_col = col(self._i_total), col(self._i_mrp)
        nums = self.nums
        try:
            qty_of = {raw: nums.quantity(raw) for raw in set(qty_col)}
            price_of = {raw: self._m4.get(raw) or nums.money(raw, 4) for raw in set(price_col)}
            # totals are nearly all distinct: a plain "-123.45" or grouped "1,234.50" is checked
            # by its shape alone and its Decimal made only if needed (LineColumns.total)
            totals = set(total_col)
            try:
                others = list(filterfalse(GROUPED_AMOUNT_2.fullmatch, totals))  # type: ignore[arg-type]
            except TypeError:  # a workbook's numeric cells
                others = [
                    raw
                    for raw in totals
                    if not (raw.__class__ is str and GROUPED_AMOUNT_2.fullmatch(raw))
                ]
            total_of = {
                raw: self._m2.get(raw) or nums.money(raw, 2, required=False) for raw in others
            }
            mrp_of = {
                raw: self._m4.get(raw) or nums.money(raw, 4, required=False) for raw in set(mrp_col)
            }
        except BadValue:
            return None
        if None in total_of.values() or None in price_of.values():
            return None  # a line total to compute from price x quantity: the row path does it
        try:
            invoice_col = col(self._i_invoice)
            invoice_of = self._chunk_invoices(rows, invoice_col)
            item_col = col(self._i_item)
            product_of = self._chunk_records(rows, item_col, self._chunk_product)
        except RowRejected:
            return None
        if invoice_of is None or product_of is None:
            return None
        negatives = {raw for raw, q in qty_of.items() if q < 0}
        negative_rows = sum(1 for raw in qty_col if raw in negatives) if negatives else 0

        def accept() -> None:
            self._rows_seen.update(fingerprints)
            if negative_rows:
                self.notes["negative-quantity lines kept as returns"] += negative_rows

        return LineColumns(
            invoices=list(map(invoice_of.__getitem__, invoice_col)),
            products=list(map(product_of.__getitem__, item_col)),
            quantity=qty_col, quantity_of=qty_of,  # type: ignore[arg-type]
            unit_price=price_col, unit_price_of=price_of,  # type: ignore[arg-type]
            line_total=total_col, line_total_of=total_of,  # type: ignore[arg-type]
            mrp=mrp_col, mrp_of=mrp_of,  # type: ignore[arg-type]
            accept=accept,
        )  # fmt: skip

    def _column(self, rows: list[list[Cell]], i: int) -> list[Cell]:
        """Column ``i`` of the chunk; the sentinel index (an absent optional column) is all ""."""
        return list(map(itemgetter(i), rows)) if i < self.width else [""] * len(rows)

    @staticmethod
    def _chunk_records(
        rows: list[list[Cell]], keys: list[Cell], make: Callable[[Cell, list[Cell]], R | None]
    ) -> dict[Cell, R] | None:
        """One record per distinct key cell, made from the row where it first appears."""
        out: dict[Cell, R] = {}
        for key, i in _first_rows(keys):
            rec = make(key, rows[i])
            if rec is None:
                return None
            out[key] = rec
        return out

    def _chunk_invoices(
        self, rows: list[list[Cell]], keys: list[Cell]
    ) -> dict[Cell, InvoiceIn] | None:
        """The chunk's invoices by Invoice ID cell; the new ones read column-wise (issue 21).

        Each new invoice is the one :meth:`_invoice` makes from its first row, but its fields are
        read as columns over those first rows, each distinct date and amount once. Anything
        :meth:`_invoice` would reject (or a missing Invoice ID) gives None and creates nothing:
        the row path then meets the same rows and words the problem.
        """
        out: dict[Cell, InvoiceIn] = {}
        firsts: dict[str, list[Cell]] = {}  # new invoices: Invoice ID -> its first row
        keyed: list[tuple[Cell, str]] = []
        for raw, i in _first_rows(keys):
            invoice_id = str(raw).strip()
            if not invoice_id:
                return None
            known = self._invoices.get(invoice_id)
            if known is not None:
                out[raw] = known
            else:
                firsts.setdefault(invoice_id, rows[i])  # " 7" after "7": the same invoice
                keyed.append((raw, invoice_id))
        if not firsts:
            return out
        try:
            made = self._invoices_of(list(firsts), list(firsts.values()))
        except BadValue:
            return None
        if made is None:
            return None
        self._invoices.update(zip(firsts, made, strict=True))
        credit_notes = sum(1 for inv in made if inv.kind == "credit_note")
        if credit_notes:
            self.notes["credit notes kept as returns"] += credit_notes
        for raw, invoice_id in keyed:
            out[raw] = self._invoices[invoice_id]
        return out

    def _invoices_of(self, ids: list[str], firsts: list[list[Cell]]) -> list[InvoiceIn] | None:
        """:meth:`_invoice` for many first rows at once; None when one of them is not clean."""
        text, raw = partial(self._texts, firsts), partial(self._raws, firsts)
        number = text("Invoice Number")
        customer = text("Customer ID")
        if None in number or None in customer:
            return None
        numbers, customers = cast("list[str]", number), cast("list[str]", customer)
        parse = self.dates.parse
        days = raw("Invoice Date")
        day_of = {v: parse(v) for v in set(days)}  # BadValue: the caller hands the chunk back
        dues = raw("Due Date")
        due_of = {v: parse(v) for v in set(dues) if v != ""}
        due_of[""] = None  # type: ignore[assignment]
        money = self.nums.money

        def amounts(name: str) -> list[Decimal | None]:
            col = raw(name)
            of = {  # a two-decimal amount's value is its text without commas (values.py)
                v: Decimal(v.replace(",", ""))
                if v.__class__ is str and GROUPED_AMOUNT_2.fullmatch(v)
                else money(v, 2, required=False)
                for v in set(col)
            }
            return list(map(of.__getitem__, col))

        total = amounts("Total")
        status = text("Invoice Status")

        def first(a: str, b: str) -> list[str | None]:
            return [x or y for x, y in zip(text(a), text(b), strict=True)]

        stores = map(
            StoreIn,
            customers,
            customers,
            [n or c for n, c in zip(text("Customer Name"), customers, strict=True)],
            first("Billing City", "Shipping City"),
            first("Billing State", "Shipping State"),
            first("Billing Country", "Shipping Country"),
            first("Billing Code", "Shipping Code"),
        )
        kinds = [
            "credit_note"
            if "credit" in (st or "").casefold()
            or n.upper().startswith("CN")
            or (t is not None and t < 0)
            else "invoice"
            for st, n, t in zip(status, numbers, total, strict=True)
        ]
        return list(
            map(
                InvoiceIn,
                ids,
                ids,
                numbers,
                kinds,
                status,
                stores,
                text("Sales Person"),
                map(day_of.__getitem__, days),
                map(due_of.__getitem__, dues),
                amounts("SubTotal"),
                amounts("Discount Amount"),
                total,
                amounts("Balance"),
                text("Purchase Order"),
                text("Sales Order Number"),
            )
        )

    def _raws(self, rows: list[list[Cell]], name: str) -> list[Cell]:
        """Column ``name`` of ``rows`` as :meth:`_get` reads each cell."""
        i = self.ix[name]
        if i is None:
            return [""] * len(rows)
        col = list(map(itemgetter(i), rows))
        try:
            return list(map(str.strip, col))  # a CSV: every cell is text
        except TypeError:  # a workbook's numbers and dates
            return [v.strip() if isinstance(v, str) else v for v in col]

    def _texts(self, rows: list[list[Cell]], name: str) -> list[str | None]:
        """Column ``name`` of ``rows`` as :meth:`_text` reads each cell."""
        return [
            (v or None) if v.__class__ is str else (str(v) if v != "" else None)
            for v in self._raws(rows, name)
        ]

    def _chunk_product(self, key: Cell, cells: list[Cell]) -> ProductIn | None:
        if not key:
            return None  # no key cell: map() reads each such row's product from its own row
        product = self._products.get(key)
        return product if product is not None else self._product(cells)

    def _invoice(self, invoice_id: str, cells: list[Cell]) -> InvoiceIn:
        status = (self._text(cells, "Invoice Status") or "").casefold()
        raw_date = self._get(cells, "Invoice Date")
        try:
            day = self.dates.parse(raw_date)
        except BadValue as exc:
            raise RowRejected("Invoice Date", raw_date, str(exc)) from None
        raw_due = self._get(cells, "Due Date")
        try:
            due = self.dates.parse(raw_due) if raw_due != "" else None
        except BadValue as exc:
            raise RowRejected("Due Date", raw_due, str(exc)) from None
        number = self._text(cells, "Invoice Number")
        if not number:
            raise RowRejected("Invoice Number", "", "missing Invoice Number")
        customer_id = self._text(cells, "Customer ID")
        if not customer_id:
            raise RowRejected("Customer ID", "", "missing Customer ID")
        name = self._text(cells, "Customer Name") or customer_id
        total = self._money(cells, "Total")
        credit = (
            "credit" in status
            or number.upper().startswith("CN")
            or (total is not None and total < 0)
        )
        store = StoreIn(
            code=customer_id, zoho_customer_id=customer_id, name=name,
            city=self._text(cells, "Billing City") or self._text(cells, "Shipping City"),
            state=self._text(cells, "Billing State") or self._text(cells, "Shipping State"),
            country=self._text(cells, "Billing Country") or self._text(cells, "Shipping Country"),
            postal_code=self._text(cells, "Billing Code") or self._text(cells, "Shipping Code"),
        )  # fmt: skip
        inv = InvoiceIn(
            key=invoice_id, zoho_invoice_id=invoice_id, number=number,
            kind="credit_note" if credit else "invoice", status=self._text(cells, "Invoice Status"), store=store,
            salesperson=self._text(cells, "Sales Person"), invoice_date=day, due_date=due,
            subtotal=self._money(cells, "SubTotal"), discount_amount=self._money(cells, "Discount Amount"),
            total=total, balance=self._money(cells, "Balance"),
            purchase_order=self._text(cells, "Purchase Order"),
            sales_order_number=self._text(cells, "Sales Order Number"),
        )  # fmt: skip
        if credit:
            self.notes["credit notes kept as returns"] += 1
        self._invoices[invoice_id] = inv
        return inv

    def _product(self, cells: list[Cell]) -> ProductIn:
        item_id = self._text(cells, "Product ID")
        sku = self._text(cells, "SKU")
        if not item_id and not sku:
            raise RowRejected(
                "Product ID", "", "no Product ID and no SKU: cannot tell which product"
            )
        name = self._text(cells, "Item Name")
        if not name:
            raise RowRejected("Item Name", "", "missing Item Name")
        product = ProductIn(
            zoho_item_id=item_id, sku=sku, name=name, brand=self._text(cells, "Brand"),
            category=self._text(cells, "Category Name"), unit=self._text(cells, "Usage unit"),
            mrp=self._money(cells, "MRP", 4), price=self._money(cells, "Item Price", 4),
        )  # fmt: skip
        key = cells[self._i_item]
        if key:
            self._products[key] = product
        return product


def _first_rows(keys: list[Cell]) -> list[tuple[Cell, int]]:
    """Each distinct key with the index of the row where it first appears, in that order."""
    n = len(keys)
    first = dict(zip(reversed(keys), range(n - 1, -1, -1), strict=True))  # first row wins
    return sorted(first.items(), key=itemgetter(1))
