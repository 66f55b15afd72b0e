"""Local-only search and summary tables for the views (SQLite FTS5 + a per-store stats cache).

Not part of the replicated schema and not in the Alembic history: they are derived data, made
by :func:`ensure_search_schema` every time the app opens a database (``CREATE ... IF NOT
EXISTS``), so fresh, migrated and synced databases all get them, and dropping them loses
nothing.

- ``store_fts`` / ``product_fts``: external-content FTS5 indexes over ``store`` (name, city,
  code, Zoho customer id) and ``product`` (name, SKU, brand, category), kept in step by
  triggers, so typing in the search box costs one index lookup even with 100,000 stores. They
  key on the tables' implicit ``rowid`` (stable: the app never VACUUMs; after one, call
  :func:`rebuild_search`).
- ``store_stats``: last order date and sales of the last 12 months per store, as of a date,
  read by the views as plain columns they can sort and filter on. Kept current incrementally:
  triggers on ``invoice`` and ``store`` note the stores whose invoices changed in
  ``store_stats_dirty`` (whoever wrote them: an import, a sync, the CLI while the app was
  closed), and :func:`refresh_dirty_store_stats` recomputes only those stores — a few
  milliseconds after an import or sync instead of a pass over 100,000 stores. Rolling
  12-month figures cannot follow the calendar by triggers, so when the date moves on
  :func:`refresh_store_stats` recomputes every store; the app does that in the background
  (showing yesterday's figures meanwhile), never before the first view.
- ``store_day_sales`` (:mod:`.day_sales`): sales per (store, day) for Today and the sales
  reports, and ``store_expected`` (:mod:`.store_expected`): each store's expected order for
  Today, made here too.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    column,
    func,
    literal_column,
    table,
    text,
)

from .day_sales import ensure_day_sales
from .dirty_stores import mark, store_triggers
from .models import Store
from .store_expected import ensure_store_expected

log = logging.getLogger(__name__)

_SCHEMA = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS store_fts USING fts5(
        name, city, code, zoho_customer_id,
        content='store', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')""",
    """CREATE TRIGGER IF NOT EXISTS store_fts_ai AFTER INSERT ON store BEGIN
        INSERT INTO store_fts(rowid, name, city, code, zoho_customer_id)
        VALUES (new.rowid, new.name, new.city, new.code, new.zoho_customer_id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS store_fts_ad AFTER DELETE ON store BEGIN
        INSERT INTO store_fts(store_fts, rowid, name, city, code, zoho_customer_id)
        VALUES ('delete', old.rowid, old.name, old.city, old.code, old.zoho_customer_id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS store_fts_au
        AFTER UPDATE OF name, city, code, zoho_customer_id ON store BEGIN
        INSERT INTO store_fts(store_fts, rowid, name, city, code, zoho_customer_id)
        VALUES ('delete', old.rowid, old.name, old.city, old.code, old.zoho_customer_id);
        INSERT INTO store_fts(rowid, name, city, code, zoho_customer_id)
        VALUES (new.rowid, new.name, new.city, new.code, new.zoho_customer_id);
    END""",
    """CREATE VIRTUAL TABLE IF NOT EXISTS product_fts USING fts5(
        name, sku, brand, category,
        content='product', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')""",
    """CREATE TRIGGER IF NOT EXISTS product_fts_ai AFTER INSERT ON product BEGIN
        INSERT INTO product_fts(rowid, name, sku, brand, category)
        VALUES (new.rowid, new.name, new.sku, new.brand, new.category);
    END""",
    """CREATE TRIGGER IF NOT EXISTS product_fts_ad AFTER DELETE ON product BEGIN
        INSERT INTO product_fts(product_fts, rowid, name, sku, brand, category)
        VALUES ('delete', old.rowid, old.name, old.sku, old.brand, old.category);
    END""",
    """CREATE TRIGGER IF NOT EXISTS product_fts_au
        AFTER UPDATE OF name, sku, brand, category ON product BEGIN
        INSERT INTO product_fts(product_fts, rowid, name, sku, brand, category)
        VALUES ('delete', old.rowid, old.name, old.sku, old.brand, old.category);
        INSERT INTO product_fts(rowid, name, sku, brand, category)
        VALUES (new.rowid, new.name, new.sku, new.brand, new.category);
    END""",
    """CREATE TABLE IF NOT EXISTS store_stats (
        store_rowid INTEGER PRIMARY KEY,
        last_order_date TEXT,
        sales_12m INTEGER NOT NULL DEFAULT 0,
        balance INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS ix_store_stats_last_order ON store_stats(last_order_date)",
    "CREATE INDEX IF NOT EXISTS ix_store_stats_sales ON store_stats(sales_12m)",
    "CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT)",
    # stores whose figures must be recomputed (kept by the triggers below)
    "CREATE TABLE IF NOT EXISTS store_stats_dirty (store_id TEXT PRIMARY KEY) WITHOUT ROWID",
]

# The triggers that keep ``store_stats_dirty`` (see .dirty_stores); when one is missing (a new
# database, or a migration that rebuilt a table and dropped its triggers) every store's figures
# are redone.


def _mark(store: str) -> str:
    return mark("store_stats_dirty", store)


def _mark_on_change(table: str, columns: str) -> dict[str, str]:
    return store_triggers(f"store_stats_{table}", "store_stats_dirty", table, columns)


_RETIRED_TRIGGERS = (  # older versions, dropped where they still exist
    "store_stats_invoice_ai",  # INSERT OR IGNORE (see above)
    "store_stats_invoice_au",
    "store_stats_invoice_ad",
    "store_stats_store_ai",
    "store_stats_invoice_au2",  # did not follow invoice.balance
)
_STATS_TRIGGERS = {
    "store_stats_invoice_ai2": f"""CREATE TRIGGER IF NOT EXISTS store_stats_invoice_ai2
        AFTER INSERT ON invoice BEGIN
        {_mark("new.store_id")}
    END""",
    "store_stats_invoice_au3": f"""CREATE TRIGGER IF NOT EXISTS store_stats_invoice_au3
        AFTER UPDATE OF store_id, invoice_date, total, balance, kind, status, deleted
        ON invoice BEGIN
        {_mark("old.store_id")}
        {_mark("new.store_id")}
    END""",
    "store_stats_invoice_ad2": f"""CREATE TRIGGER IF NOT EXISTS store_stats_invoice_ad2
        AFTER DELETE ON invoice BEGIN
        {_mark("old.store_id")}
    END""",
    "store_stats_store_ai2": f"""CREATE TRIGGER IF NOT EXISTS store_stats_store_ai2
        AFTER INSERT ON store BEGIN
        {_mark("new.id")}
    END""",
    "store_stats_store_ad": """CREATE TRIGGER IF NOT EXISTS store_stats_store_ad
        AFTER DELETE ON store BEGIN
        DELETE FROM store_stats WHERE store_rowid = old.rowid;
    END""",
    # the stored balance is what a store without invoice rows is shown to owe
    "store_stats_store_au": f"""CREATE TRIGGER IF NOT EXISTS store_stats_store_au
        AFTER UPDATE OF outstanding_balance ON store BEGIN
        {_mark("new.id")}
    END""",
    # collections change what a store owes before Zoho knows (db/queries/balances.py)
    **_mark_on_change("payment", "store_id, amount, status, zoho_payment_id, deleted"),
    **_mark_on_change("payment_allocation", "store_id, invoice_id, payment_id, amount, deleted"),
}


# Sales = invoices minus credit notes (whose totals are negative); void and draft invoices
# never count; the last order date looks at invoices only.
#
# The balance is db.queries.balances.credit_balance's figure, the one the credit check, the
# call screen and the store card show: open invoice balances less collections Zoho has not
# seen yet, less money on account; a store with no invoice rows shows its stored
# outstanding_balance. ``tests/integration/test_store_stats_balance.py`` holds the two equal.
def _stats_sql(only_dirty: bool) -> str:
    def dirty(column: str) -> str:
        return (
            " AND " + column + " IN (SELECT store_id FROM store_stats_dirty)"  # noqa: S608
            if only_dirty
            else ""
        )

    verb = "INSERT OR REPLACE" if only_dirty else "INSERT"
    only = " WHERE s.id IN (SELECT store_id FROM store_stats_dirty)" if only_dirty else ""
    # fixed text and column names only; the dates are bound
    return (
        verb + " INTO store_stats"  # noqa: S608
        " (store_rowid, last_order_date, sales_12m, balance)"
        " SELECT s.rowid, agg.last_date, coalesce(agg.sales, 0),"
        "   CASE WHEN agg.store_id IS NULL THEN coalesce(s.outstanding_balance, 0)"
        "   ELSE coalesce(agg.open_sum, 0) - coalesce(acc.on_account, 0) END"
        " FROM store s"
        " LEFT JOIN (SELECT store_id,"
        "   max(CASE WHEN kind = 'invoice' AND sale AND invoice_date <= :as_of"
        "     THEN invoice_date END) AS last_date,"
        "   sum(CASE WHEN sale AND kind IN ('invoice', 'credit_note') AND invoice_date > :since"
        "     AND invoice_date <= :as_of THEN total ELSE 0 END) AS sales,"
        "   sum(CASE WHEN sale AND kind = 'invoice' AND open > 0 THEN open ELSE 0 END) AS open_sum"
        "   FROM (SELECT i.store_id, i.kind, i.invoice_date, i.total,"
        "       coalesce(i.status, '') NOT IN ('void', 'draft') AS sale,"
        "       coalesce(i.balance, 0) - coalesce(pend.pending, 0) AS open"
        "     FROM invoice i LEFT JOIN (SELECT pa.invoice_id, sum(pa.amount) AS pending"
        "       FROM payment_allocation pa JOIN payment p ON p.id = pa.payment_id"
        "       WHERE NOT pa.deleted AND NOT p.deleted AND p.status != 'rejected'"
        "       AND p.zoho_payment_id IS NULL"
        "       GROUP BY pa.invoice_id) pend ON pend.invoice_id = i.id"
        "     WHERE NOT i.deleted" + dirty("i.store_id") + ")"
        "   GROUP BY store_id) agg ON agg.store_id = s.id"
        " LEFT JOIN (SELECT p.store_id, sum(p.amount - coalesce(al.allocated, 0)) AS on_account"
        "   FROM payment p LEFT JOIN (SELECT payment_id, sum(amount) AS allocated"
        "     FROM payment_allocation WHERE NOT deleted GROUP BY payment_id) al"
        "     ON al.payment_id = p.id"
        "   WHERE NOT p.deleted AND p.status != 'rejected'"
        + dirty("p.store_id")
        + "   GROUP BY p.store_id) acc ON acc.store_id = s.id"
        + only
    )


_STATS_ALL = _stats_sql(only_dirty=False)
_STATS_DIRTY = _stats_sql(only_dirty=True)


STORE_STATS = table("store_stats", column("store_rowid"), column("balance"))
"""The store figures as a Core table, for readers that join them (SQLite only)."""


def shown_balance(conn: Connection) -> tuple[ColumnElement[Any], FromClause]:
    """What a store owes as the lists show it (see ``_stats_sql``), and the FROM to read it:
    ``store`` joined to its figures on a laptop; the stored column where there are none
    (PostgreSQL, or a database opened without the search tables)."""
    store = Store.__table__
    if conn.dialect.name != "sqlite" or not _exists(conn, "store_stats"):
        return store.c.outstanding_balance, store
    joined = store.outerjoin(
        STORE_STATS, STORE_STATS.c.store_rowid == literal_column("store.rowid")
    )
    return func.coalesce(STORE_STATS.c.balance, store.c.outstanding_balance), joined


def _exists(conn: Connection, name: str) -> bool:
    row = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = :n"), {"n": name}).first()
    return row is not None


def _columns(conn: Connection, table: str) -> set[str]:
    return {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")}


def ensure_search_schema(
    engine: Engine, as_of: dt.date | None = None, *, refresh_stale: bool = True
) -> bool:
    """Create the search tables/triggers if missing (and fill them); True if they were made.

    ``refresh_stale``: also bring the store figures up to date now (the CLI and tests); the
    app passes False and refreshes them in the background (:func:`stats_staleness` says what
    is due), so the first view never waits for them.
    """
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as conn:
        fresh = not _exists(conn, "store_fts")
        # figures kept by an older version, without the balance column: derived data, redone
        outdated = _exists(conn, "store_stats") and "balance" not in _columns(conn, "store_stats")
        if outdated:
            conn.exec_driver_sql("DROP TABLE store_stats")
        for statement in _SCHEMA:
            conn.exec_driver_sql(statement)
        if outdated:
            conn.exec_driver_sql("DELETE FROM search_meta WHERE key = 'store_stats_key'")
        if fresh:
            _rebuild(conn)
        for retired in _RETIRED_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {retired}")
        lost = [name for name in _STATS_TRIGGERS if not _exists(conn, name)]
        for name in lost:
            conn.exec_driver_sql(_STATS_TRIGGERS[name])
        if lost and not fresh:  # changes made without the triggers: redo every store
            conn.exec_driver_sql("DELETE FROM search_meta WHERE key = 'store_stats_key'")
        ensure_day_sales(conn)  # the per-(store, day) sums: filled when first read
        ensure_store_expected(conn)  # each store's expected order: filled when first read
    if fresh:
        refresh_store_stats(engine, as_of or dt.date.today())
    elif refresh_stale:
        refresh_stale_store_stats(engine, as_of or dt.date.today())
    return fresh


def _stats_key(as_of: dt.date) -> str:
    """What every store's figures depend on besides its own invoices: the date."""
    return as_of.isoformat()


