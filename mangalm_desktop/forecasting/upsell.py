"""Upsell: products that stores like this one buy and this one does not.

"Stores like this one" are its nearest neighbours by cosine similarity of what they bought
in the last year (store × product 0/1 purchases, kept as sorted index arrays). A product's
score is how many of the neighbours buy it — which is also the evidence shown to the agent
("bought by 34 of 40 similar stores"). Products the store already buys are never suggested.

The similarity of two stores is ``overlap × (1/√n₁)(1/√n₂)`` summed term by term in float32,
exactly as the earlier scipy.sparse product did, so the chosen neighbours (ties included)
and therefore the suggestions are the same as before SciPy was dropped (issue 11).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ragged import (
    distinct_pairs,
    repeated_sum_f32,
    row_pointers,
    stable_order,
    tagged_entries,
)

CHUNK_STORES = 64
"""Stores scored together. Small on purpose: the chunk's store × store overlap counts are
filled by scattered increments, which run at full speed only while they fit in cache."""


@dataclass(frozen=True)
class UpsellConfig:
    neighbours: int = 40
    top_n: int = 5
    lookback_days: int = 365


@dataclass(frozen=True)
class _Purchases:
    """Distinct (store, product) pairs, sorted by store then product, with both indexes."""

    product: np.ndarray
    by_store: np.ndarray  # row pointers into (store, product)
    buyers: np.ndarray  # stores, ordered by product
    by_product: np.ndarray  # row pointers into buyers


def _purchases(lines: pd.DataFrame, n_stores: int, n_products: int) -> _Purchases:
    store, product = distinct_pairs(lines["s"].to_numpy(), lines["p"].to_numpy(), n_products)
    order = stable_order(product, n_products)
    return _Purchases(
        product,
        row_pointers(store, n_stores),
        store[order],
        row_pointers(product[order], n_products),
    )


def similar_store_upsell(
    train: pd.DataFrame,
    stores: np.ndarray,
    cutoff: int,
    n_stores: int,
    n_products: int,
    cfg: UpsellConfig = UpsellConfig(),
) -> pd.DataFrame:
    """Top products per store: columns s, p, rank, buyers (similar stores buying), neighbours."""
    recent = _purchases(train[train["day"] >= cutoff - cfg.lookback_days], n_stores, n_products)
    size = np.diff(recent.by_store).astype(np.float32)
    inv = np.float32(1.0) / np.maximum(np.sqrt(size), np.float32(1e-9))
    stores = np.asarray(stores, dtype=np.int64)
    stores = stores[size[stores] > 0]
    # what the scored stores ever bought (never suggested back); only their lines are needed
    ever = _purchases(train[np.isin(train["s"].to_numpy(), stores)], n_stores, n_products)
    k = min(cfg.neighbours, n_stores - 1)
    if CHUNK_STORES * max(n_stores, n_products) >= 2**31:  # int32 join keys
        raise ValueError(f"upsell: {n_stores} stores × {n_products} products is too many")
    parts = []
    for lo in range(0, len(stores) if k > 0 else 0, CHUNK_STORES):
        st = stores[lo : lo + CHUNK_STORES]
        nb, n_nb = _neighbours(recent, inv, st, n_stores, k)
        parts.append(_top_products(recent, ever, st, nb, n_nb, n_products, cfg.top_n))
    cols = ["s", "p", "rank", "buyers", "neighbours"]
    if not parts:
        return pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in cols})
    return pd.DataFrame(dict(zip(cols, np.concatenate(parts, axis=1), strict=True)))


def _neighbours(
    recent: _Purchases, inv: np.ndarray, st: np.ndarray, n_stores: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar stores of each store in ``st`` ([len(st), k]; -1 where the
    similarity is not positive) and how many there are per row."""
    # overlap counts: each (store, product) of the chunk meets every buyer of that product
    local = np.arange(len(st))
    prod = tagged_entries(recent.by_store, recent.product, st, np.zeros(len(st)))
    owner = np.repeat(local * n_stores, np.diff(recent.by_store)[st])
    key = tagged_entries(recent.by_product, recent.buyers, prod, owner)
    overlap = np.bincount(key, minlength=len(st) * n_stores).reshape(len(st), n_stores)
    overlap[local, st] = 0  # a store is not its own neighbour (its similarity becomes -1)
    ci, cj = np.nonzero(overlap)
    step = inv[st][ci] * inv[cj]  # float32 products, as the sparse product formed them
    sim = np.zeros((len(st), n_stores), dtype=np.float32)
    sim[ci, cj] = repeated_sum_f32(step, overlap[ci, cj])
    sim[np.arange(len(st)), st] = -1.0
    nb = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    positive = np.take_along_axis(sim, nb, axis=1) > 0
    return np.where(positive, nb, -1), positive.sum(axis=1)


def _top_products(
    recent: _Purchases,
    ever: _Purchases,
    st: np.ndarray,
    nb: np.ndarray,
    n_nb: np.ndarray,
    n_products: int,
    top_n: int,
) -> np.ndarray:
    """[5, rows] of (s, p, rank, buyers, neighbours), best first per store, buyers > 0."""
    i, j = np.nonzero(nb >= 0)
    key = tagged_entries(recent.by_store, recent.product, nb[i, j], i * n_products)
    counts = np.bincount(key, minlength=len(st) * n_products).reshape(len(st), n_products)
    own = np.repeat(np.arange(len(st)), np.diff(ever.by_store)[st])
    counts[own, tagged_entries(ever.by_store, ever.product, st, np.zeros(len(st)))] = -1
    # best first: most buyers, then lowest product code (a stable sort of -count per row)
    kth = min(top_n, n_products) - 1
    if kth < 0:
        return np.zeros((5, 0), dtype=np.int64)
    # only counts reaching each row's top_n-th largest can make it (a cheap pre-filter)
    floor = np.maximum(-np.partition(-counts, kth, axis=1)[:, kth], 1)
    r, p = np.nonzero(counts >= floor[:, None])
    c = counts[r, p]
    order = np.lexsort((p, -c, r))
    r, p, c = r[order], p[order], c[order]
    rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
    keep = rank < top_n
    r, p, c, rank = r[keep], p[keep], c[keep], rank[keep]
    return np.stack([st[r], p, rank, c, n_nb[r]]).astype(np.int64)


def popular_products(
    train: pd.DataFrame, stores: np.ndarray, cutoff: int, top_n: int = 5, days: int = 91
) -> pd.DataFrame:
    """Baseline: the products most stores bought lately that the store has never bought."""
    recent = train[train["day"] >= cutoff - days]
    pop = recent.groupby("p")["s"].nunique().sort_values(ascending=False, kind="stable")
    ranked = pop.index.to_numpy()[: top_n * 20]
    bought = set(zip(train["s"].to_numpy().tolist(), train["p"].to_numpy().tolist(), strict=True))
    rows = []
    for s in np.asarray(stores).tolist():
        r = 0
        for p in ranked.tolist():
            if (s, p) in bought:
                continue
            rows.append((s, p, r))
            r += 1
            if r >= top_n:
                break
    return pd.DataFrame(rows, columns=["s", "p", "rank"])


def precision_at(suggested: pd.DataFrame, bought: pd.DataFrame) -> tuple[int, int]:
    """(hits, suggestions): suggested (s, p) that appear in ``bought`` (s, p)."""
    if len(suggested) == 0:
        return 0, 0
    b = bought[["s", "p"]].drop_duplicates().assign(hit=1)
    m = suggested[["s", "p"]].merge(b, on=["s", "p"], how="left")
    return int(m["hit"].fillna(0).sum()), len(suggested)
