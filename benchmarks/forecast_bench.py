"""Forecast engine speed: 50,000 weekly series × 104 weeks, fit + predict + suggest, one core.

Prints the app's time, statsforecast's CrostonOptimized alone on the same series in the same
run (the baseline), their ratio (target ≤ 3), and peak RSS (target < 2 GB).

``--today-stores N`` instead times Today's call list (``todays_calls``) on a SQLite database of
N stores with a year of invoices: with the activity model a forecast run stored (the app now)
against fitting it on the load (the app before, and its fallback when no run stored one), in
the same run.

    .venv/bin/python benchmarks/forecast_bench.py [--series 50000] [--weeks 104]
    .venv/bin/python benchmarks/forecast_bench.py --today-stores 20000
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as promised

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mangalm_desktop.forecasting.demand import fit_demand_model  # noqa: E402
from mangalm_desktop.forecasting.evaluate import run_statsforecast  # noqa: E402
from mangalm_desktop.forecasting.suggest import suggest_quantities  # noqa: E402

HORIZON = 8


def make_series(n: int, weeks: int, seed: int = 42) -> np.ndarray:
    """Intermittent demand like a distributor's book: per-series order probability and size."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.8, 3.0, size=(n, 1))
    size = rng.gamma(2.0, 6.0, size=(n, 1)) + 1
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(weeks) / 52)[None, :]
    orders = rng.random((n, weeks)) < np.clip(p * season, 0, 1)
    qty = rng.poisson(size * np.ones((1, weeks)))
    return (orders * qty).astype(np.float64)


def app_pipeline(y: np.ndarray) -> np.ndarray:
    """What ``mangalm forecast`` does per series: fit, predict, suggest."""
    model = fit_demand_model(y, HORIZON)
    point, _low, _high = model.forecast(y, HORIZON)
    rate = point.mean(axis=1)
    rate_high = rate + model.rate_halfwidth(y)
    nz = y > 0
    sorted_nz = np.sort(np.where(nz, y, np.inf), axis=1)  # median of the non-zero weeks
    k = nz.sum(axis=1)
    mid = sorted_nz[np.arange(len(y)), np.maximum(k - 1, 0) // 2]
    typical = np.where(k > 0, mid, 1.0)
    rng = np.random.default_rng(1)
    cover = rng.integers(7, 29, size=len(y))
    shelf = rng.integers(0, 5, size=len(y))
    pack = rng.choice([1, 6, 12], size=len(y))
    qty, _, _ = suggest_quantities(rate, rate_high, cover, typical, shelf, pack)
    return qty


def build_today_db(path: Path, stores: int, seed: int = 7):
    """N stores, each ordering every 7-60 days over the last year (2 lines an order), some
    gone quiet; the engine and the as-of date."""
    import datetime as dt
    import uuid

    from mangalm_desktop.db.migrate import open_local_database

    as_of = dt.date(2026, 11, 3)
    engine = open_local_database(path)
    rng = np.random.default_rng(seed)
    ts = "2026-01-01 00:00:00.000000"
    products = [(uuid.uuid4().hex, f"SKU-{i:04d}", f"Product {i:04d}") for i in range(200)]
    store_rows, invoices, lines = [], [], []
    for i in range(stores):
        sid = uuid.uuid4().hex
        store_rows.append((sid, f"C-{i:06d}", f"Store {i:06d}"))
        gap = int(rng.integers(7, 61))
        stop = int(rng.integers(0, 200)) if rng.random() < 0.2 else 0  # gone quiet
        for n, back in enumerate(range(stop + int(rng.integers(1, gap + 1)), 365, gap)):
            iid = uuid.uuid4().hex
            day = (as_of - dt.timedelta(days=back)).isoformat()
            invoices.append((iid, f"INV-{i}-{n}", sid, day))
            for k in range(2):
                pid = products[int(rng.integers(0, len(products)))][0]
                qty = int(rng.integers(1, 25))
                lines.append((uuid.uuid4().hex, iid, k + 1, sid, day, pid, qty, 5000, qty * 50))
    with engine.begin() as conn:
        c = conn.connection.cursor()
        c.executemany(
            "INSERT INTO product (id, sku, name, pack_size, price, active, version, deleted,"
            f" updated_at) VALUES (?, ?, ?, 1, 50, 1, 1, 0, '{ts}')",
            products,
        )
        c.executemany(
            "INSERT INTO store (id, code, name, outstanding_balance, active, version, deleted,"
            f" updated_at) VALUES (?, ?, ?, 0, 1, 1, 0, '{ts}')",
            store_rows,
        )
        c.executemany(
            "INSERT INTO invoice (id, number, kind, status, store_id, invoice_date, total, source,"
            f" version, deleted, updated_at) VALUES (?, ?, 'invoice', 'paid', ?, ?, 0, 'bench', 1,"
            f" 0, '{ts}')",
            invoices,
        )
        c.executemany(
            "INSERT INTO invoice_line (id, invoice_id, line_no, store_id, invoice_date, product_id,"
            " quantity, unit_price, line_total, version, deleted, updated_at)"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, '{ts}')",
            lines,
        )
    return engine, as_of, len(lines)


