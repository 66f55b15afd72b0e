"""Reading schemes from the database into :mod:`.pricing`'s plain values (no Qt).

The laptop holds only the schemes meant for its agent's stores (central Row-Level Security);
pricing still checks each one against the order's store and date, so a manager's laptop,
which holds them all, prices exactly as the agent's does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..db.models import Product, Scheme, SchemeRule
from .pricing import ProductRef, Rule, SchemeKind
from .pricing import Scheme as PricingScheme


def split_list(text: str | None) -> frozenset[str]:
    """``"Pune, Mumbai"`` → ``{"Pune", "Mumbai"}`` (regions and store classes are stored so)."""
    return frozenset(x.strip() for x in (text or "").split(",") if x.strip())


def load_schemes(session: Session, on: dt.date | None = None) -> list[PricingScheme]:
    """Every live scheme (valid on ``on`` when given) with its rules, ready for pricing.

    A free-goods rule whose free product is unknown, inactive or unpriced here is left out
    (the gift could not be put on the order); a scheme left without rules is left out."""
    stmt = select(Scheme).where(Scheme.deleted.is_(False))
    if on is not None:
        stmt = stmt.where(
            Scheme.valid_from <= on, or_(Scheme.valid_to.is_(None), Scheme.valid_to >= on)
        )
    rows = list(session.scalars(stmt.order_by(Scheme.code)))
    if not rows:
        return []
    ids = [s.id for s in rows]
    rules: dict[uuid.UUID, list[SchemeRule]] = defaultdict(list)
    for r in session.scalars(
        select(SchemeRule).where(SchemeRule.scheme_id.in_(ids), SchemeRule.deleted.is_(False))
    ):
        rules[r.scheme_id].append(r)
    wanted = {r.free_product_id for rs in rules.values() for r in rs if r.free_product_id}
    wanted |= {s.product_id for s in rows if s.product_id}
    products: dict[uuid.UUID, Product] = {}
    if wanted:
        products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(wanted)))}
    out: list[PricingScheme] = []
    for s in rows:
        kept: list[Rule] = []
        for r in sorted(rules[s.id], key=lambda x: x.min_qty):
            free: ProductRef | None = None
            if r.free_product_id is not None:
                p = products.get(r.free_product_id)
                if p is None or p.deleted or not p.active or p.price is None:
                    continue
                free = ProductRef(p.id, p.name, p.price, p.sku)
            kept.append(Rule(r.min_qty, r.discount_pct or Decimal(0), r.free_qty or 0, free))
        if not kept:
            continue
        scoped = products.get(s.product_id) if s.product_id else None
        out.append(
            PricingScheme(
                id=s.id,
                code=s.code,
                name=s.name,
                kind=SchemeKind(s.kind),
                valid_from=s.valid_from,
                valid_to=s.valid_to,
                rules=tuple(kept),
                product_id=s.product_id,
                product_name=scoped.name if scoped is not None else None,
                brand=s.brand,
                category=s.category,
                regions=split_list(s.regions),
                store_classes=split_list(s.store_classes),
                stackable=bool(s.stackable),
            )
        )
    return out
