"""Orders benchmark (issue 5 item 10): submit a 60-line order; open a list of 100,000 orders.

Usage::

    .venv/bin/python benchmarks/orders_bench.py               # full: 100,000 orders, 30 submits
    .venv/bin/python benchmarks/orders_bench.py --orders 20000 --repeat 10   # quick

Measured in the same run, each against a baseline doing the bare minimum on the same file
(same WAL + synchronous=FULL pragmas, so both pay the same fsyncs):

1. ``orders.service.submit`` of a 60-line order (validate, price, allocate the number, insert
   order + 60 lines + 1 outbox record, commit) — target < 50 ms. Baseline: one sqlite3
   ``executemany`` of the same 60 line rows plus the order and outbox rows in one transaction.
2. first page of the Orders list over ``--orders`` orders: ``list_orders`` (200 rows, joined
   to store and agent, newest first) — the query the Orders view runs before its first paint
   (target < 200 ms); the count (a scan) is timed separately, it arrives after the paint. Baseline: a bare ``SELECT ... LIMIT 200`` on the orders
   table alone. Then the Qt Orders view (offscreen) is timed from creation to the first paint
   of its rows (``--no-gui`` skips it).
Prints medians in ms and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from mangalm_desktop.db.engine import session_scope  # noqa: E402
from mangalm_desktop.db.migrate import open_local_database  # noqa: E402
from mangalm_desktop.db.models import Order  # noqa: E402
from mangalm_desktop.orders import queries, service  # noqa: E402
from mangalm_desktop.orders.model import LineInput, OrderDraft  # noqa: E402
from tests.integration.orders_support import seed  # noqa: E402


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _raw(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    return con


def bench_submit(engine, db: Path, sd, repeat: int) -> tuple[float, float]:
    skus = [f"GEN-{i:03d}" for i in range(60)]
    ours = []
    for r in range(-3, repeat):  # three warm-up runs (statement caches), not counted
        lines = [LineInput(s, 6 * (1 + (i + r) % 5), Decimal(i % 3)) for i, s in enumerate(skus)]
        draft = OrderDraft(store=sd.store_id, agent_id=sd.agent_id, lines=lines, notes="bench")
        t = time.perf_counter()
        service.submit(engine, draft, accept_credit_warning=True, identity=None)
        if r >= 0:
            ours.append(time.perf_counter() - t)
    # Baseline: the same rows, no validation/pricing/ORM, into the same tables.
    con = _raw(db)
    pids = [sd.products[s].hex for s in skus]
    base = []
    for r in range(-3, repeat):
        oid = uuid.uuid4().hex
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        t = time.perf_counter()
        con.execute("BEGIN")
        con.execute(
            "INSERT INTO orders (id, version, deleted, updated_at, number, kind, state, store_id,"
            " agent_id, order_date, discount_pct, subtotal, discount_total, total, created_at)"
            " VALUES (?,1,0,?,?,'order','submitted',?,?,?,0,0,0,0,?)",
            (oid, now, f"BASE-{r + 3:06d}", sd.store_id.hex, sd.agent_id.hex, "2026-11-25", now),
        )
        con.executemany(
            "INSERT INTO order_line (id, version, deleted, updated_at, order_id, line_no, store_id,"
            " product_id, quantity, unit_price, discount_pct, line_total)"
            " VALUES (?,1,0,?,?,?,?,?,?,?,?,?)",
            [
                (uuid.uuid4().hex, now, oid, i + 1, sd.store_id.hex, pid, 6, 102500, 0, 6150)
                for i, pid in enumerate(pids)
            ],
        )
        con.execute(
            "INSERT INTO outbox (op_id, table_name, row_id, op, payload, status, attempts,"
            " created_at) VALUES (?, 'orders', ?, 'upsert_order', '{}', 'pending', 0, ?)",
            (uuid.uuid4().hex, oid, now),
        )
        con.execute("COMMIT")
        if r >= 0:
            base.append(time.perf_counter() - t)
    con.close()
    return _ms(ours), _ms(base)


def fill_orders(engine, sd, n: int) -> None:
    rng = random.Random(7)
    start = dt.date(2024, 1, 1)
    states = ["submitted", "synced", "sent_to_zoho", "invoiced", "invoiced", "cancelled"]
    stores = [sd.store_id, sd.tight_store_id]
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "number": f"A07-BEN-{i:06d}",
            "state": rng.choice(states),
            "store_id": rng.choice(stores),
            "agent_id": sd.agent_id,
            "order_date": start + dt.timedelta(days=i * 700 // n),
            "total": Decimal(rng.randint(100, 500000)) / 100,
            "created_at": now,
        }
        for i in range(n)
    ]
    with session_scope(engine) as s:
        for i in range(0, n, 20000):
            s.execute(insert(Order), rows[i : i + 20000])


def bench_list(engine, db: Path, repeat: int) -> tuple[float, float]:
    ours, counts = [], []
    for _ in range(repeat):
        engine.dispose()  # a cold connection, as when the view opens
        t = time.perf_counter()
        with session_scope(engine) as s:
            rows = queries.list_orders(s, identity=None, limit=200)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        with session_scope(engine) as s:
            total = queries.count_orders(s, identity=None)
        counts.append(time.perf_counter() - t)
        assert len(rows) == 200 and total > 0
    print(f"(count of all orders, after the first paint: {_ms(counts):.1f} ms)")
    base = []
    for _ in range(repeat):
        t = time.perf_counter()
        con = sqlite3.connect(db)
        got = con.execute(
            "SELECT id, number, order_date, state, total FROM orders "
            "ORDER BY order_date DESC LIMIT 200"
        ).fetchall()
        con.close()
        base.append(time.perf_counter() - t)
        assert len(got) == 200
    return _ms(ours), _ms(base)


def bench_gui_first_paint(engine, db: Path, repeat: int) -> float:
    """Create the Orders view on the 100k orders, show it, wait for the first painted page."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from mangalm_desktop.gui.context import AppContext
    from mangalm_desktop.gui.views.orders import OrdersView
    from mangalm_desktop.gui.workers import TaskRunner

    app = QApplication.instance() or QApplication([])
    runner = TaskRunner()

    class Painted(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.rows_painted = False
            self.view: OrdersView | None = None

        def eventFilter(self, obj, event) -> bool:  # noqa: ANN001, N802
            if event.type() == QEvent.Type.Paint and self.view is not None and self.view.model.rows:
                self.rows_painted = True
            return False

    samples = []
    for _ in range(repeat):
        engine.dispose()
        watch = Painted()
        t = time.perf_counter()
        view = OrdersView(AppContext(engine=engine, db_path=db, runner=runner))
        watch.view = view
        view.table.viewport().installEventFilter(watch)
        view.resize(1200, 700)
        view.show()
        view.activated()
        while not watch.rows_painted:
            app.processEvents()
            time.sleep(0.0005)
        samples.append(time.perf_counter() - t)
        runner.wait_idle()
        view.close()
        view.deleteLater()
        app.processEvents()
    runner.shutdown()
    return _ms(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--no-gui", action="store_true", help="skip the Qt first-paint measurement")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        engine = open_local_database(db)
        sd = seed(engine, extra_products=60)
        ours, base = bench_submit(engine, db, sd, args.repeat)
        print(
            f"submit 60-line order: {ours:7.1f} ms  (baseline executemany {base:6.1f} ms, "
            f"ratio {ours / base:4.1f}x; target < 50 ms: {'ok' if ours < 50 else 'MISSED'})"
        )
        t = time.perf_counter()
        fill_orders(engine, sd, args.orders)
        print(f"(filled {args.orders:,} orders in {time.perf_counter() - t:.1f} s)")
        ours, base = bench_list(engine, db, max(5, args.repeat // 3))
        print(
            f"order list first page of {args.orders:,}: {ours:7.1f} ms  (baseline bare SELECT "
            f"{base:6.1f} ms, ratio {ours / base:4.1f}x; target < 200 ms: "
            f"{'ok' if ours < 200 else 'MISSED'})"
        )
        if not args.no_gui:
            gui = bench_gui_first_paint(engine, db, 5)
            print(
                f"Orders view first paint over {args.orders:,}: {gui:7.1f} ms  (target < 200 ms: "
                f"{'ok' if gui < 200 else 'MISSED'}; ratio to the bare SELECT {gui / base:4.0f}x)"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
