"""Will the store order at all, and when: the store-level half of every probability shown.

The basket model answers "which products will be on the store's *next* order" and is trained
only on stores that did order in the following weeks, so its probabilities are conditional on
an order coming. For a store that orders every fortnight that is nearly the same thing; for a
store silent 465 days it is not: "98% likely" was true only *if* it ever ordered again. This
module learns P(the store orders within ``days``) from the business's own past: at weekly
cut-offs before the origin it takes every store with an earlier order, describes it the way
an agent would (days since its last order, against its usual interval, how many orders in the
last 28/90/365 days, what it spent, whether it ordered this time last year) and labels it by
whether an order came. Two models are fitted: within 7 days (today's call list: who is about
to order) and within the forecast horizon (how much of the suggested order to believe).

Honest probabilities: a line's probability shown to the agent is P(store orders within the
horizon) × P(line | it orders); ``mangalm evaluate`` prints the reliability of both, by
probability decile and by silence bucket (docs/forecast-accuracy.md).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .gbm import GradientBoostedClassifier

ACTIVITY_FEATURES = [
    "days_since",
    "gap",
    "silence",
    "last_gap",
    "orders",
    "orders_28",
    "orders_90",
    "orders_365",
    "age",
    "lines_365",
    "units_365",
    "value_365",
    "ly_soon",
    "ly_window",
]

MAX_TRAIN_ROWS = 120_000
"""Training rows are subsampled above this (a 100k-store book keeps the fit ~ a second)."""

SILENCE_BUCKETS = (0.0, 1.0, 2.0, 3.0, 6.0, np.inf)
"""Silence = days since the last order ÷ the store's usual interval; buckets for reports."""


def silence_bucket(silence: np.ndarray) -> np.ndarray:
    """Label each silence ratio ("<1", "1-2", "2-3", "3-6", "6+", "one order")."""
    labels = np.array(["<1", "1-2", "2-3", "3-6", "6+"])
    s = np.asarray(silence, dtype=float)
    idx = np.clip(np.searchsorted(SILENCE_BUCKETS, s, side="right") - 1, 0, len(labels) - 1)
    return np.where(np.isnan(s), "one order", labels[idx])


