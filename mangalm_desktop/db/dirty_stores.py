"""SQLite trigger text that notes changed stores in a ``*_dirty`` table (one row per store).

Three derived laptop tables are kept this way — ``store_stats`` (:mod:`.search`),
``store_day_sales`` (:mod:`.day_sales`) and ``store_expected`` (:mod:`.store_expected`):
triggers note the stores whose rows changed, and the reader recomputes only those. The note is an insert only when the store is not there yet
(``WHERE NOT EXISTS``), never ``INSERT OR IGNORE``: the sync pull writes rows with an UPSERT
(``ON CONFLICT DO UPDATE``), and SQLite lets the outer statement's conflict handling override
a trigger's ``OR IGNORE``, which failed the whole sync with "UNIQUE constraint failed".
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection


def mark(dirty: str, store: str) -> str:
    """One statement noting ``store`` (an SQL expression: ``new.store_id``) in ``dirty``."""
    return (
        f"INSERT INTO {dirty}(store_id) SELECT {store} "  # noqa: S608 - names only
        f"WHERE NOT EXISTS (SELECT 1 FROM {dirty} WHERE store_id = {store});"
    )


def store_triggers(name: str, dirty: str, table: str, columns: str) -> dict[str, str]:
    """Insert, update (of ``columns``) and delete triggers on ``table`` noting its rows' old and
    new ``store_id`` in ``dirty``; named ``{name}_ai``, ``{name}_au`` and ``{name}_ad``."""
    return {
        f"{name}_ai": f"""CREATE TRIGGER IF NOT EXISTS {name}_ai
            AFTER INSERT ON {table} BEGIN
            {mark(dirty, "new.store_id")}
        END""",
        f"{name}_au": f"""CREATE TRIGGER IF NOT EXISTS {name}_au
            AFTER UPDATE OF {columns} ON {table} BEGIN
            {mark(dirty, "old.store_id")}
            {mark(dirty, "new.store_id")}
        END""",
        f"{name}_ad": f"""CREATE TRIGGER IF NOT EXISTS {name}_ad
            AFTER DELETE ON {table} BEGIN
            {mark(dirty, "old.store_id")}
        END""",
    }


def missing(conn: Connection, names: Sequence[str]) -> list[str]:
    """Which of the tables/triggers ``names`` SQLite does not have, in one look (a reader calls
    this before every read of a kept table, so it is one query, not one per name)."""
    marks = ", ".join("?" * len(names))
    present = {
        row[0]
        for row in conn.exec_driver_sql(
            f"SELECT name FROM sqlite_master WHERE name IN ({marks})",  # noqa: S608 - marks
            tuple(names),
        )
    }
    return [name for name in names if name not in present]
