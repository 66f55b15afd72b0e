"""Report speed on 1,000,000 invoice lines (issue 9, item 6).

For every report: the best (least disturbed) wall time of ``run_report`` over ``--repeat`` runs
(filters validated, SQL aggregation, DataFrame shaping) and, measured in the same run on the same
file, the best time of a plain hand-written SQL ``GROUP BY`` that computes the same main totals
through the bare sqlite3 driver. Targets: each report < 1 s wall and report/baseline ratio ≤ 2
(runs alternated). CPU time is printed too: on a shared machine the wall time of both sides
stretches with the load, the CPU time (SQLite runs in-process) shows the work itself. The
verdict is on wall time; the load average is printed before and after.

    .venv/bin/python benchmarks/reports_bench.py [--lines 1000000] [--repeat 3] [--db FILE]

The database is generated once (about a minute) and reused when ``--db`` points at it again;
the per-(store, day) sales totals (db/day_sales.py) are brought up to date before timing, as the
app keeps them (once, about 10 s, on a new file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from mangalm_desktop.db import day_sales, migrate  # noqa: E402
from mangalm_desktop.db.models import (  # noqa: E402
    Agent,
    CallLog,
    Invoice,
    InvoiceLine,
    Order,
    Prediction,
    Product,
    Store,
)
from mangalm_desktop.reports.catalog import run_report  # noqa: E402
from mangalm_desktop.reports.filters import ReportFilters  # noqa: E402

START = dt.date(2022, 1, 1)
DAYS = 3 * 365
LINES_PER_INVOICE = 10


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


def generate(path: Path, n_lines: int) -> None:
    """A distributor's three years: 8 agents, 400 stores, 500 products, n_lines invoice lines."""
    rng = np.random.default_rng(7)
    engine = migrate.open_local_database(path)
    regions = ["North", "South", "East", "West"]
    agents = _ids(8)
    stores = _ids(400)
    products = _ids(500)
    store_agent = rng.integers(0, len(agents), len(stores))
    price = rng.integers(2_000, 90_000, len(products))  # paise
    n_inv = n_lines // LINES_PER_INVOICE
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(Agent),
            [
                {"id": a, "code": f"A{i:02d}", "name": f"Agent {i}", "region": regions[i % 4]}
                for i, a in enumerate(agents)
            ],
        )
        conn.execute(
            insert(Store),
            [
                {
                    "id": s,
                    "code": f"S{i:04d}",
                    "name": f"Store {i}",
                    "region": regions[int(store_agent[i]) % 4],
                    "agent_id": agents[int(store_agent[i])],
                    "call_cadence_days": int(rng.choice([7, 14, 30])),
                    "credit_limit": 50_000,
                }
                for i, s in enumerate(stores)
            ],
        )
        conn.execute(
            insert(Product),
            [
                {
                    "id": p,
                    "sku": f"P{i:04d}",
                    "name": f"Product {i}",
                    "brand": f"Brand {i % 25}",
                    "category": f"Category {i % 12}",
                    "price": int(price[i]) / 100,
                }
                for i, p in enumerate(products)
            ],
        )
        inv_store = rng.integers(0, len(stores), n_inv)
        inv_day = np.sort(rng.integers(0, DAYS, n_inv))
        inv_ids = _ids(n_inv)
        batch = []
        for k in range(n_inv):
            d = START + dt.timedelta(days=int(inv_day[k]))
            s = int(inv_store[k])
            batch.append(
                {
                    "id": inv_ids[k],
                    "number": f"INV-{k:07d}",
                    "status": "void" if k % 500 == 0 else "paid",
                    "kind": "invoice",
                    "store_id": stores[s],
                    "agent_id": agents[int(store_agent[s])],
                    "invoice_date": d,
                    "due_date": d + dt.timedelta(days=30),
                    "total": 1000,
                    "balance": 250 if k % 7 == 0 else 0,
                    "source": "bench",
                }
            )
            if len(batch) == 20_000:
                conn.execute(insert(Invoice), batch)
                batch = []
        if batch:
            conn.execute(insert(Invoice), batch)
        print(f"  invoices: {n_inv:,} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        prod = rng.integers(0, len(products), n_lines)
        qty = rng.integers(1, 24, n_lines)
        batch = []
        for i in range(n_lines):
            k = i // LINES_PER_INVOICE
            p = int(prod[i])
            q = int(qty[i])
            batch.append(
                {
                    "id": uuid.uuid4(),
                    "invoice_id": inv_ids[k],
                    "line_no": i % LINES_PER_INVOICE + 1,
                    "store_id": stores[int(inv_store[k])],
                    "invoice_date": START + dt.timedelta(days=int(inv_day[k])),
                    "product_id": products[p],
                    "quantity": q,
                    "unit_price": int(price[p]) / 100,
                    "line_total": int(price[p]) * q / 100,
                }
            )
            if len(batch) == 50_000:
                conn.execute(insert(InvoiceLine), batch)
                batch = []
                print(f"  lines: {i + 1:,}", file=sys.stderr, end="\r")
        if batch:
            conn.execute(insert(InvoiceLine), batch)
        # Orders, calls and predictions for the agent and accuracy reports.
        orders = []
        calls = []
        for k in range(20_000):
            s = int(rng.integers(0, len(stores)))
            d = START + dt.timedelta(days=int(rng.integers(0, DAYS)))
            oid = uuid.uuid4()
            a = agents[int(store_agent[s])]
            orders.append(
                {
                    "id": oid,
                    "number": f"B-{k:06d}",
                    "state": "synced",
                    "store_id": stores[s],
                    "agent_id": a,
                    "order_date": d,
                    "total": 2500,
                }
            )
            at = dt.datetime.combine(d, dt.time(11), tzinfo=dt.UTC)
            calls.append(
                {
                    "id": uuid.uuid4(),
                    "store_id": stores[s],
                    "agent_id": a,
                    "called_at": at,
                    "outcome": "ordered",
                    "scheduled": True,
                    "order_id": oid,
                }
            )
            calls.append(
                {
                    "id": uuid.uuid4(),
                    "store_id": stores[s],
                    "agent_id": a,
                    "called_at": at,
                    "outcome": "no_answer",
                    "scheduled": bool(k % 2),
                    "order_id": None,
                }
            )
        conn.execute(insert(Order), orders)
        conn.execute(insert(CallLog), calls)
        preds = []
        for _ in range(30_000):
            preds.append(
                {
                    "id": uuid.uuid4(),
                    "store_id": stores[int(rng.integers(0, len(stores)))],
                    "product_id": products[int(rng.integers(0, len(products)))],
                    "horizon_start": START + dt.timedelta(days=7 * int(rng.integers(0, 150))),
                    "horizon_weeks": 4,
                    "point": float(rng.gamma(2.0, 3.0)),
                    "low": 0.0,
                    "high": 20.0,
                    "model": "bench",
                }
            )
        conn.execute(insert(Prediction), preds)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"  generated in {time.perf_counter() - t0:.0f}s", file=sys.stderr)


