"""``store_day_sales``: sales per (store, day), kept current by triggers (laptop, SQLite only).

Why: Today ranks every store from its order days, and the sales-by-period report sums sales
per day; both used to group every invoice line on every load (about a second per 10,000
stores). This table holds those sums per (store, day), so a reader reads one small row per
store-day instead.

Derived, local data like ``store_stats`` (:mod:`.search`): not in the Alembic history, not
replicated, not on the central PostgreSQL (readers there group the lines as before). Made by
:func:`ensure_day_sales` (when the app opens a database, and by any reader that finds it
missing); dropping it loses nothing.

Columns (money in the columns' minor units, as SQLite stores them, see ``db.types.Money``):

- ``lines``, ``units``, ``value`` — Today's order days from invoices: invoice lines with
  ``quantity > 0`` that are not deleted, of an invoice not deleted, void or draft (the
  forecast's rule: a voided invoice is not an order, so it must not make a store look as if
  it had just ordered); ``value`` = Σ quantity × unit_price (1/10,000 rupee, unit_price's
  scale; a missing price counts 0).
- ``net_lines``, ``net_quantity``, ``net_sales`` — the sales reports' rule: every line not
  deleted whose invoice is not deleted, void or draft (``reports.filters``
  ``EXCLUDED_INVOICE_STATUSES``; a line whose invoice is not on this laptop counts, as in the
  reports' ``NOT IN``), net of credit notes: Σ quantity and Σ line_total (1/100 rupee). The
  reports' plausible-date window is for the reader to apply on ``day``.
- ``order_lines``, ``order_units``, ``order_value`` — Today's open orders: lines not deleted of
  orders of kind ``order``, not deleted, in an open state (:data:`OPEN_ORDER_STATES`), on the
  order's date; value = Σ quantity × unit_price (1/10,000).

``day`` is the invoice line's ``invoice_date`` (the order's ``order_date``); ``store_id`` the
line's. A row exists while any of its three line counts is above 0.

How it is kept: triggers on ``invoice_line``, ``invoice``, ``order_line`` and ``orders`` note
the stores whose rows may have changed in ``store_day_sales_dirty`` (any writer: import, sync
pull, the order screens, the CLI while the app is closed), and :func:`refresh_day_sales`
recomputes those stores' rows from the lines (through the ``(store_id, invoice_date)``
index) before anyone reads. The note ``*`` means every store (a new table, or a trigger found
missing: changes may have gone unnoted). As for ``store_stats_dirty``, the triggers insert
with ``WHERE NOT EXISTS``, never ``OR IGNORE``, which a sync pull's UPSERT overrides.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine

from ..domain.enums import OrderKind, OrderState
from .dirty_stores import mark, missing, store_triggers

log = logging.getLogger(__name__)

OPEN_ORDER_STATES: tuple[str, ...] = (
    OrderState.SUBMITTED.value,
    OrderState.SYNCED.value,
    OrderState.SENT_TO_ZOHO.value,
)
"""Orders that count as an order day before their invoice exists (forecasting's rule)."""

EXCLUDED_STATUSES = ("void", "draft")
"""Invoice statuses that are not sales (the same as reports.filters.EXCLUDED_INVOICE_STATUSES;
db may not import reports, a test keeps the two equal)."""

ALL = "*"
"""The dirty note meaning every store."""

_SQL_STATES = ", ".join(f"'{s}'" for s in OPEN_ORDER_STATES)
_SQL_EXCLUDED = ", ".join(f"'{s}'" for s in EXCLUDED_STATUSES)
_ORDER = OrderKind.ORDER.value

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS store_day_sales (
        store_id TEXT NOT NULL,
        day TEXT NOT NULL,
        lines INTEGER NOT NULL DEFAULT 0,
        units INTEGER NOT NULL DEFAULT 0,
        value INTEGER NOT NULL DEFAULT 0,
        net_lines INTEGER NOT NULL DEFAULT 0,
        net_quantity INTEGER NOT NULL DEFAULT 0,
        net_sales INTEGER NOT NULL DEFAULT 0,
        order_lines INTEGER NOT NULL DEFAULT 0,
        order_units INTEGER NOT NULL DEFAULT 0,
        order_value INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (store_id, day)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS ix_store_day_sales_day ON store_day_sales(day)",
    "CREATE TABLE IF NOT EXISTS store_day_sales_dirty (store_id TEXT PRIMARY KEY) WITHOUT ROWID",
]


def _mark(store: str) -> str:
    return mark("store_day_sales_dirty", store)


def _mark_lines(table: str, key: str, owner: str) -> str:
    """Note the stores of every line of one invoice/order (lines repeat their owner's store,
    but a line's own store_id is what the rows are keyed on)."""
    return (
        "INSERT INTO store_day_sales_dirty(store_id) "  # noqa: S608 - names only
        f"SELECT DISTINCT store_id FROM {table} WHERE {key} = {owner} AND store_id NOT IN"
        " (SELECT store_id FROM store_day_sales_dirty);"
    )


_EXCLUDED_NEW = f"(new.deleted OR coalesce(new.status, '') IN ({_SQL_EXCLUDED}))"
_EXCLUDED_OLD = f"(old.deleted OR coalesce(old.status, '') IN ({_SQL_EXCLUDED}))"

TRIGGERS: dict[str, str] = {
    # invoice lines: any change to what a line contributes, to its old and new store
    **store_triggers(
        "store_day_sales_il",
        "store_day_sales_dirty",
        "invoice_line",
        "store_id, invoice_date, invoice_id, quantity, unit_price, line_total, deleted",
    ),
    # invoices: only whether their lines count (every column group but the orders') depends
    # on them
    "store_day_sales_inv_ai": f"""CREATE TRIGGER IF NOT EXISTS store_day_sales_inv_ai
        AFTER INSERT ON invoice WHEN {_EXCLUDED_NEW} BEGIN
        {_mark_lines("invoice_line", "invoice_id", "new.id")}
    END""",
    # "2": made by the version whose order days leave out void and draft invoices; a table
    # kept by an older version finds it missing and redoes every store
    "store_day_sales_inv_au2": f"""CREATE TRIGGER IF NOT EXISTS store_day_sales_inv_au2
        AFTER UPDATE OF id, status, deleted ON invoice
        WHEN old.id IS NOT new.id OR {_EXCLUDED_OLD} IS NOT {_EXCLUDED_NEW} BEGIN
        {_mark_lines("invoice_line", "invoice_id", "old.id")}
        {_mark_lines("invoice_line", "invoice_id", "new.id")}
    END""",
    "store_day_sales_inv_ad": f"""CREATE TRIGGER IF NOT EXISTS store_day_sales_inv_ad
        AFTER DELETE ON invoice WHEN {_EXCLUDED_OLD} BEGIN
        {_mark_lines("invoice_line", "invoice_id", "old.id")}
    END""",
    # order lines and orders: whether and on which day a line counts depends on both
    **store_triggers(
        "store_day_sales_ol",
        "store_day_sales_dirty",
        "order_line",
        "store_id, order_id, quantity, unit_price, deleted",
    ),
    "store_day_sales_ord_ai": f"""CREATE TRIGGER IF NOT EXISTS store_day_sales_ord_ai
        AFTER INSERT ON orders BEGIN
        {_mark_lines("order_line", "order_id", "new.id")}
    END""",
    "store_day_sales_ord_au": f"""CREATE TRIGGER IF NOT EXISTS store_day_sales_ord_au
        AFTER UPDATE OF id, kind, state, deleted, order_date ON orders
        WHEN old.id IS NOT new.id OR old.kind IS NOT new.kind OR old.state IS NOT new.state
            OR old.deleted IS NOT new.deleted OR old.order_date IS NOT new.order_date BEGIN
        {_mark_lines("order_line", "order_id", "old.id")}
        {_mark_lines("order_line", "order_id", "new.id")}
    END""",
    "store_day_sales_ord_ad": f"""CREATE TRIGGER IF NOT EXISTS store_day_sales_ord_ad
        AFTER DELETE ON orders BEGIN
        {_mark_lines("order_line", "order_id", "old.id")}
    END""",
}


LINE_TRIGGERS = tuple(name for name in TRIGGERS if name.startswith("store_day_sales_il_"))
RETIRED_TRIGGERS = ("store_day_sales_inv_au",)
"""Triggers of older versions, dropped where they still exist."""


def drop_line_triggers(conn: Connection) -> None:
    """For a bulk load of invoice lines into an empty history (the import's fresh path): any
    trigger on ``invoice_line`` makes SQLite keep a statement journal for every single-row
    INSERT, which cost ~60% more CPU per line. Dropped inside the loader's transaction (a
    rollback brings them back); the next :func:`ensure_day_sales` finds them missing, makes
    them again and redoes every store, which a fresh history needs anyway."""
    if conn.dialect.name != "sqlite":
        return
    for name in LINE_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def _sums(where_lines: str, where_orders: str) -> str:
    """The rows from the lines, for the lines/order lines matching the two conditions."""
    return f"""
    SELECT store_id, day, sum(lines), sum(units), sum(value), sum(net_lines),
           sum(net_quantity), sum(net_sales), sum(order_lines), sum(order_units),
           sum(order_value)
    FROM (
        SELECT il.store_id, il.invoice_date AS day,
            sum(il.quantity > 0 AND x.id IS NULL) AS lines,
            sum(CASE WHEN il.quantity > 0 AND x.id IS NULL THEN il.quantity ELSE 0 END) AS units,
            sum(CASE WHEN il.quantity > 0 AND x.id IS NULL
                THEN il.quantity * coalesce(il.unit_price, 0) ELSE 0 END) AS value,
            sum(x.id IS NULL) AS net_lines,
            sum(CASE WHEN x.id IS NULL THEN il.quantity ELSE 0 END) AS net_quantity,
            sum(CASE WHEN x.id IS NULL THEN il.line_total ELSE 0 END) AS net_sales,
            0 AS order_lines, 0 AS order_units, 0 AS order_value
        FROM invoice_line il
        LEFT JOIN invoice x ON x.id = il.invoice_id
            AND (x.deleted OR x.status IN ({_SQL_EXCLUDED}))
        WHERE NOT il.deleted {where_lines}
        GROUP BY il.store_id, il.invoice_date
        UNION ALL
        SELECT ol.store_id, o.order_date, 0, 0, 0, 0, 0, 0, count(*), sum(ol.quantity),
            sum(ol.quantity * coalesce(ol.unit_price, 0))
        FROM order_line ol JOIN orders o ON o.id = ol.order_id
        WHERE NOT ol.deleted AND NOT o.deleted AND o.kind = '{_ORDER}'
            AND o.state IN ({_SQL_STATES}) {where_orders}
        GROUP BY ol.store_id, o.order_date
    )
    GROUP BY store_id, day
    HAVING sum(lines) > 0 OR sum(net_lines) > 0 OR sum(order_lines) > 0
    """  # noqa: S608 - constants only


_COLUMNS = (
    "store_id, day, lines, units, value, net_lines, net_quantity, net_sales, order_lines,"
    " order_units, order_value"
)
_DIRTY = "(SELECT store_id FROM store_day_sales_dirty)"
FROM_SCRATCH = _sums("", "")
"""Every row, grouped from the lines now (what the table must always equal once refreshed)."""


def ensure_day_sales(conn: Connection) -> None:
    """Create the table, its dirty list and its triggers where missing (SQLite only).

    A new table, or any trigger missing (a table rebuilt by a migration drops its triggers),
    notes every store dirty: changes may have been made that nothing noted."""
    if conn.dialect.name != "sqlite":
        return
    absent = missing(conn, ["store_day_sales", *TRIGGERS])
    fresh = "store_day_sales" in absent
    lost = [name for name in absent if name in TRIGGERS]
    if not fresh and not lost:
        return  # a read path: no write here (an older version's table misses a new name)
    for retired in RETIRED_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {retired}")
    for statement in _SCHEMA:
        conn.exec_driver_sql(statement)
    for name in lost:
        conn.exec_driver_sql(TRIGGERS[name])
    conn.exec_driver_sql(_mark("'*'"))
    log.info("store_day_sales: %s; every store is redone", "new" if fresh else f"made {lost}")


def refresh_day_sales(conn: Connection) -> int:
    """Bring ``store_day_sales`` up to date (creating it, or a missing trigger, first); returns
    the stores redone (-1 for all). Cheap when nothing changed: one look at the dirty list."""
    ensure_day_sales(conn)
    return refresh_dirty(conn)


def refresh_dirty(conn: Connection) -> int:
    """Recompute the rows of the stores noted dirty (every row after a ``*`` note)."""
    if conn.exec_driver_sql("SELECT 1 FROM store_day_sales_dirty LIMIT 1").first() is None:
        return 0
    if _exists_all(conn):
        conn.exec_driver_sql("DELETE FROM store_day_sales")
        conn.exec_driver_sql(f"INSERT INTO store_day_sales ({_COLUMNS}) {FROM_SCRATCH}")  # noqa: S608
        conn.exec_driver_sql("DELETE FROM store_day_sales_dirty")
        return -1
    n = int(conn.exec_driver_sql("SELECT count(*) FROM store_day_sales_dirty").scalar_one())
    conn.exec_driver_sql(f"DELETE FROM store_day_sales WHERE store_id IN {_DIRTY}")  # noqa: S608
    scoped = _sums(f"AND il.store_id IN {_DIRTY}", f"AND ol.store_id IN {_DIRTY}")
    conn.exec_driver_sql(f"INSERT INTO store_day_sales ({_COLUMNS}) {scoped}")  # noqa: S608
    conn.exec_driver_sql("DELETE FROM store_day_sales_dirty")
    return n


def _exists_all(conn: Connection) -> bool:
    row = conn.exec_driver_sql(
        "SELECT 1 FROM store_day_sales_dirty WHERE store_id = ?", (ALL,)
    ).first()
    return row is not None


def refresh(engine: Engine) -> int:
    """:func:`refresh_day_sales` in its own transaction (SQLite; 0 elsewhere)."""
    if engine.dialect.name != "sqlite":
        return 0
    with engine.begin() as conn:
        return refresh_day_sales(conn)
