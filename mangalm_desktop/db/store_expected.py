"""``store_expected``: each store's expected order value, kept as predictions are written
(laptop, SQLite only).

Why: Today ranks every store by its chance to order × √(expected order), the expected order
being Σ P(line) × quantity × price over the store's suggested lines (``prediction``). At
100,000 stores that was 500,000 lines summed on every load (~1.3 s of Today's ~2 s, issue 21).
The sums change only when predictions are written (a forecast run, a sync pull, a scope change)
or a product's price changes, so they are kept here and Today reads one row per store with the
store itself.

Derived, local data like ``store_day_sales`` (:mod:`.day_sales`): not in the Alembic history,
not replicated, not on the central PostgreSQL (Today there sums the lines, :func:`sums_query`).
Made by :func:`ensure_store_expected` (when the app opens a database, and by any reader that
finds it missing); dropping it loses nothing.

Columns, per store with at least one suggested line (not deleted) whose product exists:

- ``value`` — Σ probability × suggested_qty × price in rupees (a missing price counts 0),
- ``units`` — Σ probability × suggested_qty,
- ``priced`` — 1 when one of those lines' products has a price above 0,

both sums rounded to a millionth as Today always used them (the last bits of a float sum
depend on the order the database adds in).

How it is kept: triggers on ``prediction`` note the stores whose lines changed in
``store_expected_dirty``; a product whose price changes (or a product added or removed, which
changes which lines join a product) notes ``*``, every store: finding the stores that suggest
one product has no index, and prices change rarely. :func:`refresh_store_expected` recomputes
the noted stores (all after ``*``); the forecast run calls it in its own transaction after
writing predictions, so Today finds the sums current.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Float,
    Select,
    String,
    case,
    cast,
    column,
    func,
    select,
    table,
)

from .dirty_stores import mark, missing, store_triggers
from .models import Prediction, Product
from .types import money_type

log = logging.getLogger(__name__)

ALL = "*"
"""The dirty note meaning every store."""

DIGITS = 6
"""The sums are rounded to this many decimals (see the module docstring)."""

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS store_expected (
        store_id TEXT PRIMARY KEY,
        value REAL NOT NULL,
        units REAL NOT NULL,
        priced INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS store_expected_dirty (store_id TEXT PRIMARY KEY) WITHOUT ROWID",
]

_DIRTY = table("store_expected_dirty", column("store_id"))
KEPT = table(
    "store_expected", column("store_id"), column("value"), column("units"), column("priced")
)
"""The kept sums as a Core table, for readers that join them to ``store`` (SQLite only)."""

_PRODUCT_CHANGES = "old.id IS NOT new.id OR old.price IS NOT new.price"

TRIGGERS: dict[str, str] = {
    # suggested lines: any change to what a line adds, to its old and new store
    **store_triggers(
        "store_expected_pred",
        "store_expected_dirty",
        "prediction",
        "store_id, product_id, probability, suggested_qty, deleted",
    ),
    # prices: every store (see the module docstring); only when the price really changed (a
    # sync pull rewrites unchanged rows)
    "store_expected_product_au": f"""CREATE TRIGGER IF NOT EXISTS store_expected_product_au
        AFTER UPDATE OF id, price ON product WHEN {_PRODUCT_CHANGES} BEGIN
        {mark("store_expected_dirty", f"'{ALL}'")}
    END""",
    "store_expected_product_ai": f"""CREATE TRIGGER IF NOT EXISTS store_expected_product_ai
        AFTER INSERT ON product BEGIN
        {mark("store_expected_dirty", f"'{ALL}'")}
    END""",
    "store_expected_product_ad": f"""CREATE TRIGGER IF NOT EXISTS store_expected_product_ad
        AFTER DELETE ON product BEGIN
        {mark("store_expected_dirty", f"'{ALL}'")}
    END""",
}


def sums_query(dialect: Dialect) -> Select[*tuple[Any, ...]]:
    """Per store (its id as stored text): Σ P × qty × price in rupees, Σ P × qty, and whether
    a line has a price. Today's rule, summed from the lines: what the table keeps on SQLite,
    and what Today reads directly on PostgreSQL."""
    scale = money_type(Product.price).stored_per_unit(dialect)
    # each line's price in rupees first (as the Decimal → float the old per-line code made)
    price = cast(func.coalesce(Product.price, 0), Float) / scale
    amount = Prediction.probability * Prediction.suggested_qty
    return (
        select(
            cast(Prediction.store_id, String),
            func.sum(amount * price),
            func.sum(cast(amount, Float)),
            func.max(case((Product.price > 0, 1), else_=0)),
        )
        .join(Product, Product.id == Prediction.product_id)
        .where(Prediction.deleted.is_(False))
        .group_by(Prediction.store_id)
    )


def rounded(value: float | None) -> float:
    """A sum as Today uses it: to a millionth, none = 0."""
    return round(float(value or 0.0), DIGITS)


def _missing(conn: Connection) -> list[str]:
    return missing(conn, ["store_expected", "store_expected_dirty", *TRIGGERS])


def ensure_store_expected(conn: Connection) -> None:
    """Create the table, its dirty list and its triggers where missing (SQLite only); a new
    table or a missing trigger notes every store: changes may have gone unnoted."""
    if conn.dialect.name != "sqlite":
        return
    missing = _missing(conn)
    if not missing:
        return
    for statement in _SCHEMA:
        conn.exec_driver_sql(statement)
    for name in missing:
        if name in TRIGGERS:
            conn.exec_driver_sql(TRIGGERS[name])
    conn.exec_driver_sql(mark("store_expected_dirty", f"'{ALL}'"))
    log.info("store_expected: made %s; every store is redone", missing)


def refresh_store_expected(conn: Connection) -> int:
    """Bring ``store_expected`` up to date in the caller's transaction (creating it or a
    missing trigger first); returns the stores redone (-1 = all). Cheap when nothing changed:
    one look at the dirty list."""
    if conn.dialect.name != "sqlite":
        return 0
    ensure_store_expected(conn)
    return refresh_noted(conn)


def refresh_noted(conn: Connection) -> int:
    """Recompute the sums of the stores noted dirty (every store after a ``*`` note)."""
    if conn.exec_driver_sql("SELECT 1 FROM store_expected_dirty LIMIT 1").first() is None:
        return 0
    everything = (
        conn.exec_driver_sql(
            "SELECT 1 FROM store_expected_dirty WHERE store_id = ?", (ALL,)
        ).first()
        is not None
    )
    query = sums_query(conn.dialect)
    if everything:
        conn.exec_driver_sql("DELETE FROM store_expected")
        n = -1
    else:
        query = query.where(Prediction.store_id.in_(select(_DIRTY.c.store_id)))
        n = int(conn.exec_driver_sql("SELECT count(*) FROM store_expected_dirty").scalar_one())
        conn.exec_driver_sql(
            "DELETE FROM store_expected WHERE store_id IN"
            " (SELECT store_id FROM store_expected_dirty)"
        )
    rows = [
        (key, rounded(value), rounded(units), int(priced or 0))
        for key, value, units, priced in conn.execute(query).cursor.fetchall()
    ]
    if rows:
        conn.exec_driver_sql(
            "INSERT INTO store_expected (store_id, value, units, priced) VALUES (?, ?, ?, ?)",
            rows,
        )
    conn.exec_driver_sql("DELETE FROM store_expected_dirty")
    return n