# The same totals as the reports (tombstones, void and draft invoices left out), written the way
# a person would: one plain GROUP BY, joins where the grouping needs them.
LIVE = (
    "l.deleted = 0 AND l.invoice_id NOT IN "
    "(SELECT id FROM invoice WHERE deleted = 1 OR status IN ('void', 'draft'))"
)


def _accuracy_sql(key: str, join: str) -> str:
    """Latest prediction per window, its invoiced actual, summed per ``key``."""
    return (
        "WITH latest AS (SELECT p.*, row_number() OVER (PARTITION BY store_id, product_id, "
        "horizon_start, horizon_weeks ORDER BY generated_at DESC) AS rn FROM prediction p "
        "WHERE deleted = 0), "
        "x AS (SELECT p.store_id, p.product_id, p.horizon_start, p.point, "
        "(SELECT coalesce(SUM(l.quantity), 0) FROM invoice_line l "
        "WHERE l.store_id = p.store_id AND l.product_id = p.product_id "
        "AND l.invoice_date >= p.horizon_start "
        "AND l.invoice_date < date(p.horizon_start, printf('%+d days', p.horizon_weeks * 7)) "
        f"AND {LIVE}) AS actual FROM latest p WHERE rn = 1 "
        "AND date(p.horizon_start, printf('%+d days', p.horizon_weeks * 7)) <= :hi1) "
        f"SELECT {key}, COUNT(*), SUM(x.point), SUM(x.actual), SUM(abs(x.point - x.actual)) "
        f"FROM x {join} GROUP BY 1"
    )


