"""``create_demo_company``: a whole, realistic, reproducible company in an empty database.

This is what a new user sees first (``mangalm demo``, ``mangalm-desktop --demo``) and what the
forecasting and report features are demonstrated and tested on. Same seed and sizes give the
same rows, byte for byte; everything is written in one transaction, so a cancel or an error
leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, delete, insert, select

from ..db.models import SyncState
from ..domain.errors import UserError
from ..domain.tasks import NULL_TASK, TaskContext
from .history import History, generate_history
from .masters import IdMaker, Masters, make_agents, make_products, make_stores
from .schemes import write_demo_schemes
from .writer import DemoWriter, business_row_counts, clear_all

# The demo's "today" unless one is given: a Monday a week before Diwali 2026, so the history
# ends in a festival build-up and the suggested orders have a season to show.
DEFAULT_TODAY = dt.date(2026, 11, 2)

DEMO_TODAY_KEY = "demo:today"
"""``sync_state`` key of the demo's own "today" (ISO date): the CLI's ``--today`` default and
the app's as-of date on a demo database, so both faces see the company as of the same day."""

SMALL = {"stores": 30, "products": 60}
"""Sizes for tests and quick looks: a full two-year history in about a second."""


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    start: dt.date
    today: dt.date
    agents: int
    stores: int
    products: int
    invoices: int
    credit_notes: int
    invoice_lines: int
    calls: int
    orders: int  # taken in the app in the last weeks, each invoiced the same day
    seconds: float


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def check_sizes(*, stores: int, products: int, agents: int, years: int) -> None:
    """Refuse, in words, a company that cannot be made or would not fit a laptop."""
    if stores < 1 or products < 5 or agents < 1 or years < 1:
        raise UserError("A demo needs at least 1 store, 5 products, 1 agent and 1 year.")
    if stores > 20_000 or products > 5_000 or agents > 200 or years > 10:
        raise UserError(
            "That demo would be too large (at most 20,000 stores, 5,000 products, 200 agents, "
            "10 years)."
        )


def build_demo(
    seed: int = 1,
    *,
    stores: int = 250,
    products: int = 400,
    agents: int = 5,
    years: int = 2,
    today: dt.date | None = None,
) -> tuple[Masters, History]:
    """Generate the company in memory (no database): masters and history."""
    check_sizes(stores=stores, products=products, agents=agents, years=years)
    today = today or DEFAULT_TODAY
    start = _years_before(today, years)
    rng = np.random.default_rng(seed)
    ids = IdMaker(seed)
    a = make_agents(rng, ids, agents)
    s = make_stores(rng, ids, a, stores, start, today)
    p = make_products(rng, ids, products, start, today)
    m = Masters(a, s, p, start, today, ids)
    return m, generate_history(rng, m)


def existing_data(engine: Engine) -> dict[str, int]:
    """Row counts of the tables that hold data; empty means a demo may be written."""
    with engine.connect() as conn:
        return business_row_counts(conn)


def create_demo_company(
    engine: Engine,
    seed: int = 1,
    *,
    stores: int = 250,
    products: int = 400,
    agents: int = 5,
    years: int = 2,
    today: dt.date | None = None,
    replace: bool = False,
    ctx: TaskContext = NULL_TASK,
) -> DemoSummary:
    """Fill ``engine``'s (migrated) database with a demo company; history ends the day before
    ``today`` (default :data:`DEFAULT_TODAY`).

    Refuses a database that already holds data unless ``replace`` is true, in which case all
    existing rows are deleted in the same transaction the demo is written in.
    """
    began = time.perf_counter()
    ctx.progress(0, 1, "generating the demo company")
    m, h = build_demo(
        seed, stores=stores, products=products, agents=agents, years=years, today=today
    )
    ctx.check()
    with engine.begin() as conn:
        existing = business_row_counts(conn)
        if existing and not replace:
            what = ", ".join(f"{t} {n:,}" for t, n in existing.items())
            raise UserError(
                f"The database already holds data (rows: {what}); the demo company was not "
                "written.",
                hint="Use an empty database (--db NEW_FILE), or --force to replace everything "
                "in this one.",
            )
        if existing:
            clear_all(conn)
        writer = DemoWriter(conn, m, h, ctx)
        writer.write()
        write_demo_schemes(conn, m.products, m.today)
        conn.execute(delete(SyncState).where(SyncState.key == DEMO_TODAY_KEY))
        conn.execute(insert(SyncState).values(key=DEMO_TODAY_KEY, value=m.today.isoformat()))
    kinds = h.orders["kind"].to_numpy()
    return DemoSummary(
        seed=seed,
        start=m.start,
        today=m.today,
        agents=len(m.agents),
        stores=len(m.stores),
        products=len(m.products),
        invoices=int((kinds == "invoice").sum()),
        credit_notes=int((kinds == "credit_note").sum()),
        invoice_lines=len(h.lines),
        calls=len(h.calls),
        orders=len(writer.app),
        seconds=time.perf_counter() - began,
    )


def demo_today(engine: Engine) -> dt.date | None:
    """The "today" the demo company in ``engine`` was made for; None when it is not a demo."""
    with engine.connect() as conn:
        value = conn.execute(
            select(SyncState.value).where(SyncState.key == DEMO_TODAY_KEY)
        ).scalar_one_or_none()
    return dt.date.fromisoformat(value) if value else None
