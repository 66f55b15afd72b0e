"""SciPy-free forecasting parts vs the SciPy code they replaced (issue 11), same run.

On the shared real history (UCI Online Retail, ../shared/data/README.md) at the evaluation's
origins: the basket features (``pair_features``, whose co-purchase part used scipy.sparse)
and the similar-store upsell; on 50,000 synthetic weekly series: the demand model fit (which
used scipy.optimize.nnls). Each is timed with the NumPy code and with the old SciPy code
(``tests/support/scipy_reference.py``) — the baseline — and the results are checked equal.
Prints seconds (best of ``--repeat``, CPU time, one thread) and new/old ratios.

    .venv/bin/python benchmarks/no_scipy_bench.py [--origins 1] [--repeat 3] [--series 50000]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core for both sides

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.forecast_bench import make_series  # noqa: E402
from mangalm_desktop.forecasting import demand, features  # noqa: E402
from mangalm_desktop.forecasting.evaluate import default_origins  # noqa: E402
from mangalm_desktop.forecasting.features import next_orders, pair_features  # noqa: E402
from mangalm_desktop.forecasting.reader import ONLINE_RETAIL_COLUMNS, read_history  # noqa: E402
from mangalm_desktop.forecasting.series import build_history  # noqa: E402
from mangalm_desktop.forecasting.upsell import similar_store_upsell  # noqa: E402
from tests.support import scipy_reference as ref  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "online_retail_2009-12_2011-09.csv.gz"
HORIZON_DAYS = 56
NEW_PER_STORE = 20


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Lowest CPU time of ``repeat`` calls (steadier than wall time on a shared machine)."""
    times, out = [], None
    for _ in range(repeat):
        t = time.process_time()
        out = fn()
        times.append(time.process_time() - t)
    return min(times), out


def peak_mb(fn: Callable[[], object]) -> float:
    """Peak memory allocated during one call (NumPy buffers included), in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def co_purchase_args(fn: Callable[[], object]) -> tuple:
    """The arguments ``pair_features`` passes to ``co_purchase`` (to measure that part)."""
    seen: list[tuple] = []
    mine = features.co_purchase

    def spy(*args):
        seen.append(args)
        return mine(*args)

    features.co_purchase = spy
    try:
        fn()
    finally:
        features.co_purchase = mine
    return seen[0]


def with_reference_co_purchase(fn: Callable[[], object]) -> Callable[[], object]:
    def run():
        mine = features.co_purchase
        features.co_purchase = ref.co_purchase
        try:
            return fn()
        finally:
            features.co_purchase = mine

    return run


def row(name: str, new: float, old: float, same: bool) -> bool:
    print(
        f"{name:44s} new {new:7.2f} s   scipy {old:7.2f} s   new/old {new / old:5.2f}   "
        f"{'same result' if same else 'DIFFERENT RESULT'}",
        flush=True,
    )
    return same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--origins", type=int, default=1, help="newest N evaluation origins")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--series", type=int, default=50_000)
    args = ap.parse_args()
    ok = True

    history, _ = build_history(read_history([DATA], ONLINE_RETAIL_COLUMNS))
    lines = history.lines
    print(
        f"history: {len(lines):,} lines, {history.n_stores:,} stores, "
        f"{history.n_products:,} products",
        flush=True,
    )
    for origin in default_origins(history, 3, 8, 4)[-args.origins :]:
        train = lines[lines["day"] < origin]

        def feats(train=train, origin=origin):
            return pair_features(train, origin, HORIZON_DAYS, NEW_PER_STORE)

        new_t, new_f = best_of(args.repeat, feats)
        old_t, old_f = best_of(args.repeat, with_reference_co_purchase(feats))
        same = isinstance(new_f, pd.DataFrame) and new_f.equals(old_f)
        ok &= row(f"origin {origin}: pair_features ({len(new_f):,} pairs)", new_t, old_t, same)
        args_ = co_purchase_args(feats)
        print(
            f"{'':44s} co-purchase part alone: peak memory new "
            f"{peak_mb(lambda a=args_: features.co_purchase(*a)):.0f} MB, "
            f"scipy {peak_mb(lambda a=args_: ref.co_purchase(*a)):.0f} MB",
            flush=True,
        )

        targets = next_orders(lines, origin, origin + HORIZON_DAYS)["s"].unique()
        size = (train, targets, origin, history.n_stores, history.n_products)
        new_t, new_u = best_of(args.repeat, lambda size=size: similar_store_upsell(*size))
        old_t, old_u = best_of(args.repeat, lambda size=size: ref.similar_store_upsell(*size))
        same = new_u.to_numpy().tolist() == old_u.to_numpy().tolist()
        ok &= row(f"origin {origin}: upsell ({len(targets):,} stores)", new_t, old_t, same)
        # the app's own call: one store's upsell panel (ten stores, one call each)
        one = [
            (train, np.array([s]), origin, history.n_stores, history.n_products)
            for s in targets[:: max(1, len(targets) // 10)][:10]
        ]
        new_t, new_u = best_of(args.repeat, lambda one=one: [similar_store_upsell(*a) for a in one])
        old_t, old_u = best_of(
            args.repeat, lambda one=one: [ref.similar_store_upsell(*a) for a in one]
        )
        same = [u.to_numpy().tolist() for u in new_u] == [u.to_numpy().tolist() for u in old_u]
        ok &= row(f"origin {origin}: upsell, 10 single-store calls", new_t, old_t, same)

    y = make_series(args.series, 104)
    new_t, new_m = best_of(args.repeat, lambda: demand.fit_demand_model(y, 8))
    mine = demand.nnls
    demand.nnls = ref.nnls
    try:
        old_t, old_m = best_of(args.repeat, lambda: demand.fit_demand_model(y, 8))
    finally:
        demand.nnls = mine
    diff = float(np.abs(new_m.weights - old_m.weights).max())
    print(f"demand weights: largest difference {diff:.1e}")
    ok &= row(f"fit_demand_model ({args.series:,} series × 104 weeks)", new_t, old_t, diff < 1e-9)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