BASELINES: dict[str, str | list[str]] = {
    "sales-by-period": "SELECT strftime('%Y-%m-01', l.invoice_date) AS p, SUM(l.line_total) "
    f"FROM invoice_line l WHERE {LIVE} AND l.invoice_date <= :hi GROUP BY p",
    "sales-by-store": f"SELECT l.store_id, SUM(l.line_total) FROM invoice_line l WHERE {LIVE} "
    "AND l.invoice_date <= :hi GROUP BY l.store_id",
    "sales-by-product": f"SELECT l.product_id, SUM(l.line_total) FROM invoice_line l WHERE {LIVE} "
    "AND l.invoice_date <= :hi GROUP BY l.product_id",
    "sales-by-brand": "SELECT p.brand, SUM(l.line_total) FROM invoice_line l "
    f"JOIN product p ON p.id = l.product_id WHERE {LIVE} AND l.invoice_date <= :hi "
    "GROUP BY p.brand",
    "sales-by-category": "SELECT p.category, SUM(l.line_total) FROM invoice_line l "
    f"JOIN product p ON p.id = l.product_id WHERE {LIVE} AND l.invoice_date <= :hi "
    "GROUP BY p.category",
    "sales-by-region": "SELECT s.region, SUM(l.line_total) FROM invoice_line l "
    f"JOIN store s ON s.id = l.store_id WHERE {LIVE} AND l.invoice_date <= :hi GROUP BY s.region",
    "sales-by-agent": "SELECT coalesce(i.agent_id, s.agent_id), SUM(l.line_total) "
    "FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id JOIN store s ON s.id = l.store_id "
    "WHERE l.deleted = 0 AND i.deleted = 0 AND coalesce(i.status, '') NOT IN ('void', 'draft') "
    "AND l.invoice_date <= :hi GROUP BY 1",
    "top-movers": "SELECT l.product_id, "
    "SUM(CASE WHEN l.invoice_date >= :cur THEN l.line_total ELSE 0 END), "
    "SUM(CASE WHEN l.invoice_date < :cur THEN l.line_total ELSE 0 END) FROM invoice_line l "
    f"WHERE {LIVE} AND l.invoice_date >= :lo AND l.invoice_date <= :hi GROUP BY l.product_id",
    "top-movers-stores": "SELECT l.store_id, "
    "SUM(CASE WHEN l.invoice_date >= :cur THEN l.line_total ELSE 0 END), "
    "SUM(CASE WHEN l.invoice_date < :cur THEN l.line_total ELSE 0 END) FROM invoice_line l "
    f"WHERE {LIVE} AND l.invoice_date >= :lo AND l.invoice_date <= :hi GROUP BY l.store_id",
    "dormant-stores": "SELECT store_id, MAX(invoice_date) FROM invoice WHERE deleted = 0 "
    "AND kind = 'invoice' GROUP BY store_id",
    "agent-performance": [
        "SELECT agent_id, COUNT(*), SUM(scheduled), SUM(outcome = 'ordered'), "
        "COUNT(DISTINCT store_id) FROM call_log WHERE deleted = 0 AND called_at < :hi GROUP BY agent_id",
        "SELECT agent_id, COUNT(*), SUM(total) FROM orders WHERE deleted = 0 "
        "AND state NOT IN ('draft', 'cancelled') AND order_date <= :hi GROUP BY agent_id",
        "SELECT o.agent_id, COUNT(*) FROM orders o JOIN order_line ol ON ol.order_id = o.id "
        "WHERE o.deleted = 0 AND o.state NOT IN ('draft', 'cancelled') AND o.order_date <= :hi "
        "GROUP BY o.agent_id",
        "SELECT o.agent_id, COUNT(*), SUM(f.ordered_qty > 0) FROM suggestion_feedback f "
        "JOIN orders o ON o.id = f.order_id GROUP BY o.agent_id",
        "SELECT coalesce(i.agent_id, s.agent_id), SUM(i.total) FROM invoice i "
        "JOIN store s ON s.id = i.store_id WHERE i.deleted = 0 "
        "AND coalesce(i.status, '') NOT IN ('void', 'draft') AND i.invoice_date <= :hi GROUP BY 1",
    ],
    "forecast-accuracy": _accuracy_sql("s.agent_id", "JOIN store s ON s.id = x.store_id"),
    "forecast-accuracy-by-store": _accuracy_sql("x.store_id", ""),
    "forecast-accuracy-by-product": _accuracy_sql("x.product_id", ""),
    "forecast-accuracy-by-period": _accuracy_sql("strftime('%Y-%m-01', x.horizon_start)", ""),
    "ageing": "SELECT store_id, SUM(balance) FROM invoice WHERE deleted = 0 AND balance > 0 "
    "GROUP BY store_id",
}
SAME_TOTAL = {n for n in BASELINES if n.startswith("sales-by-")}
"""Reports whose grand total is checked against the baseline's in the same run."""