def store_activity(orders: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """Per store with an order before ``cutoff``: :data:`ACTIVITY_FEATURES` (index = store).

    ``orders`` has one row per order: ``s``, ``day``, ``lines``, ``units`` and ``value``
    (NaN when prices are unknown). Only rows with ``day < cutoff`` are used.
    """
    o = orders[orders["day"] < cutoff].sort_values(["s", "day"], kind="stable")
    if len(o) == 0:
        return pd.DataFrame(columns=ACTIVITY_FEATURES, dtype=float)
    g = o.groupby("s", sort=True)
    out = pd.DataFrame(
        {"orders": g.size(), "last": g["day"].max(), "first": g["day"].min()}, dtype=float
    )
    gaps = o["day"].diff()
    gaps[o["s"].ne(o["s"].shift())] = np.nan
    gg = gaps.groupby(o["s"])
    out["gap"] = gg.median()
    out["last_gap"] = gg.last()
    out["days_since"] = cutoff - out["last"]
    out["silence"] = out["days_since"] / out["gap"].clip(lower=1)
    out["age"] = cutoff - out["first"]
    d = o["day"].to_numpy()
    for name, lo in (("orders_28", 28), ("orders_90", 90), ("orders_365", 365)):
        out[name] = o[d >= cutoff - lo].groupby("s").size().reindex(out.index).fillna(0)
    year = o[d >= cutoff - 365].groupby("s")
    for col in ("lines", "units", "value"):
        out[f"{col}_365"] = year[col].sum(min_count=1).reindex(out.index)
    out[["lines_365", "units_365"]] = out[["lines_365", "units_365"]].fillna(0)
    for name, lo, hi in (("ly_soon", 364, 364 - 14), ("ly_window", 364, 364 - 56)):
        sel = o[(d >= cutoff - lo) & (d < cutoff - hi)]
        out[name] = sel.groupby("s").size().reindex(out.index).fillna(0)
    return out[ACTIVITY_FEATURES].astype(float)


def order_table(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order (store, day) from clean lines (``s, p, day, qty[, price]``)."""
    t = lines[["s", "day", "qty"]].copy()
    price = lines["price"] if "price" in lines else pd.Series(np.nan, index=lines.index)
    price = price.where(price > 0)
    t["value"] = lines["qty"] * price
    t["lines"] = 1
    g = t.groupby(["s", "day"], sort=False)
    out = g.agg(lines=("lines", "sum"), units=("qty", "sum"), value=("value", "sum")).reset_index()
    # a store-day whose prices are all unknown has unknown value, not 0
    known = g["value"].count().to_numpy() > 0
    out.loc[~known, "value"] = np.nan
    return out


PRIOR_RELATIVE = {"<1": 1.0, "1-2": 0.97, "2-3": 0.9, "3-6": 0.58, "6+": 0.40, "one order": 0.27}
"""Chance of an order within 8 weeks per silence bucket relative to stores not yet late, as
measured on the real wholesale history (2011-06-06 origin: 0.42, 0.41, 0.38, 0.24, 0.17 and
0.11 for stores with a single order). A small book that has never seen a long silence borrows
this shape instead of claiming that a store silent for six intervals is as sure as any."""


@dataclass
class SilenceTable:
    """The small-book fallback: the share of stores that ordered, per silence bucket,
    smoothed by two pseudo-stores toward the share of stores not yet late times
    :data:`PRIOR_RELATIVE`. Used when there are too few past (store, cut-off) rows for
    trees, e.g. a new company with a handful of stores."""

    rates: dict[str, float]
    base: float

    @classmethod
    def fit(cls, data: pd.DataFrame) -> SilenceTable:
        bucket = silence_bucket(data["silence"].to_numpy())
        g = data.groupby(bucket)["y"].agg(["sum", "size"])
        base = float(data["y"].mean()) if len(data) else 0.0
        if "<1" in g.index:
            base = float((g.at["<1", "sum"] + base) / (g.at["<1", "size"] + 1))
        rates = {}
        for k, rel in PRIOR_RELATIVE.items():
            n, hits = (g.at[k, "size"], g.at[k, "sum"]) if k in g.index else (0, 0)
            rates[k] = float((hits + 2 * base * rel) / (n + 2))
        return cls(rates, base)

    def predict(self, feats: pd.DataFrame) -> np.ndarray:
        b = silence_bucket(feats["silence"].to_numpy())
        return np.array([self.rates.get(str(k), self.base) for k in b], dtype=float)


@dataclass
class ActivityModel:
    """P(store orders within 7 days) and within ``horizon_days``, fitted before an origin."""

    week: GradientBoostedClassifier | SilenceTable | None
    horizon: GradientBoostedClassifier | SilenceTable | None
    horizon_days: int

    def predict(self, feats: pd.DataFrame) -> pd.DataFrame:
        """Columns ``p_week`` and ``p_horizon`` for each row of :func:`store_activity`."""
        out = pd.DataFrame(index=feats.index)
        x = feats[ACTIVITY_FEATURES]
        for col, clf in (("p_week", self.week), ("p_horizon", self.horizon)):
            if clf is None or len(x) == 0:
                out[col] = 0.5  # nothing known: neither likely nor unlikely
            elif isinstance(clf, SilenceTable):
                out[col] = clf.predict(x)
            else:
                out[col] = clf.predict_proba(x)[:, 1]
        # within the horizon is never less likely than within a week
        out["p_horizon"] = np.maximum(out["p_horizon"], out["p_week"])
        return out

    def to_bytes(self) -> bytes:
        """The fitted model as an ``.npz`` (arrays only, read back without pickle), so a
        forecast run can store it and Today can use it without refitting."""
        arrays: dict[str, np.ndarray] = {
            "format": np.array([STORED_FORMAT]),
            "horizon_days": np.array([self.horizon_days], dtype=np.int64),
            "features": np.array(ACTIVITY_FEATURES, dtype=np.str_),
        }
        for part, clf in (("week", self.week), ("horizon", self.horizon)):
            if clf is None:
                arrays[f"{part}.kind"] = np.array(["none"])
            elif isinstance(clf, SilenceTable):
                arrays[f"{part}.kind"] = np.array(["table"])
                arrays[f"{part}.buckets"] = np.array(list(clf.rates), dtype=np.str_)
                arrays[f"{part}.rates"] = np.array(list(clf.rates.values()), dtype=np.float64)
                arrays[f"{part}.base"] = np.array([clf.base])
            else:
                arrays[f"{part}.kind"] = np.array(["trees"])
                arrays.update({f"{part}.{k}": v for k, v in clf.to_arrays().items()})
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]  # names are array keys
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ActivityModel:
        """Read :meth:`to_bytes` back; ValueError when it was written by another version
        (a different feature list or format), so the caller refits instead."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError) as exc:
            raise ValueError(f"stored activity model unreadable: {exc}") from exc
        if (
            str(arrays.get("format", np.array([""]))[0]) != STORED_FORMAT
            or [str(f) for f in arrays.get("features", [])] != ACTIVITY_FEATURES
        ):
            raise ValueError("stored activity model was written by another version")
        parts: dict[str, GradientBoostedClassifier | SilenceTable | None] = {}
        for part in ("week", "horizon"):
            kind = str(arrays[f"{part}.kind"][0])
            if kind == "table":
                rates = dict(
                    zip(
                        (str(b) for b in arrays[f"{part}.buckets"]),
                        (float(r) for r in arrays[f"{part}.rates"]),
                        strict=True,
                    )
                )
                parts[part] = SilenceTable(rates, float(arrays[f"{part}.base"][0]))
            elif kind == "trees":
                prefix = f"{part}."
                parts[part] = GradientBoostedClassifier.from_arrays(
                    {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                )
            else:
                parts[part] = None
        return cls(parts["week"], parts["horizon"], int(arrays["horizon_days"][0]))


STORED_FORMAT = "activity-v1"
"""Bumped whenever the stored arrays or ACTIVITY_FEATURES change meaning."""


def _labelled(orders: pd.DataFrame, cutoff: int, days: int) -> pd.DataFrame:
    feats = store_activity(orders, cutoff)
    d = orders["day"].to_numpy()
    came = orders[(d >= cutoff) & (d < cutoff + days)]["s"].unique()
    feats["y"] = feats.index.isin(came).astype(np.int8)
    return feats


MIN_TREE_ROWS = 500
"""Fewer past (store, cut-off) rows than this: the silence table instead of trees."""


def _fit(parts: list[pd.DataFrame], seed: int) -> GradientBoostedClassifier | SilenceTable | None:
    if not parts:
        return None
    data = pd.concat(parts, ignore_index=True)
    if len(data) < MIN_TREE_ROWS or data["y"].nunique() < 2:
        return SilenceTable.fit(data) if len(data) else None
    if len(data) > MAX_TRAIN_ROWS:
        data = data.sample(MAX_TRAIN_ROWS, random_state=seed)
    clf = GradientBoostedClassifier(
        max_iter=60, learning_rate=0.1, max_leaf_nodes=15, random_state=seed
    )
    clf.fit(data[ACTIVITY_FEATURES], data["y"])
    return clf


def fit_activity_model(
    orders: pd.DataFrame,
    origin: int,
    horizon_days: int = 56,
    cutoffs: int = 12,
    seed: int = 7,
) -> ActivityModel:
    """Fit both models on weekly cut-offs whose outcome window ends before ``origin``."""
    known = orders[orders["day"] < origin]
    if len(known) == 0:
        return ActivityModel(None, None, horizon_days)
    first = int(known["day"].min())
    parts: dict[int, list[pd.DataFrame]] = {7: [], horizon_days: []}
    for days in parts:
        for k in range(cutoffs):
            cut = origin - days - 7 * k
            if cut - first < 28:
                break
            parts[days].append(_labelled(known, cut, days))
    return ActivityModel(_fit(parts[7], seed), _fit(parts[horizon_days], seed), horizon_days)
