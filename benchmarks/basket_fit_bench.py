"""Basket classifier benchmark: ``forecasting.gbm`` against scikit-learn's HGB, same run.

The field app ships ``forecasting.gbm`` (NumPy only) instead of scikit-learn's
``HistGradientBoostingClassifier`` to stay without scikit-learn and SciPy. This measures what
that costs on the real basket training set: the shared real history (UCI Online Retail, see
../shared/data/README.md), the newest of the evaluation's origins, the labelled
(store, product) frames of the basket's inner and year-earlier origins with its negative
sampling and weights — exactly the frame ``fit_basket_model`` fits first — then a fit and a
``predict_proba`` on the held-out newest inner origin, for each classifier, both
single-threaded (``OMP_NUM_THREADS=1`` is set before scikit-learn is imported).

    .venv/bin/python benchmarks/basket_fit_bench.py            # all 10 cut-offs (~400k rows)
    .venv/bin/python benchmarks/basket_fit_bench.py --cuts 3   # quick

Prints CPU seconds of fit and predict, the gbm / scikit-learn ratio (target ≤ 3×) and the
held-out log-loss and AUC of both (they should agree). Needs the dev extra (scikit-learn).
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"  # before NumPy / scikit-learn load their thread pools

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.metrics import log_loss, roc_auc_score  # noqa: E402

from mangalm_desktop.forecasting import gbm as gbm_module  # noqa: E402
from mangalm_desktop.forecasting.basket import BasketConfig, _labelled  # noqa: E402
from mangalm_desktop.forecasting.evaluate import default_origins  # noqa: E402
from mangalm_desktop.forecasting.features import FEATURES  # noqa: E402
from mangalm_desktop.forecasting.gbm import GradientBoostedClassifier  # noqa: E402
from mangalm_desktop.forecasting.reader import ONLINE_RETAIL_COLUMNS, read_history  # noqa: E402
from mangalm_desktop.forecasting.series import build_history  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "online_retail_2009-12_2011-09.csv.gz"


def _cpu() -> float:
    """CPU seconds of this process: steadier than wall time on a shared, loaded machine."""
    return time.process_time()


def training_frames(cuts: int) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """The basket's first fit frame (features, y, weights) and its held-out origin frame."""
    history, _ = build_history(read_history([DATA], ONLINE_RETAIL_COLUMNS))
    origin = default_origins(history, 3, 8, 4)[-1]
    cfg = BasketConfig()
    known = history.before(origin)
    cut_days = [origin - cfg.horizon_days - cfg.spacing_days * k for k in range(cfg.inner_origins)]
    cut_days += [
        origin - 364 + cfg.spacing_days * (k - cfg.seasonal_origins // 2)
        for k in range(cfg.seasonal_origins)
    ]
    cut_days = cut_days[: max(cuts, 2)]
    parts = [_labelled(known, known[known["day"] < c], c, cfg)[0] for c in cut_days]
    hold, fit = parts[0], pd.concat(parts[1:], ignore_index=True)
    rng = np.random.default_rng(cfg.seed)
    fit = fit[(fit["y"].to_numpy() == 1) | (rng.random(len(fit)) < cfg.negative_rate)]
    weight = np.where(fit["y"].to_numpy() == 1, 1.0, 1.0 / cfg.negative_rate)
    return fit, weight, hold


def measure(name: str, clf, fit: pd.DataFrame, weight: np.ndarray, hold: pd.DataFrame) -> dict:
    t0, w0 = _cpu(), time.perf_counter()
    clf.fit(fit[FEATURES], fit["y"], sample_weight=weight)
    t1, wall = _cpu(), time.perf_counter() - w0
    p = clf.predict_proba(hold[FEATURES])[:, 1]
    t2 = _cpu()
    y = hold["y"].to_numpy()
    out = dict(
        name=name,
        fit=t1 - t0,
        fit_wall=wall,
        predict=t2 - t1,
        logloss=log_loss(y, p),
        auc=roc_auc_score(y, p),
    )
    print(
        f"{name:14s} fit {out['fit']:6.2f}s  predict {out['predict']:5.2f}s  "
        f"held-out log-loss {out['logloss']:.5f}  AUC {out['auc']:.5f}",
        flush=True,
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cuts", type=int, default=10, help="labelled cut-offs (first is held out)")
    args = ap.parse_args()
    fit, weight, hold = training_frames(args.cuts)
    print(
        f"fit frame {len(fit):,} rows x {len(FEATURES)} features "
        f"({fit['y'].mean():.3f} positive); held out {len(hold):,} rows",
        flush=True,
    )
    cfg = BasketConfig()
    kw = dict(
        max_iter=cfg.max_iter,
        learning_rate=cfg.learning_rate,
        max_leaf_nodes=cfg.max_leaf_nodes,
        random_state=cfg.seed,
    )
    ref = measure(
        "scikit-learn",
        HistGradientBoostingClassifier(early_stopping=False, **kw),
        fit,
        weight,
        hold,
    )
    ours = measure("gbm", GradientBoostedClassifier(n_threads=1, **kw), fit, weight, hold)
    for part in ("fit", "predict"):
        print(f"ratio gbm / scikit-learn, {part}: {ours[part] / ref[part]:.2f}x")
    total = (ours["fit"] + ours["predict"]) / (ref["fit"] + ref["predict"])
    print(f"ratio gbm / scikit-learn, fit + predict: {total:.2f}x (target <= 3x)")
    # The app fits in the background with the histogram threads on: wall time, same model,
    # against the one-thread fit above.
    threads = min(os.cpu_count() or 1, gbm_module.MAX_THREADS)
    t0 = time.perf_counter()
    GradientBoostedClassifier(n_threads=threads, **kw).fit(fit[FEATURES], fit["y"], weight)
    wall = time.perf_counter() - t0
    print(
        f"gbm fit wall time: 1 thread {ours['fit_wall']:.2f}s, {threads} threads {wall:.2f}s "
        f"(ratio {wall / ours['fit_wall']:.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
