"""``import history``: sales history from other systems, with the columns named by the user.

A row is one sold line: a customer (→ store), a product code (→ product by SKU), a date, a
quantity, and optionally a price, an invoice number, a product name, a customer name and a
region. Real exports carry noise; each kind is handled by a rule, counted in the summary and
written down in docs/import.md. The rules, in the order they are applied:

1. ``non-product code``: postage, fees, manual adjustments, bank charges, samples, vouchers and
   test codes (:data:`NON_PRODUCT_CODES`, :data:`NON_PRODUCT_PREFIXES`) are not demand; skipped.
2. ``no customer``: a line without a customer cannot belong to a store; skipped.
3. ``negative price``: accounting entries (e.g. "Adjust bad debt"), not sales; skipped.
4. ``exact duplicate line``: a row identical in every cell to an earlier row; skipped (a
   double scan or a doubled export).

Kept deliberately, and counted: invoices whose number starts with ``C`` + digit are
cancellations, imported as credit notes with their negative quantities (returns); zero-price
lines (free goods are still demand); several lines of the same product on one invoice (kept as
separate lines); descriptions whose UTF-8 was decoded as Windows-1252 ("Â£") are repaired.
Cells that cannot be read (a bad date, a non-numeric quantity, no product code) reject the row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from ..domain.errors import UserError
from ..domain.money import round_money
from ..domain.tasks import NULL_TASK, TaskContext
from ..security.roles import Identity, Permission, require
from .columns import ColumnMap
from .pipeline import ImportOptions, Skip, run_import
from .records import InvoiceIn, LineIn, ProductIn, StoreIn
from .report import ImportSummary, RowRejected
from .source import Cell, SourceFile
from .values import BadValue, DateReader, NumberReader, check_amount

SOURCE = "history"
ROLES_REQUIRED = ("store", "product", "date", "quantity")
ROLES_OPTIONAL = ("price", "invoice", "product_name", "store_name", "region")

NON_PRODUCT_CODES = frozenset(
    {
        "POST", "DOT", "M", "D", "S", "B", "C2", "C3", "CRUK", "PADS", "BANK CHARGES",
        "AMAZONFEE", "ADJUST", "ADJUST2", "GIFT",
    }
)  # fmt: skip
"""Postage (POST, DOT, C2, C3), manual entries (M, D, S, B, ADJUST*), fees, charity, vouchers."""
NON_PRODUCT_PREFIXES = ("GIFT_", "TEST")
CANCELLATION = re.compile(r"^C\d")
MOJIBAKE_MARKS = ("Ã", "Â", "â€")

RULE_NON_PRODUCT = "non-product code"
RULE_NO_CUSTOMER = "no customer"
RULE_NEGATIVE_PRICE = "negative price"
RULE_DUPLICATE = "exact duplicate line"


def parse_columns(spec: str) -> dict[str, str]:
    """``store=CustomerID,product=StockCode,...`` → {role: column}; clear error when malformed."""
    out: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        role, eq, column = part.partition("=")
        role = role.strip().lower()
        if not eq or not column.strip():
            raise UserError(f"--columns: '{part}' is not role=Column")
        if role not in ROLES_REQUIRED + ROLES_OPTIONAL:
            known = ", ".join(ROLES_REQUIRED + ROLES_OPTIONAL)
            raise UserError(f"--columns: unknown role '{role}'", hint=f"Roles: {known}")
        out[role] = column.strip()
    missing = [r for r in ROLES_REQUIRED if r not in out]
    if missing:
        raise UserError(
            f"--columns must name {', '.join(missing)}",
            hint="e.g. --columns store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity",
        )
    return out


def import_history(
    engine: Engine,
    paths: Sequence[Path],
    columns: Mapping[str, str],
    options: ImportOptions | None = None,
    ctx: TaskContext = NULL_TASK,
    *,
    identity: Identity | None,
) -> ImportSummary:
    """Import sales history files; each file all-or-nothing (see module docstring).

    ``identity`` needs the import permission (managers, admins); None = standalone laptop."""
    require(identity, Permission.IMPORT_DATA)

    def make(src: SourceFile, dates: DateReader) -> HistoryMapper:
        return HistoryMapper(src, dates, columns)

    return run_import(
        engine,
        paths,
        make,
        source=SOURCE,
        invoice_key="number",
        options=options or ImportOptions(),
        ctx=ctx,
    )


def repair_text(text: str) -> str:
    """Undo UTF-8 read as Windows-1252 ("Â£" → "£"); anything else is returned unchanged."""
    if not any(m in text for m in MOJIBAKE_MARKS):
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def is_non_product(code: str) -> bool:
    up = code.upper()
    return up in NON_PRODUCT_CODES or up.startswith(NON_PRODUCT_PREFIXES)


class HistoryMapper:
    """Maps one history file's rows to records with the rules above."""

    def __init__(self, src: SourceFile, dates: DateReader, columns: Mapping[str, str]) -> None:
        cols = ColumnMap(src.path, src.header)
        cols.require(list(columns.values()), what="--columns")
        self.ix: dict[str, int | None] = {r: None for r in ROLES_REQUIRED + ROLES_OPTIONAL}
        for role, name in columns.items():
            self.ix[role] = cols.index(name)
        self.names = dict(columns)
        # hot columns by position (the row-width check guarantees they exist)
        self._i_product = self.ix["product"]
        self._i_store = self.ix["store"]
        self._i_qty = self.ix["quantity"]
        self._i_date = self.ix["date"]
        self._i_price = self.ix["price"]
        self.width = len(src.header)
        self.dates = dates
        self.nums = NumberReader()
        self.date_columns = [self.ix["date"]]
        self.date_column_name = columns["date"]
        self.notes: Counter[str] = Counter()
        self._stores: dict[str, StoreIn] = {}
        self._products: dict[str, ProductIn] = {}
        self._invoices: dict[str, InvoiceIn] = {}
        self._rows_seen: set[int] = set()

    def _cell(self, cells: list[Cell], role: str) -> Cell:
        i = self.ix[role]
        if i is None or i >= len(cells):
            return ""
        v = cells[i]
        return v.strip() if isinstance(v, str) else v

    def map(self, row_no: int, cells: list[Cell]) -> LineIn | Skip:
        if len(cells) < self.width:
            raise RowRejected(
                "(row)",
                f"{len(cells)} fields",
                f"row has {len(cells)} fields, the header has {self.width} (truncated row?)",
            )
        code = cells[self._i_product].strip()  # type: ignore[index,union-attr]
        if not code:
            raise RowRejected(self.names["product"], "", "missing product code")
        if is_non_product(code):
            return Skip(RULE_NON_PRODUCT)
        store_code = _id_text(cells[self._i_store])  # type: ignore[index]
        if not store_code:
            return Skip(RULE_NO_CUSTOMER)
        raw_price = cells[self._i_price] if self._i_price is not None else ""
        try:
            price = self.nums.money(raw_price, 4) if self._i_price is not None else Decimal("0")
        except BadValue as exc:
            raise RowRejected(self.names["price"], raw_price, str(exc)) from None
        assert price is not None
        if price < 0:
            return Skip(RULE_NEGATIVE_PRICE)
        fingerprint = hash(tuple(cells))
        if fingerprint in self._rows_seen:
            return Skip(RULE_DUPLICATE)
        self._rows_seen.add(fingerprint)
        raw_qty = cells[self._i_qty]  # type: ignore[index]
        try:
            qty = self.nums.quantity(raw_qty)
        except BadValue as exc:
            raise RowRejected(self.names["quantity"], raw_qty, str(exc)) from None
        raw_date = cells[self._i_date]  # type: ignore[index]
        try:
            day = self.dates.parse(raw_date)
        except BadValue as exc:
            raise RowRejected(self.names["date"], raw_date, str(exc)) from None
        try:
            line_total = check_amount(round_money(price * qty))
        except BadValue as exc:
            raise RowRejected(self.names["quantity"], raw_qty, f"line total: {exc}") from None
        store = self._store(store_code, cells)
        invoice = self._invoice(store, day, cells)
        if price == 0:
            self.notes["zero-price lines"] += 1
        if invoice.kind == "credit_note":
            self.notes["cancellation lines kept as returns"] += 1
        elif qty < 0:
            self.notes["negative-quantity lines kept as returns"] += 1
        return LineIn(
            row=row_no, invoice=invoice, product=self._product(code, price, cells), quantity=qty,
            unit_price=price, line_total=line_total,
        )  # fmt: skip

    def _store(self, code: str, cells: list[Cell]) -> StoreIn:
        hit = self._stores.get(code)
        if hit is None:
            name = str(self._cell(cells, "store_name")) or f"Customer {code}"
            region = str(self._cell(cells, "region")) or None
            hit = StoreIn(code=code, zoho_customer_id=None, name=name, region=region)
            self._stores[code] = hit
        return hit

    def _invoice(self, store: StoreIn, day: dt.date, cells: list[Cell]) -> InvoiceIn:
        number = _id_text(self._cell(cells, "invoice")) or f"{store.code}-{day:%Y%m%d}"
        inv = self._invoices.get(number)
        if inv is not None:
            if inv.store.code != store.code:
                raise RowRejected(
                    self.names.get("store", "store"), store.code,
                    f"invoice {number} already belongs to customer {inv.store.code}",
                )  # fmt: skip
            return inv
        kind = "credit_note" if CANCELLATION.match(number) else "invoice"
        inv = InvoiceIn(
            key=number, zoho_invoice_id=None, number=number, kind=kind, status=None, store=store,
            salesperson=None, invoice_date=day,
        )  # fmt: skip
        self._invoices[number] = inv
        return inv

    def _product(self, code: str, price: Decimal, cells: list[Cell]) -> ProductIn:
        hit = self._products.get(code)
        if hit is None:
            raw = str(self._cell(cells, "product_name"))
            name = repair_text(raw)
            if name != raw:
                self.notes["descriptions with broken encoding repaired"] += 1
            hit = ProductIn(zoho_item_id=None, sku=code, name=name or code, price=price)
            self._products[code] = hit
        return hit


def _id_text(value: Cell) -> str:
    """An id cell as text; "13085.0" (a number that went through a spreadsheet) → "13085"."""
    text = value.strip() if isinstance(value, str) else str(value)
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text
