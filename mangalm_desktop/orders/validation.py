"""Checking a draft: every problem found at once, in words the agent can act on.

Errors block saving (unknown/inactive product, zero/negative quantity on an ordinary order,
missing store, bad discount, delivery before the order date); duplicate products are merged
into one line with a notice; a credit-limit overrun is a warning showing balance and limit,
which the agent must confirm before submitting (docs/orders.md "Validation").
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from ..db.models import Order, Product, Store
from ..db.queries.balances import credit_balance
from ..domain import formatting as fmt
from ..domain.enums import OrderKind, OrderState
from ..domain.money import ZERO
from ..schemes.pricing import ItemLine, Priced, StoreRef, price
from ..schemes.queries import load_schemes
from .model import Checked, Issue, LineInput, OrderDraft, PricedLine
from .pricing import LineMoney, check_pct, order_money, pack_hint

OPEN_STATES = (OrderState.SUBMITTED, OrderState.SYNCED, OrderState.SENT_TO_ZOHO)


def _as_uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def resolve_store(
    session: Session, ref: uuid.UUID | str | None
) -> tuple[Store | None, Issue | None]:
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        return None, Issue("store_missing", "Choose a store for the order.")
    sid = _as_uuid(ref)
    store = session.get(Store, sid) if sid else None
    if store is None and isinstance(ref, str):
        store = session.scalar(select(Store).where(Store.code == ref.strip()))
    if store is None or store.deleted:
        return None, Issue("store_unknown", f"Store {ref!s} was not found.")
    if not store.active:
        return store, Issue("store_inactive", f"Store {store.name} is closed (inactive).")
    return store, None


_PRODUCT_COLUMNS = (
    Product.id,
    Product.sku,
    Product.name,
    Product.pack_size,
    Product.price,
    Product.brand,
    Product.category,
    Product.active,
    Product.deleted,
)

_ProductRow = Row[*tuple[Any, ...]]  # one row of _PRODUCT_COLUMNS


def _load_products(
    session: Session, lines: list[LineInput]
) -> tuple[dict[uuid.UUID, _ProductRow], dict[str, _ProductRow]]:
    """Products of the typed lines by id and by upper-case SKU, as plain rows (no ORM
    instances: a 60-line order would otherwise build 60 tracked objects just to read them)."""
    ids = {u for u in (_as_uuid(x.product) for x in lines) if u is not None}
    skus = {str(x.product).strip().upper() for x in lines if isinstance(x.product, str)}
    by_id: dict[uuid.UUID, _ProductRow] = {}
    by_sku: dict[str, _ProductRow] = {}
    if ids:
        for p in session.execute(select(*_PRODUCT_COLUMNS).where(Product.id.in_(ids))):
            by_id[p.id] = p
    if skus:
        stmt = select(*_PRODUCT_COLUMNS).where(func.upper(Product.sku).in_(skus))
        for p in session.execute(stmt):
            by_sku[(p.sku or "").upper()] = p
    return by_id, by_sku


def _label(p: _ProductRow) -> str:
    return f"{p.sku} {p.name}" if p.sku else str(p.name)


def _quantity(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return int(d) if d.is_finite() and d == d.to_integral_value() else None


def _pct(value: object) -> Decimal | None:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip() or "0")
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def open_orders_total(session: Session, store_id: uuid.UUID, exclude: uuid.UUID | None) -> Decimal:
    stmt = select(func.sum(Order.total)).where(
        Order.store_id == store_id,
        Order.state.in_([s.value for s in OPEN_STATES]),
        Order.kind == OrderKind.ORDER.value,
        Order.deleted.is_(False),
    )
    if exclude is not None:
        stmt = stmt.where(Order.id != exclude)
    return session.scalar(stmt) or ZERO


def _merge_notices(merged: dict[uuid.UUID, dict[str, Any]]) -> list[Issue]:
    notices: list[Issue] = []
    for m in merged.values():
        p = m["product"]
        if len(m["lines"]) > 1:
            where = ", ".join(str(x) for x in m["lines"])
            notices.append(
                Issue(
                    "duplicate_merged",
                    f"{_label(p)} was on lines {where}; merged into one line of {abs(m['qty'])}.",
                    m["lines"][0],
                )
            )
        if hint := pack_hint(m["qty"], p.pack_size or 1):
            notices.append(Issue("pack_rounding", f"{_label(p)}: {hint}", m["lines"][0]))
    return notices


def _price_lines(
    session: Session,
    merged: dict[uuid.UUID, dict[str, Any]],
    store: Store | None,
    kind: OrderKind,
    order_date: dt.date,
) -> list[PricedLine]:
    """Price the merged lines with the schemes that apply (docs/orders.md "Schemes"):
    ordinary orders of a known store only; returns are credited at list price."""
    entries = list(merged.values())
    items = [
        ItemLine(
            product_id=m["product"].id,
            quantity=m["qty"],
            unit_price=m["product"].price,
            brand=m["product"].brand,
            category=m["product"].category,
            discount_pct=m["pct"],
            name=m["product"].name,
            sku=m["product"].sku,
        )
        for m in entries
    ]
    schemes = []
    where = StoreRef(None, None)
    if store is not None and kind is OrderKind.ORDER and items:
        schemes = load_schemes(session, order_date)
        where = StoreRef(store.region, store.size_class)
    result: Priced = price(items, where, order_date, schemes)
    out: list[PricedLine] = []
    for x in result.lines:
        m = entries[x.source] if x.source is not None else None
        split = None
        if len(x.shares) > 1:
            split = json.dumps({str(s.scheme_id): str(s.amount) for s in x.shares}, sort_keys=True)
        out.append(
            PricedLine(
                product_id=x.product_id,
                sku=x.sku,
                name=x.name,
                pack_size=(m["product"].pack_size or 1) if m else 1,
                quantity=x.quantity,
                unit_price=x.unit_price,
                discount_pct=x.discount_pct,
                gross=x.gross,
                discount=x.discount,
                total=x.total,
                suggested_qty=m["suggested"] if m else None,
                prediction_id=m["prediction"] if m else None,
                scheme_id=x.scheme_id,
                scheme_pct=x.scheme_pct,
                scheme_value=x.scheme_value,
                scheme_reason=x.reason,
                scheme_split=split,
                free_goods=x.free,
            )
        )
    return out


def validate(
    session: Session,
    draft: OrderDraft,
    *,
    today: dt.date | None = None,
    order_id: uuid.UUID | None = None,
) -> Checked:
    """Resolve, merge, price and check ``draft``; never raises for bad input."""
    errors: list[Issue] = []
    warnings: list[Issue] = []
    notices: list[Issue] = []
    store, problem = resolve_store(session, draft.store)
    if problem:
        errors.append(problem)
    kind = OrderKind(draft.kind)
    order_date = draft.order_date or today or dt.date.today()

    order_pct = _pct(draft.discount_pct)
    if order_pct is None:
        errors.append(
            Issue("discount_invalid", f"Order discount {draft.discount_pct!r} is not a number.")
        )
        order_pct = ZERO
    elif msg := check_pct(order_pct, "Order discount"):
        errors.append(Issue("discount_range", msg))

    if draft.requested_delivery_date and draft.requested_delivery_date < order_date:
        errors.append(
            Issue(
                "delivery_before_order",
                f"Requested delivery date {draft.requested_delivery_date:%d %b %Y} is before "
                f"the order date {order_date:%d %b %Y}.",
            )
        )
    if not draft.lines:
        errors.append(Issue("no_lines", "The order has no lines; add at least one product."))

    by_id, by_sku = _load_products(session, draft.lines)
    merged: dict[uuid.UUID, dict[str, Any]] = {}
    for n, line in enumerate(draft.lines, start=1):
        pid = _as_uuid(line.product)
        product = by_id.get(pid) if pid else None
        if product is None and isinstance(line.product, str):
            product = by_sku.get(line.product.strip().upper())
        if product is None or product.deleted:
            errors.append(Issue("product_unknown", f"Unknown product {line.product!s}.", n))
            continue
        if not product.active:
            errors.append(
                Issue("product_inactive", f"{_label(product)} is no longer sold (inactive).", n)
            )
            continue
        if product.price is None:
            errors.append(Issue("product_no_price", f"{_label(product)} has no price.", n))
            continue
        qty = _quantity(line.quantity)
        if qty is None:
            errors.append(
                Issue("quantity_invalid", f"Quantity {line.quantity!r} is not a whole number.", n)
            )
            continue
        if kind is OrderKind.ORDER and qty <= 0:
            errors.append(
                Issue(
                    "quantity_not_positive",
                    f"Quantity of {_label(product)} must be at least 1 (got {qty}); "
                    "record returned goods as a separate return.",
                    n,
                )
            )
            continue
        if kind is OrderKind.RETURN:
            if qty == 0:
                errors.append(
                    Issue("quantity_zero", f"Quantity of {_label(product)} must not be 0.", n)
                )
                continue
            qty = -abs(qty)  # returns are stored negative, like credit notes
        pct = _pct(line.discount_pct)
        if pct is None:
            errors.append(
                Issue("discount_invalid", f"Discount {line.discount_pct!r} is not a number.", n)
            )
            continue
        if msg := check_pct(pct, f"Discount on {_label(product)}"):
            errors.append(Issue("discount_range", msg, n))
            continue
        if product.id in merged:
            m = merged[product.id]
            if m["pct"] != pct:
                errors.append(
                    Issue(
                        "duplicate_discount",
                        f"{_label(product)} is on lines {m['lines'][0]} and {n} with different "
                        f"discounts ({fmt.percent_points(m['pct'])} and {fmt.percent_points(pct)}); keep one line.",
                        n,
                    )
                )
                continue
            m["qty"] += qty
            m["lines"].append(n)
            if m["suggested"] is None:
                m["suggested"], m["prediction"] = line.suggested_qty, line.prediction_id
        else:
            merged[product.id] = {
                "product": product,
                "qty": qty,
                "pct": pct,
                "lines": [n],
                "suggested": line.suggested_qty,
                "prediction": line.prediction_id,
            }

    notices += _merge_notices(merged)
    priced = _price_lines(session, merged, store, kind, order_date)
    totals = order_money([LineMoney(x.gross, x.discount, x.total) for x in priced], order_pct)

    if store is not None and kind is OrderKind.ORDER and store.credit_limit is not None:
        # the one balance the call screen's "credit left" shows (after collections not yet in
        # Zoho; the stored column only for a store without invoices): db.queries.balances
        balance = credit_balance(session, store, order_date)
        open_total = open_orders_total(session, store.id, order_id)
        exposure = balance + open_total + totals.total
        if exposure > store.credit_limit:
            warnings.append(
                Issue(
                    "credit_limit",
                    f"Credit limit exceeded for {store.name}: outstanding balance "
                    f"{fmt.money(balance)} + open orders {fmt.money(open_total)} + this order "
                    f"{fmt.money(totals.total)} = {fmt.money(exposure)}, over the limit of "
                    f"{fmt.money(store.credit_limit)} by {fmt.money(exposure - store.credit_limit)}.",
                )
            )
    return Checked(
        store_id=store.id if store is not None else None,
        store_name=store.name if store is not None else None,
        lines=priced,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        order_discount=totals.order_discount,
        total=totals.total,
        errors=errors,
        warnings=warnings,
        notices=notices,
    )
