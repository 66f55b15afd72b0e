"""A few realistic trade schemes for the demo company, dated around its "today".

Picked from the generated catalogue, so they exist for any seed and size: a festive % off a
category (stacks), quantity slabs on the best-stocked brand for medium and large stores, buy 10
get 1 free on a staple in the first region, a brand offer with a cheaper product given free,
and a monsoon offer that has already ended (the Schemes view shows it under "Show ended").
Orders taken in the demo app get them; the generated history predates them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, insert

from ..db.models import Scheme, SchemeRule
from . import catalog, places


def _id(seed: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"mangalm-demo-scheme:{seed}")


def _schemes(products: pd.DataFrame, today: dt.date) -> Iterator[tuple[dict[str, Any], list]]:
    live = products[products["active"].astype(bool)]
    day = dt.timedelta(days=1)
    yield (
        {
            "code": "FESTIVE-BIS5",
            "name": "Festive biscuits: 5% off",
            "kind": "percent",
            "category": catalog.BISCUITS,
            "valid_from": today - 10 * day,
            "valid_to": today + 20 * day,
            "stackable": True,
        },
        [(1, Decimal(5), 0, None)],
    )
    brand = live["brand"].value_counts().index[0]
    yield (
        {
            "code": f"{brand[:10].upper().replace(' ', '')}-SLAB",
            "name": f"{brand} volume slabs",
            "kind": "slab",
            "brand": brand,
            "valid_from": today - 30 * day,
            "valid_to": today + 30 * day,
            "store_classes": "M,L",
        },
        [(24, Decimal(4), 0, None), (60, Decimal(7), 0, None)],
    )
    staples = live[live["category"] == catalog.STAPLES].sort_values("sku")
    if len(staples):
        p = staples.iloc[0]
        yield (
            {
                "code": "STAPLE-10+1",
                "name": f"{p['name']}: buy 10 get 1 free",
                "kind": "free_goods",
                "product_id": p["id"],
                "valid_from": today - 5 * day,
                "valid_to": today + 25 * day,
                "regions": places.REGIONS[0].name,
            },
            [(10, Decimal(0), 1, None)],
        )
    snacks = live[live["category"] == catalog.SNACKS].sort_values("price")
    if len(snacks):
        gift = snacks.iloc[0]
        other = live[live["brand"] != brand]["brand"].value_counts().index[0]
        yield (
            {
                "code": "BRAND-24+GIFT",
                "name": f"{other}: buy 24, get 2 {gift['name']}",
                "kind": "free_goods",
                "brand": other,
                "valid_from": today - 3 * day,
                "valid_to": None,
                "stackable": True,
            },
            [(24, Decimal(0), 2, gift["id"])],
        )
    yield (
        {
            "code": "MONSOON-OIL3",
            "name": "Monsoon oils: 3% off",
            "kind": "percent",
            "category": catalog.OILS,
            "valid_from": today - 90 * day,
            "valid_to": today - 40 * day,
        },
        [(1, Decimal(3), 0, None)],
    )


def write_demo_schemes(conn: Connection, products: pd.DataFrame, today: dt.date) -> int:
    """Insert the demo schemes with their rules; returns how many."""
    now = dt.datetime.now(dt.UTC)
    n = 0
    for head, rules in _schemes(products, today):
        sid = _id(head["code"])
        conn.execute(insert(Scheme).values(id=sid, created_at=now, updated_at=now, **head))
        conn.execute(
            insert(SchemeRule),
            [
                {
                    "id": _id(f"{head['code']}:{i}"),
                    "scheme_id": sid,
                    "min_qty": q,
                    "discount_pct": pct,
                    "free_qty": free,
                    "free_product_id": gift,
                    "updated_at": now,
                }
                for i, (q, pct, free, gift) in enumerate(rules)
            ],
        )
        n += 1
    return n
