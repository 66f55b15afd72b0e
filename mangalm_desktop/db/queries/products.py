"""The product catalogue with search and filters, and one product's sales across stores."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, text

from ...domain.identity import Identity, Permission, require, store_scope
from .store_detail import WeekPoint, _money
from .stores import fts_query

RUPEE4 = Decimal("0.0001")


@dataclass(frozen=True)
class ProductFilter:
    text: str = ""
    brand: str | None = None
    category: str | None = None
    active_only: bool = False


@dataclass(frozen=True)
class ProductRow:
    id: uuid.UUID
    sku: str
    name: str
    brand: str
    category: str
    unit: str
    pack_size: int
    price: Decimal | None
    mrp: Decimal | None
    active: bool


@dataclass(frozen=True)
class ProductFilterOptions:
    brands: list[str]
    categories: list[str]


@dataclass(frozen=True)
class TopStore:
    store_id: uuid.UUID
    name: str
    city: str
    quantity: int
    value: Decimal


@dataclass(frozen=True)
class ProductSales:
    product_id: uuid.UUID
    as_of: dt.date
    weekly: list[WeekPoint]
    top_stores: list[TopStore]
    stores_buying: int
    quantity_12m: int
    value_12m: Decimal


def search_products(
    engine: Engine, flt: ProductFilter, *, identity: Identity | None
) -> list[ProductRow]:
    """The catalogue matching ``flt`` (anyone signed in; None = standalone)."""
    require(identity, Permission.VIEW_OWN_STORES)
    where = ["NOT p.deleted"]
    params: dict[str, object] = {}
    match = fts_query(flt.text)
    if match is not None:
        where.append("p.rowid IN (SELECT rowid FROM product_fts WHERE product_fts MATCH :m)")
        params["m"] = match
    if flt.brand:
        where.append("p.brand = :brand")
        params["brand"] = flt.brand
    if flt.category:
        where.append("p.category = :category")
        params["category"] = flt.category
    if flt.active_only:
        where.append("p.active")
    cols = "p.id, p.sku, p.name, p.brand, p.category, p.unit, p.pack_size, p.price, p.mrp, p.active"
    conditions = " AND ".join(where)  # fixed fragments above; values are bound parameters
    sql = f"SELECT {cols} FROM product p WHERE {conditions} ORDER BY p.name COLLATE NOCASE"  # noqa: S608
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    return [
        ProductRow(
            id=uuid.UUID(hex=r[0]),
            sku=r[1] or "",
            name=r[2],
            brand=r[3] or "",
            category=r[4] or "",
            unit=r[5] or "",
            pack_size=int(r[6] or 1),
            price=_money(r[7], RUPEE4) if r[7] is not None else None,
            mrp=_money(r[8], RUPEE4) if r[8] is not None else None,
            active=bool(r[9]),
        )
        for r in rows
    ]


def product_filter_options(engine: Engine, *, identity: Identity | None) -> ProductFilterOptions:
    require(identity, Permission.VIEW_OWN_STORES)
    with engine.connect() as conn:
        brands = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT brand FROM product WHERE brand IS NOT NULL AND NOT deleted"
                    " ORDER BY brand"
                )
            )
        ]
        categories = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT category FROM product WHERE category IS NOT NULL"
                    " AND NOT deleted ORDER BY category"
                )
            )
        ]
    return ProductFilterOptions(brands, categories)


def product_sales(
    engine: Engine,
    product_id: uuid.UUID,
    as_of: dt.date,
    *,
    identity: Identity | None,
    top: int = 20,
) -> ProductSales:
    """Weekly sales of one product over all stores, and the stores buying most (12 months).

    For an agent ``identity``: over their own stores only (the others' sales are not theirs)."""
    require(identity, Permission.VIEW_OWN_STORES)
    pid = product_id.hex
    since = (as_of - dt.timedelta(days=365)).isoformat()
    scope = store_scope(identity)
    agent = {"agent": scope.hex if scope else None}  # NULL: every store
    with engine.connect() as conn:
        weekly = [
            WeekPoint(dt.date.fromisoformat(w), _money(v), int(q or 0))
            for w, v, q in conn.execute(
                text(
                    "SELECT date(invoice_date, '-6 days', 'weekday 1') AS wk, sum(line_total),"
                    " sum(quantity) FROM invoice_line WHERE product_id = :p AND NOT deleted"
                    " AND invoice_date <= :as_of AND (:agent IS NULL OR store_id IN"
                    "  (SELECT id FROM store WHERE agent_id = :agent)) GROUP BY wk ORDER BY wk"
                ),
                {"p": pid, "as_of": as_of.isoformat(), **agent},
            )
        ]
        stores = conn.execute(
            text(
                "SELECT l.store_id, s.name, s.city, sum(l.quantity) AS q, sum(l.line_total) AS v"
                " FROM invoice_line l JOIN store s ON s.id = l.store_id"
                " WHERE l.product_id = :p AND NOT l.deleted AND l.invoice_date > :since"
                " AND l.invoice_date <= :as_of AND (:agent IS NULL OR s.agent_id = :agent)"
                " GROUP BY l.store_id ORDER BY v DESC"
            ),
            {"p": pid, "since": since, "as_of": as_of.isoformat(), **agent},
        ).all()
    top_stores = [
        TopStore(uuid.UUID(hex=r[0]), r[1], r[2] or "", int(r[3] or 0), _money(r[4]))
        for r in stores[:top]
    ]
    return ProductSales(
        product_id=product_id,
        as_of=as_of,
        weekly=weekly,
        top_stores=top_stores,
        stores_buying=len(stores),
        quantity_12m=sum(int(r[3] or 0) for r in stores),
        value_12m=sum((_money(r[4]) for r in stores), Decimal("0.00")),
    )
