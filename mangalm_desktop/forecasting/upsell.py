"""Upsell: products that stores like this one buy and this one does not.

"Stores like this one" are its nearest neighbours by cosine similarity of what they bought
in the last year (a store × product 0/1 matrix, scipy sparse). A product's score is how many
of the neighbours buy it — which is also the evidence shown to the agent ("bought by 34 of
40 similar stores"). Products the store already buys are never suggested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass(frozen=True)
class UpsellConfig:
    neighbours: int = 40
    top_n: int = 5
    lookback_days: int = 365


def _matrix(lines: pd.DataFrame, n_stores: int, n_products: int) -> sparse.csr_matrix:
    pairs = lines[["s", "p"]].drop_duplicates()
    data = np.ones(len(pairs), dtype=np.float32)
    return sparse.csr_matrix(
        (data, (pairs["s"].to_numpy(), pairs["p"].to_numpy())), shape=(n_stores, n_products)
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
    recent = train[train["day"] >= cutoff - cfg.lookback_days]
    b = _matrix(recent, n_stores, n_products)
    ever = _matrix(train, n_stores, n_products)
    norms = np.sqrt(np.asarray(b.sum(axis=1)).ravel())
    bn = sparse.diags(1.0 / np.maximum(norms, 1e-9)) @ b
    stores = np.asarray(stores, dtype=np.int64)
    stores = stores[norms[stores] > 0]
    rows = []
    chunk = 512
    for lo in range(0, len(stores), chunk):
        st = stores[lo : lo + chunk]
        sim = (bn[st] @ bn.T).toarray()
        sim[np.arange(len(st)), st] = -1.0
        k = min(cfg.neighbours, n_stores - 1)
        nb = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        nb_sim = np.take_along_axis(sim, nb, axis=1)
        ind = sparse.csr_matrix(
            (
                (nb_sim > 0).astype(np.float32).ravel(),
                (np.repeat(np.arange(len(st)), k), nb.ravel()),
            ),
            shape=(len(st), n_stores),
        )
        counts = (ind @ b).toarray()
        counts[ever[st].toarray() > 0] = -1  # already buys it (ever)
        n_nb = np.asarray(ind.sum(axis=1)).ravel()
        top = np.argsort(-counts, axis=1, kind="stable")[:, : cfg.top_n]
        top_counts = np.take_along_axis(counts, top, axis=1)
        for i, s in enumerate(st):
            for r in range(top.shape[1]):
                if top_counts[i, r] > 0:
                    rows.append((int(s), int(top[i, r]), r, int(top_counts[i, r]), int(n_nb[i])))
    return pd.DataFrame(rows, columns=["s", "p", "rank", "buyers", "neighbours"])


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
