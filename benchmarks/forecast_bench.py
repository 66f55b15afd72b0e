"""Forecast engine speed: 50,000 weekly series × 104 weeks, fit + predict + suggest, one core.

Prints the app's time, statsforecast's CrostonOptimized alone on the same series in the same
run (the baseline), their ratio (target ≤ 3), and peak RSS (target < 2 GB).

    .venv/bin/python benchmarks/forecast_bench.py [--series 50000] [--weeks 104]
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--series", type=int, default=50_000)
    ap.add_argument("--weeks", type=int, default=104)
    args = ap.parse_args()
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
