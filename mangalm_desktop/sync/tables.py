"""How each synced table moves between PostgreSQL and SQLite, derived once from the models.

Pull streams rows with ``COPY (SELECT ...) TO STDOUT`` in text format. The SELECT converts every
column on the server into exactly what SQLAlchemy keeps in SQLite (UUIDs as 32 hex digits, money
as integer minor units, UTC timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff``, booleans as 0/1), so
the client inserts the strings untouched and SQLite's column affinity stores them as the ORM
would have. No per-value Python conversion is what keeps a million-row initial sync within a
small factor of a raw COPY.

Push goes the other way: outbox payloads are JSON, and every value is cast on the server with
the column's PostgreSQL type (``%s::numeric``), so the server does the parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Float, Integer, String, Text, Uuid
from sqlalchemy.sql.schema import Column

from ..db.models import SYNCED_TABLES, Base
from ..db.types import Money, UTCDateTime

# Tables whose rows belong to a store: Row-Level Security scopes them, and a scope change
# deletes (old agent) or backfills (new agent) them by store_id.
STORE_SCOPED: tuple[str, ...] = (
    "invoice",
    "invoice_line",
    "orders",
    "order_line",
    "store_stock_report",
    "call_log",
    "prediction",
    "suggestion_feedback",
    "payment",
    "payment_allocation",
    "payment_promise",
    "beat_store",  # read-only to agents (central_beats)
)

# Tables without a store_id whose rows an agent sees because of its stores (schemes meant for
# their regions and classes): a pull that gains a store re-reads them whole (they are small),
# since rows that became visible may be older than the cursor.
FOLLOW_STORES: tuple[str, ...] = ("scheme", "scheme_rule")

# Pull never overwrites a row that still has unsent local changes. Order lines travel inside
# their order's outbox op, so they are guarded by the order's id.
GUARD_COLUMN: dict[str, str] = {"order_line": "order_id"}

# Columns the server owns: never taken from a client payload.
SERVER_COLUMNS = frozenset({"version", "txid", "updated_at"})


@dataclass(frozen=True)
class TableSpec:
    """One synced table: its columns and the SQL that moves them."""

    name: str
    columns: tuple[str, ...]
    pg_select: tuple[str, ...]  # per column, an expression giving SQLite's storage form
    pg_types: dict[str, str]  # column -> PostgreSQL type name used to cast pushed values

    @property
    def store_column(self) -> str | None:
        if self.name == "store":
            return "id"
        return "store_id" if self.name in STORE_SCOPED else None

    @property
    def guard_column(self) -> str:
        return GUARD_COLUMN.get(self.name, "id")

    def copy_sql(self, where: str) -> str:
        """COPY statement streaming rows matching ``where`` (a trusted, parameterised clause)."""
        cols = ", ".join(self.pg_select)
        return f'COPY (SELECT {cols} FROM "{self.name}" WHERE {where} ORDER BY id) TO STDOUT'  # noqa: S608 - model identifiers only

    def sqlite_upsert(self, *, force: bool = False) -> str:
        """Insert or update by id.

        Unless ``force``d (the user chose the central version of a conflict), an update is
        skipped when the local row is newer or still has unsent local changes: those reach the
        server through the outbox, and a clash comes back as a conflict, never silently.
        """
        cols = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        sets = ", ".join(f'"{c}" = excluded."{c}"' for c in self.columns if c != "id")
        sql = f'INSERT INTO "{self.name}" ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {sets}'  # noqa: S608 - model identifiers only
        if force:
            return sql
        return (
            f'{sql} WHERE excluded.version >= "{self.name}".version AND NOT EXISTS ('  # noqa: S608 - model identifiers only
            f'SELECT 1 FROM outbox o WHERE o.row_id = "{self.name}".{self.guard_column} '
            f"AND o.status IN ('pending', 'parked'))"
        )


def _pg_expr(col: Column[Any]) -> tuple[str, str]:
    """(SELECT expression in SQLite storage form, PostgreSQL cast type) for one column."""
    name = f'"{col.name}"'
    t = col.type
    if isinstance(t, Money):
        return f"({name} * {10**t.scale})::bigint", "numeric"
    if isinstance(t, UTCDateTime):
        return (
            f"to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
            "timestamptz",
        )
    if isinstance(t, Uuid):
        # The 16 bytes as 32 hex digits: twice as fast on the server as replace(text, '-', '').
        return f"encode(uuid_send({name}), 'hex')", "uuid"
    if isinstance(t, Boolean):
        return f"{name}::int", "boolean"
    if isinstance(t, Date):
        return f"to_char({name}, 'YYYY-MM-DD')", "date"
    if isinstance(t, BigInteger):
        return name, "bigint"
    if isinstance(t, Integer):
        return name, "integer"
    if isinstance(t, Float):
        return f"{name}::float8", "float8"
    if isinstance(t, String | Text):
        return name, "text"
    raise TypeError(f"no sync mapping for {col.table.name}.{col.name} ({t!r})")


@cache
def table_spec(name: str) -> TableSpec:
    table = Base.metadata.tables[name]
    columns = tuple(c.name for c in table.columns)
    exprs, types = [], {}
    for col in table.columns:
        expr, pg_type = _pg_expr(col)
        exprs.append(expr)
        types[col.name] = pg_type
    return TableSpec(name, columns, tuple(exprs), types)


def all_specs() -> list[TableSpec]:
    """Every synced table, parents before children (foreign keys hold batch by batch)."""
    return [table_spec(name) for name in SYNCED_TABLES]
