"""The next-order basket: which products will be on a store's next order, and how many.

A purchase-propensity model (gradient-boosted trees, :mod:`.gbm`) learns
P(product on the store's next order | what was known at the cut-off) from the business's own
past: at several inner origins before the real origin (and around the same weeks a year
earlier, for seasonal buying) it takes every store that ordered in the following weeks and
labels each candidate product by whether that order held it. The line threshold is chosen on
the newest inner origin (held out from fitting, then added to the final fit) to maximise the
next-order line F1 counted against *all* lines of those orders, including products the store
had never bought, so the tuning sees the same yardstick as the evaluation. One global
threshold, not a per-store expected-F1 choice: the evaluation pools lines over all stores
(micro F1), for which a single cut on calibrated probabilities is the optimal rule (a
per-store rule measured 0.218 vs 0.241 on one origin). Only data before the origin is ever
used.

Quantity is the store's typical quantity for the product (median of its last three
purchases; for a product new to the store, the median order quantity across stores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .features import FEATURES, next_orders, pair_features
from .gbm import GradientBoostedClassifier


@dataclass(frozen=True)
class BasketConfig:
    """Knobs of the propensity model; defaults were chosen by rolling origins (docs)."""

    horizon_days: int = 56
    inner_origins: int = 6
    spacing_days: int = 14
    seasonal_origins: int = 4
    new_per_store: int = 20
    negative_rate: float = 0.25
    max_iter: int = 100
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31
    seed: int = 7
    min_threshold: float = 0.02
    refit_all: bool = True


@dataclass
class BasketModel:
    """A fitted propensity model and its tuned line threshold."""

    classifier: GradientBoostedClassifier | None
    threshold: float
    config: BasketConfig
    tuned_f1: float

    def score(self, feats: pd.DataFrame) -> np.ndarray:
        if self.classifier is None or len(feats) == 0:
            # Too little history to learn from: fall back to the store's own frequency.
            return feats["frac_all"].fillna(0).to_numpy(dtype=float)
        return self.classifier.predict_proba(feats[FEATURES])[:, 1]

    def score_all(self, train: pd.DataFrame, origin: int) -> pd.DataFrame:
        """Every candidate pair at ``origin`` with its probability ``prob`` and ``qty``."""
        feats = pair_features(train, origin, self.config.horizon_days, self.config.new_per_store)
        feats["prob"] = self.score(feats)
        feats["qty"] = np.maximum(np.rint(feats["qty_med"].fillna(1).to_numpy()), 1).astype(
            np.int64
        )
        return feats


def _labelled(lines: pd.DataFrame, train: pd.DataFrame, cutoff: int, cfg: BasketConfig):
    feats = pair_features(train, cutoff, cfg.horizon_days, cfg.new_per_store)
    nxt = next_orders(lines, cutoff, cutoff + cfg.horizon_days)
    feats = feats[feats["s"].isin(nxt["s"].unique())]
    feats = feats.merge(nxt[["s", "p"]].assign(y=1), on=["s", "p"], how="left")
    feats["y"] = feats["y"].fillna(0).astype(np.int8)
    return feats, nxt


def micro_f1(pred: np.ndarray, y: np.ndarray, n_actual: int, thresholds: np.ndarray):
    """Line F1 for each threshold; ``n_actual`` counts every line of the actual orders."""
    order = np.argsort(-pred, kind="stable")
    p_sorted = pred[order]
    hits_cum = np.cumsum(y[order])
    out = []
    for th in thresholds:
        k = int(np.searchsorted(-p_sorted, -th, side="right"))
        hits = hits_cum[k - 1] if k > 0 else 0
        prec = hits / k if k else 0.0
        rec = hits / n_actual if n_actual else 0.0
        out.append(2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0)
    return np.asarray(out)


def fit_basket_model(lines: pd.DataFrame, origin: int, cfg: BasketConfig = BasketConfig()):
    """Fit on inner origins strictly inside ``lines`` before ``origin``; tune the threshold."""
    rng = np.random.default_rng(cfg.seed)
    known = lines[lines["day"] < origin]
    parts = []
    for k in range(cfg.inner_origins):
        cut = origin - cfg.horizon_days - cfg.spacing_days * k
        if len(known) == 0 or cut - known["day"].iloc[0] < 56:
            break
        train = known[known["day"] < cut]
        # labels only from orders that happened before the real origin
        feats, nxt = _labelled(known, train, cut, cfg)
        feats["k"] = k
        feats["n_actual"] = len(nxt)
        parts.append(feats)
    # The same weeks a year earlier: a gift wholesaler's stores buy by season (summer lines,
    # then Christmas stock from August), which the last few months alone do not show.
    for k in range(cfg.seasonal_origins if len(parts) >= 2 else 0):
        cut = origin - 364 + cfg.spacing_days * (k - cfg.seasonal_origins // 2)
        if cut - known["day"].iloc[0] < 56:
            continue
        feats, nxt = _labelled(known, known[known["day"] < cut], cut, cfg)
        feats["k"] = cfg.inner_origins + k
        feats["n_actual"] = len(nxt)
        parts.append(feats)
    if len(parts) < 2:
        return BasketModel(None, 0.3, cfg, float("nan"))
    hold = parts[0]
    fit = pd.concat(parts[1:], ignore_index=True)
    keep = (fit["y"].to_numpy() == 1) | (rng.random(len(fit)) < cfg.negative_rate)
    fit = fit[keep]
    if len(hold) == 0 or fit["y"].nunique() < 2:
        # Too little history to learn from (a new database, one store, one product): use the
        # same untrained fallback as when there are too few inner origins.
        return BasketModel(None, 0.3, cfg, float("nan"))
    weight = np.where(fit["y"].to_numpy() == 1, 1.0, 1.0 / cfg.negative_rate)
    clf = _classifier(cfg)
    clf.fit(fit[FEATURES], fit["y"], sample_weight=weight)
    pred = clf.predict_proba(hold[FEATURES])[:, 1]
    grid = np.arange(cfg.min_threshold, 0.6, 0.005)
    f1 = micro_f1(pred, hold["y"].to_numpy(), int(hold["n_actual"].iloc[0]), grid)
    best = int(np.argmax(f1))
    if cfg.refit_all:
        # The held-out origin is the newest and most like the real one: once it has chosen
        # the threshold, learn from it too (calibrated probabilities keep the threshold valid).
        allp = pd.concat(parts, ignore_index=True)
        keep = (allp["y"].to_numpy() == 1) | (rng.random(len(allp)) < cfg.negative_rate)
        allp = allp[keep]
        weight = np.where(allp["y"].to_numpy() == 1, 1.0, 1.0 / cfg.negative_rate)
        clf = _classifier(cfg)
        clf.fit(allp[FEATURES], allp["y"], sample_weight=weight)
    return BasketModel(clf, float(grid[best]), cfg, float(f1[best]))


def _classifier(cfg: BasketConfig) -> GradientBoostedClassifier:
    # NumPy-only twin of scikit-learn's HistGradientBoostingClassifier (early stopping off):
    # same pooled F1 on three rolling origins, and the app ships without scikit-learn/SciPy.
    return GradientBoostedClassifier(
        max_iter=cfg.max_iter,
        learning_rate=cfg.learning_rate,
        max_leaf_nodes=cfg.max_leaf_nodes,
        random_state=cfg.seed,
    )


def predict_baskets(
    model: BasketModel, train: pd.DataFrame, origin: int, stores: np.ndarray | None = None
) -> pd.DataFrame:
    """Suggested next-order lines at ``origin``: columns s, p, qty, prob + the features.

    ``train`` holds the lines before ``origin``. Only lines with prob ≥ the tuned threshold.
    """
    feats = model.score_all(train, origin)
    if stores is not None:
        feats = feats[feats["s"].isin(stores)]
    return feats[feats["prob"] >= model.threshold].reset_index(drop=True)
