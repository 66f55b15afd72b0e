"""Published next-basket baselines, scored beside the app in ``mangalm evaluate``.

Li et al. ("A Next Basket Recommendation Reality Check", ACM TOIS 2023) re-ran the neural
next-basket models against simple baselines on the same splits and found that the
frequency baselines and the neighbour methods TIFU-KNN and UP-CF@r match or beat most of
them, largely because most of what is predictable in a next basket is *repeat* purchases.
They are the fair yardstick for the app's basket model:

- **P-TopFreq**: the store's most frequently bought products (number of its orders holding
  the product; ties go to the more recently bought).
- **GP-TopFreq**: P-TopFreq, filled with the products most stores bought when the store has
  fewer products than the basket size.
- **TIFU-KNN** (Hu et al., SIGIR 2020): each store is a vector over products: its orders split
  into groups of ``m`` from the oldest, each order's 0/1 vector weighted ``r_b^(m - j)``
  within its group, each group's mean weighted ``r_g^(G - g)``; the prediction is
  ``α · own vector + (1 − α) · mean of the k nearest stores' vectors`` (Euclidean).
- **UP-CF@r** (Faggioli et al., UMAP 2020): user popularity over the store's last ``r`` orders
  (share of those orders holding the product), smoothed by other stores: score = Σ_v
  sim(u, v)^q · pop_v, sim the asymmetric cosine ``|I_u ∩ I_v| / (|I_u|^α |I_v|^(1−α))`` of
  the products in the last ``r`` orders.

Basket size (all four): ``round(c × the store's median lines per order)``, at least 1; ``c``
and each method's own hyper-parameters are chosen on an inner validation origin one horizon
before the real origin (trained on data before it, scored on next orders before the origin),
by next-order line F1 — the same F1 the comparison reports. Quantity: the store's median of its
last three quantities of the product, else the product's median order quantity, else 1.
Dense NumPy matrices over the products sold in the last year (float32; ~4,400 stores × 3,500
products on the real history, about 60 MB each).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .features import next_orders

SIZE_FACTORS = (1.0, 1.5, 2.0)
TUNE_STORES = 800
"""Hyper-parameters are chosen on this many of the inner origin's ordering stores (seeded)."""
TIFU_K = (100, 300)
Grid = dict[str, tuple[float, ...]]
TIFU_GRID: Grid = {"m": (7,), "r_b": (0.9,), "r_g": (0.6, 0.9), "k": TIFU_K, "alpha": (0.7, 0.9)}
UPCF_GRID: Grid = {"r": (5, 25), "alpha": (0.5, 0.75), "q": (1, 5)}
PUBLISHED = ("P-TopFreq", "GP-TopFreq", "TIFU-KNN", "UP-CF@r")


@dataclass
class _Data:
    """Orders before a cut-off as dense store × product matrices for the target stores."""

    products: np.ndarray  # product codes (columns)
    stores: np.ndarray  # all stores with orders (rows)
    targets: np.ndarray  # row index of each target store
    target_codes: np.ndarray
    orders: pd.DataFrame  # s_row, day, order index per store (oldest 0)
    lines: pd.DataFrame  # s_row, p_col, day, order index, qty
    size: np.ndarray  # median lines per order, per target
    qty: pd.Series  # (s, p) → typical quantity
    prod_qty: pd.Series
    cache: dict[tuple[Any, ...], Any] = field(
        default_factory=dict
    )  # what several hyper-parameter sets share


def _prepare(known: pd.DataFrame, cutoff: int, targets: np.ndarray) -> _Data:
    recent = known[known["day"] >= cutoff - 365]
    products = np.unique(recent["p"].to_numpy())
    k = known[np.isin(known["p"].to_numpy(), products)]
    stores = np.unique(k["s"].to_numpy())
    s_row = pd.Series(np.arange(len(stores)), index=stores)
    p_col = pd.Series(np.arange(len(products)), index=products)
    orders = k[["s", "day"]].drop_duplicates().sort_values(["s", "day"], kind="stable")
    orders["idx"] = orders.groupby("s").cumcount()
    lines = k[["s", "p", "day", "qty"]].merge(orders, on=["s", "day"])
    lines["row"] = s_row.reindex(lines["s"]).to_numpy()
    lines["col"] = p_col.reindex(lines["p"]).to_numpy()
    orders["row"] = s_row.reindex(orders["s"]).to_numpy()
    t = targets[np.isin(targets, stores)]
    size = known.groupby(["s", "day"]).size().groupby("s").median().reindex(t).fillna(1).to_numpy()
    tail = known.sort_values("day", kind="stable").groupby(["s", "p"]).tail(3)
    qty = tail.groupby(["s", "p"])["qty"].median()
    prod_qty = known.groupby("p")["qty"].median()
    return _Data(
        products,
        stores,
        s_row.reindex(t).to_numpy(),
        t,
        orders,
        lines,
        size,
        qty,
        prod_qty,
    )


