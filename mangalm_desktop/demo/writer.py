"""Write a generated demo company into a database with Core bulk inserts, in one transaction.

Rows are built as plain dicts from the numpy arrays and inserted in chunks through SQLAlchemy
Core (``executemany``), so the column types (exact Money, UUIDs, UTC timestamps) behave exactly
as they do for rows the app writes itself, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, delete, func, select

from ..db import models
from ..domain.tasks import TaskContext
from .history import History
from .masters import Masters

CHUNK = 20_000
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def business_row_counts(conn: Connection) -> dict[str, int]:
    """Rows per table that holds company data (what a demo would overwrite)."""
    counts = {}
    for table in models.Base.metadata.sorted_tables:
        n = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if n:
            counts[table.name] = int(n)
    return counts


def clear_all(conn: Connection) -> None:
    """Delete every row of every table, children first (the schema itself stays)."""
    for table in reversed(models.Base.metadata.sorted_tables):
        conn.execute(delete(table))


def _paise(values: Iterable[int]) -> list[Decimal]:
    return [Decimal(int(v)).scaleb(-2) for v in values]


def _money(values: Iterable[float]) -> list[Decimal]:
    return [Decimal(f"{v:.2f}") for v in values]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [c for c in df.columns if not c.startswith("_")]
    return df[cols].to_dict("records")


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


class DemoWriter:
    def __init__(self, conn: Connection, m: Masters, h: History, ctx: TaskContext) -> None:
        self.conn, self.m, self.h, self.ctx = conn, m, h, ctx
        self.stamp = dt.datetime.combine(m.today, dt.time(), dt.UTC)
        span = (m.today - m.start).days + 400
        self.dates = np.array([m.start + dt.timedelta(days=d) for d in range(span)], dtype=object)
        self.total_rows = len(m.agents) + len(m.stores) + len(m.products)
        self.total_rows += len(h.orders) + len(h.lines) + len(h.calls)
        self.done = 0

    def _insert(self, table: Table, rows: list[dict[str, Any]], label: str) -> None:
        for chunk in _chunks(rows):
            self.ctx.check()
            for r in chunk:
                r["version"] = 1
                r["deleted"] = False
                r["updated_at"] = self.stamp
            self.conn.execute(table.insert(), chunk)
            self.done += len(chunk)
            self.ctx.progress(self.done, self.total_rows, f"writing {label}")

    def write(self) -> None:
        m, h = self.m, self.h
        agents = _records(m.agents)
        self._insert(models.Agent.__table__, agents, "agents")

        stores = m.stores.copy()
        stores["outstanding_balance"] = _paise(h.outstanding)
        stores["credit_limit"] = _paise(h.credit_limit)
        stores["active"] = stores["active"].astype(bool)
        self._insert(models.Store.__table__, _records(stores), "stores")

        products = m.products.copy()
        products["price"] = _money(products["price"])
        products["mrp"] = _money(products["mrp"])
        products["active"] = products["active"].astype(bool)
        products["pack_size"] = products["pack_size"].astype(int)
        products["case_qty"] = products["case_qty"].astype(int)
        self._insert(models.Product.__table__, _records(products), "products")

        self._write_invoices()
        self._write_lines()
        self._write_calls()

    def _write_invoices(self) -> None:
        m, o = self.m, self.h.orders
        store = o["store"].to_numpy()
        agent_of_store = m.stores["agent_id"].to_numpy()
        agent_name = dict(zip(m.agents["id"], m.agents["name"], strict=True))
        self.invoice_ids = m.ids.make(len(o))
        rows = [
            {
                "id": self.invoice_ids[i],
                "number": number,
                "kind": kind,
                "status": status,
                "store_id": m.stores["id"].iat[s],
                "agent_id": agent_of_store[s],
                "salesperson": agent_name[agent_of_store[s]],
                "invoice_date": self.dates[day],
                "due_date": self.dates[due],
                "subtotal": sub,
                "discount_amount": disc,
                "total": tot,
                "balance": bal,
                "source": "demo",
            }
            for i, (number, kind, status, s, day, due, sub, disc, tot, bal) in enumerate(
                zip(
                    o["number"],
                    o["kind"],
                    o["status"],
                    store,
                    o["day"],
                    o["due_day"],
                    _paise(o["subtotal"]),
                    _paise(o["discount_amount"]),
                    _paise(o["total"]),
                    _paise(o["balance"]),
                    strict=True,
                )
            )
        ]
        self._insert(models.Invoice.__table__, rows, "invoices")

    def _write_lines(self) -> None:
        m, o, ln = self.m, self.h.orders, self.h.lines
        order = ln["order"].to_numpy()
        line_no = ln.groupby("order").cumcount().to_numpy() + 1
        store_ids = m.stores["id"].to_numpy()[o["store"].to_numpy()[order]]
        dates = self.dates[o["day"].to_numpy()[order]]
        product_ids = m.products["id"].to_numpy()[ln["product"].to_numpy()]
        inv_ids = np.array(self.invoice_ids, dtype=object)[order]
        line_ids = m.ids.make(len(ln))
        rows = [
            {
                "id": lid,
                "invoice_id": iid,
                "line_no": int(no),
                "store_id": sid,
                "invoice_date": day,
                "product_id": pid,
                "quantity": int(q),
                "unit_price": price,
                "discount_amount": disc,
                "line_total": total,
                "mrp": mrp,
            }
            for lid, iid, no, sid, day, pid, q, price, disc, total, mrp in zip(
                line_ids,
                inv_ids,
                line_no,
                store_ids,
                dates,
                product_ids,
                ln["quantity"].to_numpy(),
                _paise(ln["unit_price"]),
                _paise(ln["discount"]),
                _paise(ln["line_total"]),
                _paise(ln["mrp"]),
                strict=True,
            )
        ]
        self._insert(models.InvoiceLine.__table__, rows, "invoice lines")

    def _write_calls(self) -> None:
        m, c = self.m, self.h.calls
        cadence = m.stores["call_cadence_days"].to_numpy()
        agent_of_store = m.stores["agent_id"].to_numpy()
        ids = m.ids.make(len(c))
        rows = []
        for i, (s, day, outcome, scheduled, minute, note) in enumerate(
            zip(
                c["store"],
                c["day"],
                c["outcome"],
                c["scheduled"],
                c["minute"],
                c["note"],
                strict=True,
            )
        ):
            local = dt.datetime.combine(
                self.dates[day], dt.time(int(minute) // 60, int(minute) % 60), IST
            )
            retry = outcome in ("no_answer", "call_back")
            rows.append(
                {
                    "id": ids[i],
                    "store_id": m.stores["id"].iat[s],
                    "agent_id": agent_of_store[s],
                    "called_at": local.astimezone(dt.UTC),
                    "outcome": outcome,
                    "notes": note,
                    "next_call_date": self.dates[day + (1 if retry else int(cadence[s]))],
                    "scheduled": bool(scheduled),
                    "order_id": None,
                }
            )
        self._insert(models.CallLog.__table__, rows, "call log")