def stats_staleness(engine: Engine, as_of: dt.date) -> str:
    """ "current", "stores" (some stores' invoices changed) or "date" (all figures are for
    another day, or were never computed)."""
    with engine.connect() as conn:
        key = conn.execute(
            text("SELECT value FROM search_meta WHERE key = 'store_stats_key'")
        ).scalar()
        if key != _stats_key(as_of):
            return "date"
        dirty = conn.exec_driver_sql("SELECT 1 FROM store_stats_dirty LIMIT 1").first()
    return "stores" if dirty else "current"


def refresh_stale_store_stats(engine: Engine, as_of: dt.date) -> str:
    """Bring the figures up to date with the least work; returns what was stale (as
    :func:`stats_staleness`)."""
    stale = stats_staleness(engine, as_of)
    if stale == "date":
        refresh_store_stats(engine, as_of)
    elif stale == "stores":
        refresh_dirty_store_stats(engine, as_of)
    return stale


def _rebuild(conn: Connection) -> None:
    conn.exec_driver_sql("INSERT INTO store_fts(store_fts) VALUES ('rebuild')")
    conn.exec_driver_sql("INSERT INTO product_fts(product_fts) VALUES ('rebuild')")


def rebuild_search(engine: Engine) -> None:
    """Rebuild both FTS indexes from their tables (after a VACUUM or a bulk load)."""
    with engine.begin() as conn:
        _rebuild(conn)