def _timed(fn) -> tuple[float, float]:  # noqa: ANN001
    """(wall seconds, CPU seconds of this process). SQLite runs in-process, so CPU time is the
    work done even when other jobs on a shared machine stretch the wall time."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, help="reuse (or create) this database file")
    ap.add_argument("--only", help="comma-separated report names")
    args = ap.parse_args()
    path = args.db or Path(tempfile.mkdtemp(prefix="mangalm-rbench-")) / "bench.sqlite"
    if not path.exists():
        print(f"generating {args.lines:,} invoice lines into {path}", file=sys.stderr)
        part = path.with_name(path.name + ".part")
        part.unlink(missing_ok=True)
        generate(part, args.lines)  # renamed only when complete, so a failure is not reused
        part.rename(path)
    engine = migrate.open_local_database(path)
    with engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT COUNT(*) FROM invoice_line").scalar_one()
    # The per-(store, day) totals sales by period reads: the app makes them when it opens a
    # database and keeps them current as it writes; a fresh benchmark file needs them made once.
    t0 = time.perf_counter()
    redone = day_sales.refresh(engine)
    if redone:
        what = "every store" if redone < 0 else f"{redone} stores"
        print(f"per-(store, day) totals made for {what} in {time.perf_counter() - t0:.1f}s")
    last = START + dt.timedelta(days=DAYS - 1)
    movers_lo = last - dt.timedelta(days=27)
    params = {
        "cur": movers_lo.isoformat(),
        "lo": (movers_lo - dt.timedelta(days=28)).isoformat(),
        "hi": last.isoformat(),
        "hi1": (last + dt.timedelta(days=1)).isoformat(),
    }
    filters = {
        "top-movers": ReportFilters(date_from=movers_lo, date_to=last),
        "top-movers-stores": ReportFilters(date_from=movers_lo, date_to=last),
    }
    names = args.only.split(",") if args.only else list(BASELINES)
    print(f"{n:,} invoice lines; best of {args.repeat} runs\n")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':30} {'wall seconds':^24}  {'CPU seconds':^24}")
    print(
        f"{'report':30} {'report':>8} {'GROUP BY':>8} {'ratio':>6}"
        f"  {'report':>8} {'GROUP BY':>8} {'ratio':>6}  verdict"
    )
    worst = 0.0
    failures = 0
    raw = engine.raw_connection()
    try:
        for name in names:
            f = filters.get(name, ReportFilters(date_to=last))
            sqls = BASELINES[name]
            sqls = [sqls] if isinstance(sqls, str) else sqls

            def base(sqls=sqls) -> None:
                for sql in sqls:
                    cur = raw.cursor()
                    cur.execute(sql, {k: v for k, v in params.items() if f":{k}" in sql})
                    cur.fetchall()
                    cur.close()

            base()  # warm the page cache for both sides
            run_report(engine, name, f, identity=None)
            # Alternate the two so both see the same machine load (medians of each).
            b_runs, r_runs = [], []
            for _ in range(args.repeat):
                b_runs.append(_timed(base))
                r_runs.append(
                    _timed(lambda name=name, f=f: run_report(engine, name, f, identity=None))
                )
            t_base = min(w for w, _c in b_runs)
            t_rep = min(w for w, _c in r_runs)
            c_base = min(c for _w, c in b_runs)
            c_rep = min(c for _w, c in r_runs)
            sql = sqls[0]
            if name in SAME_TOTAL:
                cur = raw.cursor()
                cur.execute(sql, {k: v for k, v in params.items() if f":{k}" in sql})
                expected = sum(Decimal(r[1]) for r in cur.fetchall()) / 100  # paise on SQLite
                cur.close()
                got = sum(run_report(engine, name, f, identity=None).frame["sales"], Decimal(0))
                if got != expected:
                    failures += 1
                    print(f"{name}: total {got} differs from the GROUP BY's {expected}")
            ratio = t_rep / t_base if t_base else float("inf")
            c_ratio = c_rep / c_base if c_base else float("inf")
            ok = t_rep < 1.0 and ratio <= 2.0
            failures += not ok
            worst = max(worst, ratio)
            print(
                f"{name:30} {t_rep:8.3f} {t_base:8.3f} {ratio:6.2f}"
                f"  {c_rep:8.3f} {c_base:8.3f} {c_ratio:6.2f}  {'ok' if ok else 'SLOW'}"
            )
    finally:
        raw.close()
        engine.dispose()
    print(f"\nworst ratio {worst:.2f}; {failures} report(s) missing a target")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
