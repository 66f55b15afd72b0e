"""Fast loop for the weekly demand model's bias: the demand part of forecast_accuracy.py only.

The full evaluation (``benchmarks/forecast_accuracy.py``) fits the basket, activity and eight
statsforecast models at 14 origins (about an hour per half on a loaded 2-core machine). The
weekly demand model alone needs only each origin's (store, product) matrix, so this script
builds those matrices once (the same pairs, weeks and actuals as ``evaluate_history``),
caches them as ``.npz`` files and then scores ``demand.fit_demand_model`` at every origin in
a minute or two: bias over the 8-week horizon and its first 4 weeks, total WAPE and 80%
coverage, per origin and pooled, plus the weekly totals of the whole book around each origin
(to see a closure or a week with no invoices).

    .venv/bin/python benchmarks/demand_bias.py [--cache DIR] [--origins 14] [--horizon 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mangalm_desktop.forecasting.demand import fit_demand_model, season_ratio  # noqa: E402
from mangalm_desktop.forecasting.evaluate import default_origins  # noqa: E402
from mangalm_desktop.forecasting.metrics import DemandScore  # noqa: E402
from mangalm_desktop.forecasting.reader import ONLINE_RETAIL_COLUMNS, read_history  # noqa: E402
from mangalm_desktop.forecasting.series import (  # noqa: E402
    build_history,
    week_of_day,
    weekly_matrix,
)

DATA = ROOT.parent / "shared" / "data" / "online_retail_2009-12_2011-09.csv.gz"


def build_cache(cache: Path, n_origins: int, horizon: int, spacing: int) -> list[Path]:
    """One ``.npz`` per origin: ``y`` (history, pairs × weeks), ``actual`` (pairs × horizon)
    and ``book`` (the whole history's weekly units, every store and product), as
    ``evaluate_history`` builds them."""
    history, _ = build_history(read_history([DATA], ONLINE_RETAIL_COLUMNS))
    origins = default_origins(history, n_origins, horizon, spacing)
    w0 = int(week_of_day(history.first_day))
    lines = history.lines
    book = lines.groupby(week_of_day(lines["day"].to_numpy()))["qty"].sum()
    paths = []
    for origin in origins:
        path = cache / f"{np.datetime64(int(origin), 'D')}_h{horizon}.npz"
        paths.append(path)
        if path.exists():
            continue
        known = history.before(origin)
        n_orders = known.groupby(["s", "p"]).size()
        pairs = n_orders[n_orders >= 2].reset_index()
        ps, pp = pairs["s"].to_numpy(), pairs["p"].to_numpy()
        wo = int(week_of_day(origin))
        y = weekly_matrix(known, ps, pp, w0, wo - w0).astype(np.float32)
        actual = weekly_matrix(history.between(origin, origin + 7 * horizon), ps, pp, wo, horizon)
        weeks = np.arange(w0, wo + horizon)
        np.savez_compressed(
            path,
            y=y,
            actual=actual.astype(np.float32),
            origin=origin,
            book=book.reindex(weeks, fill_value=0).to_numpy(np.float64),
        )
    return paths


def score(paths: list[Path], horizon: int, verbose: bool = True, year_ago: bool = True) -> dict:
    """Fit and score the app's demand model at every cached origin."""
    pooled = DemandScore()
    rows = []
    for path in paths:
        z = np.load(path)
        y = z["y"].astype(np.float64)
        actual = z["actual"].astype(np.float64)
        model = fit_demand_model(y, horizon, year_ago=year_ago)
        point, low, high = model.forecast(y, horizon)
        here, first4 = DemandScore(), DemandScore()
        here.add(point, actual, y, low, high)
        first4.add(point[:, :4], actual[:, :4], y)
        pooled.add(point, actual, y, low, high)
        d, d4 = here.as_dict(), first4.as_dict()
        rows.append(
            {
                "origin": str(np.datetime64(int(z["origin"]), "D")),
                "bias": d["bias"],
                "bias4": d4["bias"],
                "wape_total": d["wape_total"],
                "coverage_80": d["coverage_80"],
                "season": season_ratio(y, horizon),
                "level": model.level_correction,
                "factor": model.level(y, horizon),
                "year_ago": model.year_ago_ratio,
            }
        )
        if verbose:
            r = rows[-1]
            print(
                f"{r['origin']}  bias {r['bias']:+.3f}  4wk {r['bias4']:+.3f}  "
                f"WAPEt {r['wape_total']:.3f}  cov {r['coverage_80']:.3f}  "
                f"season {r['season']:.3f}  level {r['level']:.3f}  year-ago ratio "
                + ("–" if r["year_ago"] is None else f"{r['year_ago']:.3f}"),
                flush=True,
            )
    p = pooled.as_dict()
    out = {"rows": rows, "pooled": p}
    if verbose:
        off = [r["origin"] for r in rows if abs(r["bias4"]) > 0.10]
        print(
            f"pooled bias {p['bias']:+.4f}  WAPE total {p['wape_total']:.4f}  "
            f"coverage {p['coverage_80']:.4f}  mean |bias 4wk| "
            f"{np.mean([abs(r['bias4']) for r in rows]):.3f}  outside ±10% (4 wk): "
            f"{len(off)} {' '.join(off)}"
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "mangalm-demand-bias"))
    ap.add_argument("--origins", type=int, default=14)
    ap.add_argument("--horizon", type=int, default=8)
    ap.add_argument("--spacing", type=int, default=4)
    ap.add_argument("--weeks", action="store_true", help="print the book's weekly units too")
    ap.add_argument(
        "--no-year-ago", action="store_true", help="leave out the year-ago level correction"
    )
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    paths = build_cache(cache, args.origins, args.horizon, args.spacing)
    print(f"inputs ready after {time.monotonic() - t0:.0f} s ({cache})", flush=True)
    if args.weeks:
        for path in paths:
            z = np.load(path)
            book = z["book"]
            print(
                str(np.datetime64(int(z["origin"]), "D")), " ".join(f"{v:.0f}" for v in book[-14:])
            )
    score(paths, args.horizon, year_ago=not args.no_year_ago)
    print(f"done after {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