def bench_today(stores: int, runs: int) -> None:
    """Today's load with the stored activity model vs fitting it on the load, same run."""
    import tempfile

    from mangalm_desktop.db.engine import session_scope
    from mangalm_desktop.db.models import ActivityModelStore
    from mangalm_desktop.forecasting import service

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        engine, as_of, n_lines = build_today_db(Path(tmp) / "today.sqlite", stores)
        print(
            f"database: {stores:,} stores, {n_lines:,} invoice lines ({time.perf_counter() - t:.0f} s)"
        )
        fitted, stored = [], []
        for _ in range(runs):
            with session_scope(engine) as s:  # no stored model: Today fits it (the old path)
                s.query(ActivityModelStore).delete()
            t = time.perf_counter()
            calls = service.todays_calls(engine, today=as_of, identity=None)
            fitted.append(time.perf_counter() - t)
            assert calls.note, "expected the fallback to say it fitted the model"
            # what run_forecast stores: the model fitted once, for this day
            with session_scope(engine) as s:
                orders, _ = service._orders_frame(service._order_days(s, as_of), [])
            model = service.fit_activity_model(orders, service._origin(as_of), 56)
            service._store_activity_model(engine, model, as_of)
            t = time.perf_counter()
            calls = service.todays_calls(engine, today=as_of, identity=None)
            stored.append(time.perf_counter() - t)
            assert not calls.note
        engine.dispose()
    a, b = min(fitted), min(stored)
    print(f"Today's call list, activity model fitted on the load (before): {a:.2f} s")
    print(f"Today's call list, activity model stored by the forecast run:  {b:.2f} s")
    print(f"ratio before / after: {a / b:.1f} (best of {runs}; shared, loaded machine)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--series", type=int, default=50_000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--today-stores", type=int, help="time Today's call list on N stores")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    if args.today_stores:
        bench_today(args.today_stores, args.runs)
        return 0
    y = make_series(args.series, args.weeks)
    # warm-up on a few series (imports, numba compilation) so neither side pays it
    app_pipeline(y[:200])
    run_statsforecast(y[:200], HORIZON, ["CrostonOptimized"])

    t = time.perf_counter()
    run_statsforecast(y, HORIZON, ["CrostonOptimized"])
    base = time.perf_counter() - t

    t = time.perf_counter()
    qty = app_pipeline(y)
    app = time.perf_counter() - t

    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"series: {args.series:,} × {args.weeks} weeks, horizon {HORIZON}, one core")
    print(f"baseline CrostonOptimized (statsforecast, n_jobs=1): {base:.2f} s")
    print(f"mangalm fit + predict + suggest:                    {app:.2f} s")
    print(f"ratio to CrostonOptimized: {app / base:.2f} (target ≤ 3)")
    print(f"peak RSS: {rss_kb / 1024:.0f} MB (target < 2048 MB)")
    print(f"lines suggested (qty > 0): {int((qty > 0).sum()):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