def get_meta(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT value FROM search_meta WHERE key = :k"), {"k": key}).first()
    return row[0] if row else None


def refresh_store_stats(engine: Engine, as_of: dt.date) -> int:
    """Recompute ``store_stats`` for every store as of ``as_of``; returns the store count.

    One statement over all invoices (about 2 s for 100,000 stores): for a new day or a new
    database. After imports and syncs :func:`refresh_dirty_store_stats` does the same for the
    changed stores only.
    """
    since = as_of - dt.timedelta(days=365)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM store_stats")
        conn.exec_driver_sql("DELETE FROM store_stats_dirty")
        result = conn.execute(
            text(_STATS_ALL),
            {"since": since.isoformat(), "as_of": as_of.isoformat()},
        )
        conn.execute(
            text("INSERT OR REPLACE INTO search_meta (key, value) VALUES ('store_stats_key', :v)"),
            {"v": _stats_key(as_of)},
        )
    return int(result.rowcount or 0)


def refresh_dirty_store_stats(engine: Engine, as_of: dt.date) -> int:
    """Recompute the figures of the stores noted in ``store_stats_dirty``; returns how many.

    Same rule and date as :func:`refresh_store_stats` (the figures must already be for
    ``as_of``, see :func:`stats_staleness`); reads only those stores' invoices through the
    ``(store_id, invoice_date)`` index.
    """
    since = as_of - dt.timedelta(days=365)
    with engine.begin() as conn:
        result = conn.execute(
            text(_STATS_DIRTY),
            {"since": since.isoformat(), "as_of": as_of.isoformat()},
        )
        conn.exec_driver_sql("DELETE FROM store_stats_dirty")
    return int(result.rowcount or 0)
