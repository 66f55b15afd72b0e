"""Scheme uptake and cost: what each trade promotion gave, from the orders that carry it.

Per scheme (in the date range, by order date; orders that are not drafts, not cancelled, not
returns; region/agent/store narrow the orders, brand/category/product the lines):

- orders / lines: orders and order lines the scheme gave something on;
- quantity: units bought on the lines it discounted; free quantity: units it gave free;
- discount given: its rupees off those lines (a line where schemes stacked is split between
  them as saved with the order, ``order_line.scheme_split``);
- free goods value: the free units at list price when the order was taken;
- cost: discount given + free goods value; order value: the totals of the orders it touched;
  cost share: cost / order value.

Schemes valid in the range that nobody used are listed with zeros (an unused scheme is news
too). Sorted by cost, largest first.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, false, or_, select

from ..db.models import Order, OrderLine, Scheme
from ..domain.enums import OrderKind, OrderState
from .filters import ReportFilters, agent_ids, product_ids, store_ids

ZERO = Decimal("0.00")
COLUMNS: list[str] = [
    "scheme_code",
    "scheme",
    "orders",
    "lines",
    "quantity",
    "free_quantity",
    "discount_given",
    "free_goods_value",
    "cost",
    "order_value",
    "cost_share",
]


def _shares(line: Any) -> list[tuple[uuid.UUID, Decimal]]:
    """(scheme id, rupees) this line gave, per scheme."""
    if line.scheme_split:
        try:
            split = json.loads(line.scheme_split)
            return [(uuid.UUID(k), Decimal(v)) for k, v in split.items()]
        except (ValueError, TypeError, ArithmeticError):
            pass  # a damaged split: credit the line's first scheme with all of it
    return [(line.scheme_id, line.scheme_value or ZERO)]


def scheme_uptake(conn: Connection, f: ReportFilters) -> pd.DataFrame:
    conds = [
        Order.deleted == false(),
        OrderLine.deleted == false(),
        OrderLine.scheme_id.is_not(None),
        Order.kind == OrderKind.ORDER.value,
        Order.state.not_in([OrderState.CANCELLED.value, OrderState.DRAFT.value]),
    ]
    if f.date_from is not None:
        conds.append(Order.order_date >= f.date_from)
    if f.date_to is not None:
        conds.append(Order.order_date <= f.date_to)
    if (sids := store_ids(f)) is not None:
        conds.append(Order.store_id.in_(sids))
    if f.agent is not None:
        conds.append(Order.agent_id.in_(agent_ids(f)))
    if (pids := product_ids(f)) is not None:
        conds.append(OrderLine.product_id.in_(pids))
    rows = conn.execute(
        select(
            OrderLine.order_id,
            OrderLine.scheme_id,
            OrderLine.scheme_split,
            OrderLine.scheme_value,
            OrderLine.free_goods,
            OrderLine.quantity,
            Order.total,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(*conds)
    ).all()
    acc: dict[uuid.UUID, dict[str, Any]] = defaultdict(
        lambda: {
            "orders": {},
            "lines": 0,
            "quantity": 0,
            "free_quantity": 0,
            "discount_given": ZERO,
            "free_goods_value": ZERO,
        }
    )
    for line in rows:
        for scheme_id, amount in _shares(line):
            a = acc[scheme_id]
            a["orders"][line.order_id] = line.total
            a["lines"] += 1
            if line.free_goods:
                a["free_quantity"] += line.quantity
                a["free_goods_value"] += amount
            else:
                a["quantity"] += line.quantity
                a["discount_given"] += amount

    scheme_conds = [Scheme.deleted == false()]
    if f.date_to is not None:
        scheme_conds.append(Scheme.valid_from <= f.date_to)
    if f.date_from is not None:
        scheme_conds.append(or_(Scheme.valid_to.is_(None), Scheme.valid_to >= f.date_from))
    shown = {
        s.id: s
        for s in conn.execute(
            select(Scheme.id, Scheme.code, Scheme.name).where(
                or_(Scheme.id.in_(list(acc)), and_(*scheme_conds))
            )
        )
    }
    out = []
    for sid, s in shown.items():
        got = acc.get(sid)
        orders = got["orders"] if got else {}
        discount = got["discount_given"] if got else ZERO
        free = got["free_goods_value"] if got else ZERO
        value = sum(orders.values(), ZERO)
        cost = discount + free
        out.append(
            {
                "scheme_code": s.code,
                "scheme": s.name,
                "orders": len(orders),
                "lines": got["lines"] if got else 0,
                "quantity": got["quantity"] if got else 0,
                "free_quantity": got["free_quantity"] if got else 0,
                "discount_given": discount,
                "free_goods_value": free,
                "cost": cost,
                "order_value": value,
                "cost_share": float(cost / value) if value else None,
            }
        )
    out.sort(key=lambda r: (-r["cost"], r["scheme_code"]))
    return pd.DataFrame(out, columns=COLUMNS)
