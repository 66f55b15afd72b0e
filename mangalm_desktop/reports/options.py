"""The values a filter box can offer (regions, agents, brands, categories, stores, products)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, false, or_, select

from ..db.models import Agent, Product, Store


@dataclass(frozen=True)
class FilterChoices:
    regions: list[str]
    agents: list[tuple[str, str]]  # (code, name)
    brands: list[str]
    categories: list[str]
    stores: list[tuple[str, str]]  # (code, name)
    products: list[tuple[str, str]]  # (sku, name)


def _distinct(conn, col) -> list[str]:  # noqa: ANN001
    rows = conn.execute(select(col).where(col.is_not(None)).distinct().order_by(col))
    return [r[0] for r in rows]


def filter_choices(engine: Engine) -> FilterChoices:
    with engine.connect() as conn:
        agents = conn.execute(
            select(Agent.code, Agent.name).where(Agent.deleted == false()).order_by(Agent.name)
        ).all()
        stores = conn.execute(
            select(Store.code, Store.name).where(Store.deleted == false()).order_by(Store.name)
        ).all()
        products = conn.execute(
            select(Product.sku, Product.name)
            .where(Product.deleted == false(), Product.sku.is_not(None))
            .order_by(Product.name)
        ).all()
        return FilterChoices(
            regions=_distinct(conn, Store.region),
            agents=[(a or n, n) for a, n in agents],  # the filter takes a code or a name
            brands=_distinct(conn, Product.brand),
            categories=_distinct(conn, Product.category),
            stores=[(c, n) for c, n in stores],
            products=[(s, n) for s, n in products if s is not None],  # None: not selected
        )


def store_id_for(engine: Engine, code_or_name: str) -> uuid.UUID | None:
    """The store a report row names (by code, else by name), for opening its store card."""
    with engine.connect() as conn:
        return conn.execute(
            select(Store.id)
            .where(or_(Store.code == code_or_name, Store.name == code_or_name))
            .order_by(Store.code)
            .limit(1)
        ).scalar_one_or_none()