def _baskets(d: _Data, scores: np.ndarray, factor: float) -> pd.DataFrame:
    """Top round(factor × size) products per target row of ``scores`` (> 0 only)."""
    k = np.maximum(np.rint(factor * d.size), 1).astype(int)
    kmax = min(int(k.max()) if len(k) else 0, scores.shape[1])
    if kmax == 0:
        return pd.DataFrame({"s": [], "p": [], "qty": []}, dtype=np.int64)
    top = np.argpartition(-scores, kmax - 1, axis=1)[:, :kmax]
    top_scores = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-top_scores, axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    top_scores = np.take_along_axis(top_scores, order, axis=1)
    keep = (np.arange(kmax)[None, :] < k[:, None]) & (top_scores > 0)
    rows, _ = np.nonzero(keep)
    out = pd.DataFrame({"s": d.target_codes[rows], "p": d.products[top[keep]]})
    q = d.qty.reindex(pd.MultiIndex.from_arrays([out["s"], out["p"]])).to_numpy()
    q = np.where(np.isnan(q), d.prod_qty.reindex(out["p"]).to_numpy(), q)
    out["qty"] = np.maximum(np.rint(np.nan_to_num(q, nan=1.0)), 1).astype(np.int64)
    return out


def _freq(d: _Data, rows: np.ndarray | None = None) -> np.ndarray:
    """Orders holding each product per store (+ a tiny recency tie-break)."""
    m = np.zeros((len(d.stores), len(d.products)), dtype=np.float32)
    ln = d.lines
    np.add.at(m, (ln["row"].to_numpy(), ln["col"].to_numpy()), 1.0)
    last = np.zeros_like(m)
    np.maximum.at(last, (ln["row"].to_numpy(), ln["col"].to_numpy()), ln["day"].to_numpy() / 1e7)
    m = m + np.where(m > 0, last / 1e3, 0)
    return np.asarray(m if rows is None else m[rows])


def p_topfreq(d: _Data) -> np.ndarray:
    return _freq(d, d.targets)


def gp_topfreq(d: _Data) -> np.ndarray:
    f = _freq(d)
    pop = (f > 0).sum(axis=0).astype(np.float32)
    own = f[d.targets]
    # the most popular products fill in after every product the store bought
    return np.asarray(own + (own == 0) * (1e-6 * pop / max(float(pop.max()), 1.0))[None, :])


def _tifu_vectors(d: _Data, m: int, r_b: float, r_g: float) -> np.ndarray:
    o = d.orders
    n_ord = o.groupby("row")["idx"].transform("max").to_numpy() + 1
    idx = o["idx"].to_numpy()
    group = idx // m
    n_groups = (n_ord - 1) // m + 1
    last_group_size = n_ord - (n_groups - 1) * m
    size = np.where(group == n_groups - 1, last_group_size, m)
    j = idx - group * m  # position in its group, 0 = oldest
    w = r_b ** (size - 1 - j) / size  # within-group decayed mean
    w = w * r_g ** (n_groups - 1 - group) / n_groups  # across groups
    weight = pd.Series(w, index=pd.MultiIndex.from_arrays([o["row"], o["idx"]]))
    ln = d.lines
    lw = weight.reindex(pd.MultiIndex.from_arrays([ln["row"], ln["idx"]])).to_numpy()
    v = np.zeros((len(d.stores), len(d.products)), dtype=np.float32)
    np.add.at(v, (ln["row"].to_numpy(), ln["col"].to_numpy()), lw.astype(np.float32))
    return v


