"""The forecasting code's previous SciPy implementations, kept verbatim as the yardstick.

The app itself no longer uses SciPy (issue 11: the field installer ships without it); the
equality tests in ``tests/unit/test_no_scipy_equal.py`` and ``benchmarks/no_scipy_bench.py``
run these next to the NumPy replacements and demand the same numbers. SciPy is available in
the dev environment (statsforecast depends on it), and only there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import sparse
from scipy.optimize import nnls

from mangalm_desktop.forecasting.features import CF_WINDOW_DAYS
from mangalm_desktop.forecasting.upsell import UpsellConfig

__all__ = ["co_purchase", "nnls", "similar_store_upsell"]


def co_purchase(
    train: pd.DataFrame, t: pd.DataFrame, t_rev: np.ndarray, pf: pd.DataFrame, cutoff: int
) -> tuple[np.ndarray, np.ndarray]:
    """features.co_purchase as of commit 6940db4 (scipy.sparse)."""
    n_p = int(max(train["p"].max(), pf["p"].max())) + 1 if len(train) else 1
    win = train[train["day"].to_numpy() >= cutoff - CF_WINDOW_DAYS]
    if len(win) == 0 or len(pf) == 0:
        return np.zeros(len(pf)), np.zeros(len(pf))
    oid = win.groupby(["s", "day"], sort=False).ngroup().to_numpy()
    x = sp.csr_matrix(
        (np.ones(len(win), np.float32), (oid, win["p"].to_numpy())), shape=(oid.max() + 1, n_p)
    )
    x.data[:] = 1.0
    co = (x.T @ x).tocsr()
    norm = np.sqrt(co.diagonal()).astype(np.float32)
    norm[norm == 0] = 1.0
    inv = sp.diags(1.0 / norm)
    cos = (inv @ co @ inv).tocsr()
    cos.setdiag(0.0)
    stores, s_row = np.unique(pf["s"].to_numpy(), return_inverse=True)
    row_of = pd.Series(np.arange(len(stores)), index=stores)
    out = []
    for k in (1, 3):
        m = (t_rev < k) & np.isin(t["s"].to_numpy(), stores)
        r = row_of.reindex(t["s"].to_numpy()[m]).to_numpy()
        recent = sp.csr_matrix(
            (np.ones(int(m.sum()), np.float32), (r, t["p"].to_numpy()[m])),
            shape=(len(stores), n_p),
        )
        recent.data[:] = 1.0
        n = np.asarray(recent.sum(axis=1)).ravel()
        score = (recent @ cos).tocsr()
        vals = np.asarray(score[s_row, pf["p"].to_numpy()]).ravel()
        out.append(vals / np.maximum(n[s_row], 1.0))
    return out[0], out[1]


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
    cfg: UpsellConfig = UpsellConfig(),  # noqa: B008 (frozen dataclass, as in the original)
) -> pd.DataFrame:
    """upsell.similar_store_upsell as of commit 6940db4 (scipy.sparse)."""
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
        counts[ever[st].toarray() > 0] = -1
        n_nb = np.asarray(ind.sum(axis=1)).ravel()
        top = np.argsort(-counts, axis=1, kind="stable")[:, : cfg.top_n]
        top_counts = np.take_along_axis(counts, top, axis=1)
        for i, s in enumerate(st):
            for r in range(top.shape[1]):
                if top_counts[i, r] > 0:
                    rows.append((int(s), int(top[i, r]), r, int(top_counts[i, r]), int(n_nb[i])))
    return pd.DataFrame(rows, columns=["s", "p", "rank", "buyers", "neighbours"])
