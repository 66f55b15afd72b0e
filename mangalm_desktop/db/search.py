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
- ``store_stats``: last order date and sales of the last 12 months per store, as of a date.
  Rolling figures cannot be kept by triggers alone, so :func:`refresh_store_stats` recomputes
  them in one statement (after imports/syncs and when the date changes) and views read them
  as plain columns they can sort and filter on.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Connection, Engine, text

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
        sales_12m INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS ix_store_stats_last_order ON store_stats(last_order_date)",
    "CREATE INDEX IF NOT EXISTS ix_store_stats_sales ON store_stats(sales_12m)",
    "CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT)",
]


def _exists(conn: Connection, name: str) -> bool:
    row = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = :n"), {"n": name}).first()
    return row is not None


def ensure_search_schema(engine: Engine, as_of: dt.date | None = None) -> bool:
    """Create the search tables/triggers if missing (and fill them); True if they were made."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as conn:
        fresh = not _exists(conn, "store_fts")
        for statement in _SCHEMA:
            conn.exec_driver_sql(statement)
        if fresh:
            _rebuild(conn)
    day = as_of or dt.date.today()
    with engine.connect() as conn:
        current = _stats_key(conn, day)
    if fresh or get_meta(engine, "store_stats_key") != current:
        refresh_store_stats(engine, day)
    return fresh


def _stats_key(conn: Connection, as_of: dt.date) -> str:
    """What the figures depend on: the date, and the invoices and stores as they are now.

    An import or sync run by the CLI while the app was closed changes the key, so the next
    start recomputes instead of showing stale figures.
    """
    inv = conn.exec_driver_sql("SELECT count(*), max(updated_at) FROM invoice").one()
    sto = conn.exec_driver_sql("SELECT count(*), max(updated_at) FROM store").one()
    return f"{as_of.isoformat()}|{inv[0]}|{inv[1]}|{sto[0]}|{sto[1]}"


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

    Sales = invoices minus credit notes (whose totals are negative); void and draft invoices
    never count; the last order date looks at invoices only.
    """
    since = as_of - dt.timedelta(days=365)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM store_stats")
        result = conn.execute(
            text(
                "INSERT INTO store_stats (store_rowid, last_order_date, sales_12m) "
                "SELECT s.rowid, agg.last_date, coalesce(agg.sales, 0) FROM store s "
                "LEFT JOIN (SELECT store_id, max(CASE WHEN kind = 'invoice' THEN invoice_date END)"
                "   AS last_date, sum(CASE WHEN invoice_date > :since AND invoice_date <= :as_of"
                "   THEN total ELSE 0 END) AS sales"
                "   FROM invoice WHERE NOT deleted AND kind IN ('invoice', 'credit_note')"
                "   AND coalesce(status, '') NOT IN ('void', 'draft') AND invoice_date <= :as_of"
                "   GROUP BY store_id) agg ON agg.store_id = s.id"
            ),
            {"since": since.isoformat(), "as_of": as_of.isoformat()},
        )
        conn.execute(
            text("INSERT OR REPLACE INTO search_meta (key, value) VALUES ('store_stats_key', :v)"),
            {"v": _stats_key(conn, as_of)},
        )
    return int(result.rowcount or 0)
