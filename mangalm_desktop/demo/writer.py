"""Write a generated demo company into a database with bulk inserts, in one transaction.

Columns go in as whole arrays: each column's values are converted once by SQLAlchemy's own bind
processor for that column type and dialect (so exact Money, UUIDs, dates and UTC timestamps are
stored exactly as rows the app writes itself, on SQLite and PostgreSQL alike), repeated values
such as a line's store or price are converted once per distinct value, and the rows are sent with
one DB-API ``executemany`` per chunk. That keeps the ~400,000-line company well inside its time
budget, which row-by-row ORM objects or per-row Core parameter building would not.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, delete, func, insert, inspect, select

from ..db import models
from ..domain.tasks import TaskContext
from .history import History
from .masters import Masters

CHUNK = 25_000
APP_DAYS = 90  # the app has been in use this long: recent invoices come from its orders
BEAT_DAYS = 6  # beats Monday to Saturday
DEMO_DEVICE = "DEM"  # device code in the demo's order numbers (Crockford letters, as the app's)
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
SQLITE_CACHE_KIB = 65_536  # the secondary indexes of 400k lines want more than the 2 MB default


DEFAULT_REASONS: tuple[tuple[str, str], ...] = (
    ("stock_enough", "Enough stock on the shelf"),
    ("owner_absent", "Owner not in the shop"),
    ("cash_short", "No cash / waiting for payments"),
    ("competitor", "Buying from a competitor"),
    ("price", "Price or scheme not attractive"),
    ("shop_closed", "Shop closed"),
)
"""The demo company's no-order reasons (a real company's managers keep their own:
``mangalm reasons add``)."""

# Local bookkeeping (and the audit trail) may exist in a database that holds no company yet,
# e.g. a sign-in was audited before the demo was asked for; they do not make it "non-empty".
BOOKKEEPING = frozenset({"audit_log", "outbox", "sync_state", "number_sequence"})


def business_row_counts(conn: Connection) -> dict[str, int]:
    """Rows per table that holds company data (what a demo would mix with or overwrite)."""
    counts = {}
    for table in models.Base.metadata.sorted_tables:
        if table.name in BOOKKEEPING:
            continue
        n = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if n:
            counts[table.name] = int(n)
    return counts


def clear_all(conn: Connection) -> None:
    """Delete every row of every table, children first (the schema itself stays)."""
    for table in reversed(models.Base.metadata.sorted_tables):
        conn.execute(delete(table))


@dataclass(frozen=True)
class Coded:
    """A column given as codes into a small table of values (store of each line, prices...)."""

    codes: np.ndarray
    values: Sequence[Any]


def money(paise: np.ndarray | Sequence[int] | Sequence[float], *, floats: bool = False) -> Coded:
    """Integer paise (or rupee floats with two decimals) as exact Decimals, coded by value."""
    arr = np.asarray(paise)
    if floats:
        arr = np.rint(arr.astype(float) * 100).astype(np.int64)
    uniq, codes = np.unique(arr.astype(np.int64), return_inverse=True)
    return Coded(codes.reshape(-1), [Decimal(int(u)).scaleb(-2) for u in uniq])


def _unique(values: np.ndarray, make: Callable[[int], Any]) -> tuple[np.ndarray, list[Any]]:
    uniq, codes = np.unique(values.astype(np.int64), return_inverse=True)
    return codes.reshape(-1), [make(int(u)) for u in uniq]


def dates(days: np.ndarray, lookup: np.ndarray) -> Coded:
    uniq, codes = np.unique(np.asarray(days, dtype=np.int64), return_inverse=True)
    return Coded(codes.reshape(-1), list(lookup[uniq]))


Take = Callable[[int, int], list[Any]]


def _column(values: Any, proc: Any) -> Take:
    """A function giving rows i..j of a column, already converted for the driver.

    Converting chunk by chunk keeps only one chunk of driver values alive at a time (the full
    company's lines would otherwise hold a few hundred MB of strings at once).
    """
    if isinstance(values, Coded):
        table = np.empty(len(values.values), dtype=object)
        table[:] = [proc(v) for v in values.values] if proc else list(values.values)
        codes = values.codes
        return lambda i, j: table[codes[i:j]].tolist()
    if isinstance(values, pd.Series):
        values = values.to_numpy()
    if isinstance(values, np.ndarray | list):
        seq = values

        def take(i: int, j: int) -> list[Any]:
            part = seq[i:j]
            part = part.tolist() if isinstance(part, np.ndarray) else part
            return [proc(v) for v in part] if proc else part

        return take
    const = proc(values) if proc else values  # one value for every row
    return lambda i, j: [const] * (j - i)


@contextmanager
def _indexes_built_after(conn: Connection, table: Table) -> Iterator[None]:
    """Drop the table's secondary (non-unique) indexes for a bulk load and build them again
    after it, in the same transaction: one sort per index instead of 400,000 random b-tree
    inserts (a third of the demo's insert time). A rollback brings them back untouched."""
    present = {ix["name"] for ix in inspect(conn).get_indexes(table.name)}
    dropped = [ix for ix in table.indexes if not ix.unique and ix.name in present]
    for ix in dropped:
        ix.drop(bind=conn)
    yield
    for ix in dropped:
        ix.create(bind=conn)


def _ist(day: dt.date, minute: int) -> dt.datetime:
    """``minute`` after midnight in India on ``day``, as a UTC timestamp."""
    local = dt.datetime.combine(day, dt.time(int(minute) // 60, int(minute) % 60), IST)
    return local.astimezone(dt.UTC)


class DemoWriter:
    def __init__(self, conn: Connection, m: Masters, h: History, ctx: TaskContext) -> None:
        self.conn, self.m, self.h, self.ctx = conn, m, h, ctx
        self.stamp = dt.datetime.combine(m.today, dt.time(), dt.UTC)
        span = (m.today - m.start).days + 400
        lookup = [m.start + dt.timedelta(days=d) for d in range(span)]
        self.dates = np.empty(span, dtype=object)
        self.dates[:] = lookup
        # stores, their beat memberships, and up to six beats an agent (corrected once known)
        self.total_rows = len(m.agents) + 2 * len(m.stores) + len(m.products)
        self.total_rows += BEAT_DAYS * len(m.agents)
        self.total_rows += len(h.orders) + len(h.lines) + len(h.calls)
        n_days = (m.today - m.start).days
        recent = (h.orders["kind"] == "invoice") & (h.orders["day"] >= n_days - APP_DAYS)
        self.total_rows += int(recent.sum() + h.orders.loc[recent, "n_lines"].sum())
        self.done = 0

    def _insert(self, table: Table, columns: dict[str, Any], n: int, label: str) -> None:
        """Insert ``n`` rows given column-wise; synced bookkeeping columns are added here."""
        columns = {**columns, "version": 1, "deleted": False, "updated_at": self.stamp}
        dialect = self.conn.dialect
        names = list(columns)
        stmt = table.insert().values({c: bindparam(c) for c in names}).compile(dialect=dialect)
        takes = []
        for name in names:
            proc = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            takes.append(_column(columns[name], proc))
        sql = str(stmt)
        for i in range(0, n, CHUNK):
            self.ctx.check()
            j = min(n, i + CHUNK)
            cols = [take(i, j) for take in takes]
            if self.conn.dialect.driver == "psycopg":
                self._copy(table, names, zip(*cols, strict=True))
            elif stmt.positional:
                pos = {name: k for k, name in enumerate(names)}
                rows: list[Any] = list(zip(*(cols[pos[k]] for k in stmt.positiontup), strict=True))
                self.conn.exec_driver_sql(sql, rows)
            else:
                rows = [dict(zip(names, r, strict=True)) for r in zip(*cols, strict=True)]
                self.conn.exec_driver_sql(sql, rows)
            self.done += j - i
            self.ctx.progress(self.done, self.total_rows, f"writing {label}")

    def _copy(self, table: Table, names: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
        """PostgreSQL: COPY instead of INSERT (a central database loads the company in seconds,
        not minutes), on the same connection and so in the same transaction."""
        from psycopg import sql

        raw = self.conn.connection.driver_connection
        stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
        )
        with raw.cursor() as cur, cur.copy(stmt) as copy:
            for row in rows:
                copy.write_row(row)

    def _frame(self, table: Table, df: pd.DataFrame, label: str, **override: Any) -> None:
        cols = {c: df[c] for c in df.columns if not c.startswith("_")}
        cols.update(override)
        self._insert(table, cols, len(df), label)

    def write(self) -> None:
        m, h = self.m, self.h
        sqlite = self.conn.dialect.name == "sqlite"
        if sqlite:
            before = self.conn.exec_driver_sql("PRAGMA cache_size").scalar()
            self.conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        try:
            self._frame(models.Agent.__table__, m.agents, "agents")
            self._frame(
                models.Store.__table__,
                m.stores,
                "stores",
                outstanding_balance=money(h.outstanding),
                credit_limit=money(h.credit_limit),
                active=m.stores["active"].astype(bool),
            )
            self._frame(
                models.Product.__table__,
                m.products,
                "products",
                price=money(m.products["price"], floats=True),
                mrp=money(m.products["mrp"], floats=True),
                active=m.products["active"].astype(bool),
            )
            self._write_reasons()
            self._plan_app_orders()
            self._write_invoices()
            self._write_lines()
            self._write_app_orders()
            self._write_calls()
            self._write_beats()
        finally:
            if sqlite:
                self.conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")

    def _write_reasons(self) -> None:
        """The no-order reasons list the call screen offers (managers keep it centrally)."""
        rows = [
            {"code": code, "label": label, "sort_order": 10 * n}
            for n, (code, label) in enumerate(DEFAULT_REASONS, start=1)
        ]
        self.conn.execute(insert(models.NoOrderReason.__table__), rows)

    def _write_invoices(self) -> None:
        m, o = self.m, self.h.orders
        store = o["store"].to_numpy()
        agent_of_store = m.stores["agent_id"].to_numpy()
        agent_name = dict(zip(m.agents["id"], m.agents["name"], strict=True))
        self.invoice_ids = m.ids.make(len(o))
        cols = {
            "id": self.invoice_ids,
            "number": o["number"],
            "kind": o["kind"],
            "status": o["status"],
            "store_id": Coded(store, list(m.stores["id"])),
            "agent_id": Coded(store, list(agent_of_store)),
            "salesperson": Coded(store, [agent_name[a] for a in agent_of_store]),
            "invoice_date": dates(o["day"].to_numpy(), self.dates),
            "due_date": dates(o["due_day"].to_numpy(), self.dates),
            "subtotal": money(o["subtotal"]),
            "discount_amount": money(o["discount_amount"]),
            "total": money(o["total"]),
            "balance": money(o["balance"]),
            "sales_order_number": self.so_number,
            "source": "demo",
        }
        self._insert(models.Invoice.__table__, cols, len(o), "invoices")

    def _write_lines(self) -> None:
        m, o, ln = self.m, self.h.orders, self.h.lines
        order = ln["order"].to_numpy()
        cols = {
            "id": m.ids.make(len(ln)),
            "invoice_id": Coded(order, self.invoice_ids),
            "line_no": ln.groupby("order").cumcount().to_numpy() + 1,
            "store_id": Coded(o["store"].to_numpy()[order], list(m.stores["id"])),
            "invoice_date": dates(o["day"].to_numpy()[order], self.dates),
            "product_id": Coded(ln["product"].to_numpy(), list(m.products["id"])),
            "quantity": ln["quantity"].to_numpy(),
            # unit prices and MRPs are kept to the paisa although their columns have 4 places
            "unit_price": money(ln["unit_price"]),
            "discount_amount": money(ln["discount"]),
            "line_total": money(ln["line_total"]),
            "mrp": money(ln["mrp"]),
        }
        table = models.InvoiceLine.__table__
        with _indexes_built_after(self.conn, table):
            self._insert(table, cols, len(ln), "invoice lines")

    def _plan_app_orders(self) -> None:
        """The last weeks' invoices were raised from orders taken in the app: pick them, number
        them per agent (``A01-DEM-000001``: agent, the demo's device code, counter)."""
        m, o = self.m, self.h.orders
        n_days = (m.today - m.start).days
        day = o["day"].to_numpy()
        self.app = np.nonzero((o["kind"].to_numpy() == "invoice") & (day >= n_days - APP_DAYS))[0]
        code_of_agent = dict(zip(m.agents["id"], m.agents["code"], strict=True))
        agent_code = [code_of_agent[a] for a in m.stores["agent_id"]]
        counters: dict[str, int] = {}
        numbers = []
        for s in o["store"].to_numpy()[self.app]:
            prefix = f"{agent_code[s]}-{DEMO_DEVICE}"
            counters[prefix] = counters.get(prefix, 0) + 1
            numbers.append(f"{prefix}-{counters[prefix]:06d}")
        self.app_numbers, self.app_counters = numbers, counters
        so: list[str | None] = [None] * len(o)
        for i, number in zip(self.app, numbers, strict=True):
            so[i] = number
        self.so_number = so

    def _write_app_orders(self) -> None:
        m, o, ln = self.m, self.h.orders, self.h.lines
        n = len(self.app)
        self.order_ids = m.ids.make(n)
        store = o["store"].to_numpy()[self.app]
        day = o["day"].to_numpy()[self.app]
        # submitted during the day's "ordered" call, invoiced the same day
        c = self.h.calls[self.h.calls["outcome"] == "ordered"]
        minute_of = dict(
            zip(zip(c["store"].tolist(), c["day"].tolist(), strict=True), c["minute"], strict=True)
        )
        taken = [
            _ist(self.dates[d], minute_of.get((int(s), int(d)), 10 * 60 + 30))
            for s, d in zip(store, day, strict=True)
        ]
        cols = {
            "id": self.order_ids,
            "number": self.app_numbers,
            "kind": "order",
            "state": "invoiced",
            "store_id": Coded(store, list(m.stores["id"])),
            "agent_id": Coded(store, list(m.stores["agent_id"])),
            "order_date": dates(day, self.dates),
            "requested_delivery_date": dates(day, self.dates),
            "discount_pct": Decimal("0"),
            "subtotal": money(o["subtotal"].to_numpy()[self.app]),
            "discount_total": money(o["discount_amount"].to_numpy()[self.app]),
            "total": money(o["total"].to_numpy()[self.app]),
            "submitted_at": taken,
            "device_id": DEMO_DEVICE,
            "created_at": taken,
        }
        self._insert(models.Order.__table__, cols, n, "orders")
        rank = np.full(len(o), -1, dtype=np.int64)
        rank[self.app] = np.arange(n)
        sel = rank[ln["order"].to_numpy()] >= 0
        part = ln[sel]
        owner = rank[part["order"].to_numpy()]
        self.n_app_lines = len(part)
        pct = Coded(*_unique(part["discount_bp"].to_numpy(), lambda u: Decimal(u).scaleb(-2)))
        cols = {
            "id": m.ids.make(len(part)),
            "order_id": Coded(owner, self.order_ids),
            "line_no": part.groupby("order").cumcount().to_numpy() + 1,
            "store_id": Coded(store[owner], list(m.stores["id"])),
            "product_id": Coded(part["product"].to_numpy(), list(m.products["id"])),
            "quantity": part["quantity"].to_numpy(),
            "unit_price": money(part["unit_price"]),
            "discount_pct": pct,
            "line_total": money(part["line_total"]),
        }
        self._insert(models.OrderLine.__table__, cols, len(part), "order lines")
        seq = [{"prefix": k, "last_value": v} for k, v in sorted(self.app_counters.items())]
        if seq:
            self.conn.execute(models.NumberSequence.__table__.insert(), seq)
        self.order_of = {
            (int(s), int(d)): oid for s, d, oid in zip(store, day, self.order_ids, strict=True)
        }

    def _write_calls(self) -> None:
        m, c = self.m, self.h.calls
        store = c["store"].to_numpy()
        day = c["day"].to_numpy()
        cadence = m.stores["call_cadence_days"].to_numpy()[store]
        retry = c["outcome"].isin(["no_answer", "call_back"]).to_numpy()
        called = [_ist(self.dates[d], mi) for d, mi in zip(day, c["minute"], strict=True)]
        cols = {
            "id": m.ids.make(len(c)),
            "store_id": Coded(store, list(m.stores["id"])),
            "agent_id": Coded(store, list(m.stores["agent_id"])),
            "called_at": called,
            "outcome": c["outcome"],
            "notes": c["note"],
            "next_call_date": dates(day + np.where(retry, 1, cadence), self.dates),
            "scheduled": c["scheduled"].astype(bool),
            "order_id": [
                self.order_of.get((int(s), int(d))) if out == "ordered" else None
                for s, d, out in zip(store, day, c["outcome"], strict=True)
            ],
        }
        self._insert(models.CallLog.__table__, cols, len(c), "call log")

    def _write_beats(self) -> None:
        """Each agent's stores on six beats of even size, Monday to Saturday: its stores are
        ranked by the weekday their calls of the last weeks fell on most (else spread), then
        town and code, and cut into six runs; each beat's stores are in town and code order.
        So Today's beat and the plan-vs-actual report have a plan that the call history
        partly keeps."""
        m, c = self.m, self.h.calls
        n_days = (m.today - m.start).days
        recent = c[c["day"] >= n_days - APP_DAYS]
        weekday = (m.start.weekday() + recent["day"].to_numpy()) % 7
        weekday = np.minimum(weekday, 5)  # a Sunday call counts for Saturday's beat
        favourite = (
            pd.DataFrame({"store": recent["store"].to_numpy(), "weekday": weekday})
            .groupby("store")["weekday"]
            .agg(lambda w: int(np.bincount(w, minlength=6).argmax()))
        )
        stores = m.stores.reset_index(drop=True)
        liked = np.arange(len(stores)) % 6  # stores without a recent call: spread evenly
        liked[favourite.index.to_numpy()] = favourite.to_numpy()
        ranked = stores.assign(_liked=liked).sort_values(["agent_id", "_liked", "city", "code"])
        rank = ranked.groupby("agent_id", dropna=False).cumcount().to_numpy()
        size = ranked.groupby("agent_id", dropna=False)["id"].transform("size").to_numpy()
        day_of = np.empty(len(stores), dtype=np.int64)
        day_of[ranked.index.to_numpy()] = rank * 6 // size
        code_of = dict(zip(m.agents["id"], m.agents["code"], strict=True))
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat")[:BEAT_DAYS]
        beat_rows: list[dict[str, Any]] = []
        member_beat: list[uuid.UUID] = []
        member_store: list[Any] = []
        member_order: list[int] = []
        frame = stores.assign(_day=day_of)
        for (agent_id, wd), group in frame.groupby(["agent_id", "_day"], sort=True):
            if agent_id is None:
                continue
            group = group.sort_values(["city", "code"])
            town = group["city"].mode().iat[0] if group["city"].notna().any() else ""
            beat_id = m.ids.make(1)[0]
            beat_rows.append(
                {
                    "id": beat_id,
                    "name": f"{code_of[agent_id]} {names[int(wd)]} · {town}".strip(" ·"),
                    "agent_id": agent_id,
                    "visit_days": 1 << int(wd),
                    "region": group["region"].mode().iat[0],
                }
            )
            member_beat += [beat_id] * len(group)
            member_store += list(group["id"])
            member_order += list(range(1, len(group) + 1))
        beats = pd.DataFrame(beat_rows)
        self.total_rows -= BEAT_DAYS * len(m.agents) - len(beats)  # days no store fell on
        self._insert(
            models.Beat.__table__,
            {c: beats[c].tolist() for c in beats.columns} | {"created_at": self.stamp},
            len(beats),
            "beats",
        )
        self._insert(
            models.BeatStore.__table__,
            {
                "id": m.ids.make(len(member_store)),
                "store_id": member_store,
                "beat_id": member_beat,
                "visit_order": member_order,
            },
            len(member_store),
            "beat stores",
        )
