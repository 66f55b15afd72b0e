"""Source-neutral records an importer hands to the writer.

Why: the Zoho and the generic history importers differ only in how cells become these records;
matching, upserting, idempotency and all-or-nothing live once, in :mod:`.writer`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(slots=True)
class StoreIn:
    """A customer as the file describes it; ``code`` is the key for Store.code."""

    code: str
    zoho_customer_id: str | None
    name: str
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    region: str | None = None

    def fields(self) -> tuple[object, ...]:
        """The columns an import owns, in :data:`STORE_FIELDS` order."""
        return (self.name, self.city, self.state, self.country, self.postal_code, self.region)


STORE_FIELDS = ("name", "city", "state", "country", "postal_code", "region")


@dataclass(slots=True)
class ProductIn:
    """An item as the file describes it; matched by Zoho item id, else SKU."""

    zoho_item_id: str | None
    sku: str | None
    name: str
    brand: str | None = None
    category: str | None = None
    unit: str | None = None
    mrp: Decimal | None = None
    price: Decimal | None = None  # set when the product is created, not compared afterwards
    ref: object = None  # the writer's resolved ids, cached on the record for the hot path

    def fields(self) -> tuple[object, ...]:
        return (self.name, self.brand, self.category, self.unit, self.mrp)


PRODUCT_FIELDS = ("name", "brand", "category", "unit", "mrp")


@dataclass(slots=True)
class InvoiceIn:
    """Invoice-level fields (repeated on every line of an export, read once per invoice)."""

    key: str  # Zoho Invoice ID, or the invoice number for sources without one
    zoho_invoice_id: str | None
    number: str
    kind: str
    status: str | None
    store: StoreIn
    salesperson: str | None
    invoice_date: dt.date
    due_date: dt.date | None = None
    subtotal: Decimal | None = None
    discount_amount: Decimal | None = None
    total: Decimal | None = None  # None: the sum of the imported lines
    balance: Decimal | None = None
    purchase_order: str | None = None
    sales_order_number: str | None = None
    ref: object = None  # the writer's state for this invoice, cached on the record


@dataclass(slots=True)
class LineIn:
    """One invoice line; ``row`` is the file row it came from (for error messages)."""

    row: int
    invoice: InvoiceIn
    product: ProductIn
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    discount_amount: Decimal | None = None
    mrp: Decimal | None = None


@dataclass(slots=True)
class LineColumns:
    """A chunk of lines column-wise: the fresh-import fast path (issue 21).

    Every row of the chunk passed the mapper's checks; values are kept as the raw cells plus one
    dict per column from each distinct cell to its value, so the writer converts each distinct
    value once and builds its rows with C-level ``map``/``zip`` instead of a call per line.
    ``accept`` records what the mapper must remember (row fingerprints, notes) once the writer
    has taken the chunk; until then nothing about the chunk is remembered, so a chunk the writer
    refuses goes through the row-by-row path as if the fast path had never seen it.
    """

    invoices: list[InvoiceIn]  # per row
    products: list[ProductIn]  # per row
    quantity: list[object]  # raw cells, per row
    quantity_of: dict[object, int]
    unit_price: list[object]
    unit_price_of: dict[object, Decimal]
    line_total: list[object]
    line_total_of: dict[object, Decimal]  # all but two-decimal amounts (see total)
    mrp: list[object]
    mrp_of: dict[object, Decimal | None]
    accept: Callable[[], None]

    def __len__(self) -> int:
        return len(self.invoices)

    def total(self, raw: object) -> Decimal:
        """A line total: read by the mapper, or a two-decimal amount (``values.
        GROUPED_AMOUNT_2``) left out of ``line_total_of``, whose value is its text without
        thousands separators."""
        d = self.line_total_of.get(raw)
        return d if d is not None else Decimal(raw.replace(",", ""))  # type: ignore[attr-defined]