def tifu_knn(d: _Data, m: int, r_b: float, r_g: float, k: int, alpha: float) -> np.ndarray:
    key = ("tifu", m, r_b, r_g)
    if key not in d.cache:
        v = _tifu_vectors(d, m, r_b, r_g)
        t = v[d.targets]
        sq = (v * v).sum(axis=1)
        dist = sq[d.targets][:, None] + sq[None, :] - 2 * (t @ v.T)
        dist[np.arange(len(d.targets)), d.targets] = np.inf  # not its own neighbour
        kmax = min(max(*TIFU_K, k), len(d.stores) - 1)
        nn = np.argpartition(dist, kmax - 1, axis=1)[:, :kmax] if kmax > 0 else None
        if nn is not None:  # nearest first, so any k ≤ kmax is a prefix
            nn = np.take_along_axis(
                nn, np.argsort(np.take_along_axis(dist, nn, axis=1), axis=1), axis=1
            )
        d.cache[key] = (v, t, nn)
    v, t, nn = d.cache[key]
    if nn is None:
        return np.asarray(t)
    neigh = np.stack([v[row[:k]].mean(axis=0) for row in nn]) if len(nn) else t
    return np.asarray(alpha * t + (1 - alpha) * neigh)


def up_cf(d: _Data, r: int, alpha: float, q: float) -> np.ndarray:
    key = ("upcf", r)
    if key not in d.cache:
        o_last = d.orders.groupby("row")["idx"].transform("max")
        recent = d.orders[d.orders["idx"] > o_last - r]
        n_recent = recent.groupby("row").size().reindex(np.arange(len(d.stores))).fillna(1)
        ln = d.lines.merge(recent[["row", "idx"]], on=["row", "idx"])
        pop = np.zeros((len(d.stores), len(d.products)), dtype=np.float32)
        np.add.at(pop, (ln["row"].to_numpy(), ln["col"].to_numpy()), 1.0)
        pop /= n_recent.to_numpy(dtype=np.float32)[:, None]
        items = (pop > 0).astype(np.float32)
        d.cache[key] = (pop, items[d.targets] @ items.T, np.maximum(items.sum(axis=1), 1))
    pop, inter, n_items = d.cache[key]
    sim = inter / (n_items[d.targets][:, None] ** alpha * n_items[None, :] ** (1 - alpha))
    return np.asarray((sim**q) @ pop)


METHODS: dict[str, tuple[Callable[..., np.ndarray], Grid]] = {
    "P-TopFreq": (p_topfreq, {}),
    "GP-TopFreq": (gp_topfreq, {}),
    "TIFU-KNN": (tifu_knn, TIFU_GRID),
    "UP-CF@r": (up_cf, UPCF_GRID),
}


def _f1(pred: pd.DataFrame, actual: pd.DataFrame) -> float:
    hits = len(pred[["s", "p"]].merge(actual[["s", "p"]], on=["s", "p"]))
    p = hits / len(pred) if len(pred) else 0.0
    r = hits / len(actual) if len(actual) else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def tune(lines: pd.DataFrame, origin: int, horizon_days: int) -> dict[str, dict[str, float]]:
    """Each method's hyper-parameters and basket-size factor, by next-order F1 at the inner
    origin ``origin − horizon_days`` (everything seen there happened before ``origin``)."""
    inner = origin - horizon_days
    known = lines[lines["day"] < inner]
    actual = next_orders(lines[lines["day"] < origin], inner, origin)
    stores = actual["s"].unique()
    if len(stores) > TUNE_STORES:
        stores = np.random.default_rng(7).choice(stores, TUNE_STORES, replace=False)
        actual = actual[actual["s"].isin(stores)]
    d = _prepare(known, inner, stores)
    chosen: dict[str, dict[str, float]] = {}
    for name, (fn, grid) in METHODS.items():
        best: tuple[float, dict[str, float]] = (-1.0, {})
        for values in itertools.product(*grid.values()) if grid else [()]:
            params = dict(zip(grid.keys(), values, strict=True))
            scores = fn(d, **params)
            for c in SIZE_FACTORS:
                f = _f1(_baskets(d, scores, c), actual)
                if f > best[0]:
                    best = (f, {**params, "size_factor": c})
        chosen[name] = best[1]
    return chosen


def predict(
    known: pd.DataFrame, origin: int, targets: np.ndarray, chosen: dict[str, dict[str, float]]
) -> dict[str, pd.DataFrame]:
    """Each method's basket (s, p, qty) for the target stores at ``origin``."""
    d = _prepare(known, origin, targets)
    out = {}
    for name, (fn, _grid) in METHODS.items():
        params = dict(chosen[name])
        factor = params.pop("size_factor")
        out[name] = _baskets(d, fn(d, **params), factor)
    return out
