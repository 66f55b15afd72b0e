"""What is known about each (store, product) pair at a cut-off day, as numeric features.

The next-order basket is a ranking question ("which products will be on this store's next
order?"), so the features are the ones an experienced agent reads off past invoices:
how often the store takes the product, how many of its orders ago it last did, how that
compares with its usual interval, whether it bought it this time last year, and whether
the product is selling well across all stores right now. All computed with pandas
group-bys over integer codes, so a full cut-off on 600k lines takes about a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ragged import distinct_pairs, row_pointers, stable_order, tagged_entries

STORE_EXTRA = [
    "store_last_size",
    "store_mean_basket",
    "store_max_basket",
    "store_orders_91",
    "store_orders_365",
    "store_distinct",
    "store_last_new_share",
]

FEATURES = [
    "cnt",
    "frac_all",
    "frac_since_first",
    "in_last1",
    "in_last3",
    "in_last5",
    "orders_since",
    "days_since",
    "days_since_rel_gap",
    "pair_gap_ratio",
    "store_orders",
    "store_days_since_order",
    "store_gap",
    "store_basket",
    "store_repeat_rate",
    "qty_med",
    "ly_window",
    "prod_stores_28",
    "prod_stores_91",
    "prod_trend",
    "prod_ly_ratio",
    "prod_age",
    "prod_repeat_rate",
    *STORE_EXTRA,
    "cf_last1",
    "cf_last3",
]

CF_WINDOW_DAYS = 365
"""Co-purchase is counted over the orders of the last year before the cut-off."""

CF_BLOCK_CELLS = 1 << 21
"""Co-purchase similarities are built this many (product, product) cells at a time
(about 16 MB with the counts), a block of candidate products against all products."""


def store_orders(train: pd.DataFrame) -> pd.DataFrame:
    """One row per order (store, day), with its index in the store's sequence and its size."""
    so = train.groupby(["s", "day"], sort=False).size().rename("n_lines").reset_index()
    so = so.sort_values(["s", "day"], kind="stable").reset_index(drop=True)
    so["idx"] = so.groupby("s").cumcount().astype(np.int32)
    return so


def store_stats(so: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """Per store: number of orders, median gap between orders (days), days since last order."""
    g = so.groupby("s")
    st = pd.DataFrame(
        {
            "store_orders": g.size(),
            "last_order": g["day"].max(),
            "store_basket": g["n_lines"].median(),
        }
    )
    gaps = so["day"].diff()
    gaps[so["idx"] == 0] = np.nan
    st["store_gap"] = gaps.groupby(so["s"]).median().reindex(st.index)
    st["store_days_since_order"] = cutoff - st["last_order"]
    # basket size and buying rhythm: a store whose orders hold 80 lines takes more of its
    # candidates than one that orders 5, whatever the pair history says
    last = so.groupby("s")["idx"].transform("max") == so["idx"]
    st["store_last_size"] = so.loc[last.to_numpy(), ["s", "n_lines"]].set_index("s")["n_lines"]
    st["store_mean_basket"] = g["n_lines"].mean()
    st["store_max_basket"] = g["n_lines"].max()
    for days in (91, 365):
        recent = so[so["day"] >= cutoff - days].groupby("s").size()
        st[f"store_orders_{days}"] = recent.reindex(st.index).fillna(0)
    return st


def pair_features(
    train: pd.DataFrame, cutoff: int, horizon_days: int, new_per_store: int = 0
) -> pd.DataFrame:
    """Features for every (store, product) pair bought before ``cutoff``, plus, when
    ``new_per_store`` > 0, that many of the products most stores are buying right now that
    the store has never bought (a gift wholesaler's next order is half new lines; ``cnt`` is
    0 for these rows and the pair-history features are missing).

    ``train`` must hold only lines with ``day < cutoff``. Returns columns ``s``, ``p`` and
    :data:`FEATURES` (float32), plus ``qty_last`` and ``last_day`` for the reasons shown to
    users.
    """
    so = store_orders(train)
    st = store_stats(so, cutoff)
    t = train[["s", "p", "day", "qty"]].merge(so[["s", "day", "idx"]], on=["s", "day"], how="left")
    t = t.sort_values(["s", "p", "day"], kind="stable")
    g = t.groupby(["s", "p"], sort=False)
    pf = g.agg(
        cnt=("day", "size"),
        first_day=("day", "min"),
        last_day=("day", "max"),
        first_idx=("idx", "min"),
        last_idx=("idx", "max"),
        qty_last=("qty", "last"),
    )
    # how much of what the store buys is a repeat (a shop that explores vs one that restocks)
    t["repeat"] = (g.cumcount() > 0).to_numpy()
    rep_rate = t[t["idx"] > 0].groupby("s")["repeat"].mean()
    # typical quantity: median of the last three purchases
    t["rev"] = g.cumcount(ascending=False)
    pf["qty_med"] = t[t["rev"] < 3].groupby(["s", "p"], sort=False)["qty"].median()
    pf = pf.reset_index()
    n_ord = st["store_orders"].reindex(pf["s"]).to_numpy()
    pf["orders_since"] = n_ord - 1 - pf["last_idx"].to_numpy()
    # how many of the store's last k orders contain the product
    t_ord = st["store_orders"].reindex(t["s"]).to_numpy()
    t_rev = t_ord - 1 - t["idx"].to_numpy()
    for k in (1, 3, 5):
        m = t_rev < k
        c = t[m].groupby(["s", "p"]).size()
        pf[f"in_last{k}"] = c.reindex(pd.MultiIndex.from_arrays([pf["s"], pf["p"]])).fillna(
            0
        ).to_numpy() / np.minimum(n_ord, k)
    pf["frac_all"] = pf["cnt"] / n_ord
    pf["frac_since_first"] = pf["cnt"] / (n_ord - pf["first_idx"].to_numpy())
    pf["days_since"] = cutoff - pf["last_day"]
    store_gap = st["store_gap"].reindex(pf["s"]).to_numpy()
    pf["store_gap"] = store_gap
    pf["days_since_rel_gap"] = pf["days_since"] / np.where(np.isnan(store_gap), 60.0, store_gap + 1)
    span = (pf["last_day"] - pf["first_day"]).to_numpy()
    pair_gap = np.where(pf["cnt"] > 1, span / np.maximum(pf["cnt"].to_numpy() - 1, 1), np.nan)
    pf["pair_gap_ratio"] = pf["days_since"] / (pair_gap + 1)
    pf["store_orders"] = n_ord
    pf["store_days_since_order"] = st["store_days_since_order"].reindex(pf["s"]).to_numpy()
    pf["store_basket"] = st["store_basket"].reindex(pf["s"]).to_numpy()
    st["store_repeat_rate"] = rep_rate.reindex(st.index)
    pf["store_repeat_rate"] = st["store_repeat_rate"].reindex(pf["s"]).to_numpy()
    st["store_distinct"] = pf.groupby("s").size().reindex(st.index)
    # share of the last order's lines that were new to the store (is it exploring now?)
    t_last = t_rev == 0
    new_last = pd.Series(~t["repeat"].to_numpy()[t_last], index=t["s"].to_numpy()[t_last])
    st["store_last_new_share"] = new_last.astype(float).groupby(level=0).mean().reindex(st.index)
    for c in STORE_EXTRA:
        pf[c] = st[c].reindex(pf["s"]).to_numpy()

    # this time last year (seasonal gifts): bought in the same window a year before?
    ly0, ly1 = cutoff - 364, cutoff - 364 + horizon_days
    d = t["day"].to_numpy()
    ly = t[(d >= ly0) & (d < ly1)].groupby(["s", "p"]).size()
    pf["ly_window"] = (
        ly.reindex(pd.MultiIndex.from_arrays([pf["s"], pf["p"]])).fillna(0).to_numpy() > 0
    ).astype(np.float32)

    # product momentum across all stores
    dd = train["day"].to_numpy()
    pr = pd.DataFrame(index=pd.RangeIndex(int(train["p"].max()) + 1 if len(train) else 0))
    for name, lo, hi in (
        ("prod_stores_28", cutoff - 28, cutoff),
        ("prod_stores_91", cutoff - 91, cutoff),
        ("prod_ly_next", ly0, ly1),
        ("prod_ly_prev", ly0 - horizon_days, ly0),
    ):
        sel = train[(dd >= lo) & (dd < hi)]
        pr[name] = sel.groupby("p")["s"].nunique().reindex(pr.index).fillna(0)
    pr["first_sold"] = train.groupby("p")["day"].min().reindex(pr.index)
    pp = pf["p"].to_numpy()
    pf["prod_stores_28"] = pr["prod_stores_28"].to_numpy()[pp]
    pf["prod_stores_91"] = pr["prod_stores_91"].to_numpy()[pp]
    pf["prod_trend"] = (pf["prod_stores_28"] + 1) / (pf["prod_stores_91"] / 3.25 + 1)
    pf["prod_ly_ratio"] = (pr["prod_ly_next"].to_numpy()[pp] + 1) / (
        pr["prod_ly_prev"].to_numpy()[pp] + 1
    )
    pf["prod_age"] = cutoff - pr["first_sold"].to_numpy()[pp]
    # share of the product's buyers who came back for it: staples vs one-off novelties
    buyers = pf.groupby("p")["cnt"].agg(n="size", again=lambda c: (c > 1).sum())
    pr["prod_repeat_rate"] = ((buyers["again"] + 1) / (buyers["n"] + 2)).reindex(pr.index)
    pf["prod_repeat_rate"] = pr["prod_repeat_rate"].to_numpy()[pp]
    if new_per_store > 0 and len(pf):
        new = _new_candidates(train, pf, st, pr, cutoff, new_per_store)
        if len(new):  # concatenating an empty frame changes nothing but draws a pandas warning
            pf = pd.concat([pf, new])
        pf = pf.reset_index(drop=True)
    pf["cf_last1"], pf["cf_last3"] = co_purchase(train, t, t_rev, pf, cutoff)
    for c in FEATURES:
        pf[c] = pf[c].astype(np.float32)
    return pf[["s", "p", *FEATURES, "qty_last", "last_day", "first_day"]]


def co_purchase(
    train: pd.DataFrame, t: pd.DataFrame, t_rev: np.ndarray, pf: pd.DataFrame, cutoff: int
) -> tuple[np.ndarray, np.ndarray]:
    """How well each candidate goes with the store's latest order(s): the mean cosine
    co-purchase similarity (over all stores' orders of the last year) between the candidate
    and the products of the store's last order, and of its last three orders.

    Memory follows the co-purchased pairs, not products²: the similarity columns are built a
    block of candidate products at a time. Each candidate's sum runs over the store's recent
    products in ascending code order, one float32 addition at a time — the order the earlier
    scipy.sparse product used — so the features are bit for bit what they were (issue 11).
    """
    n_p = int(max(train["p"].max(), pf["p"].max())) + 1 if len(train) else 1
    win = train[train["day"].to_numpy() >= cutoff - CF_WINDOW_DAYS]
    if len(win) == 0 or len(pf) == 0:
        return np.zeros(len(pf)), np.zeros(len(pf))
    # one store-day is one order; a product counts once in it
    oid = win.groupby(["s", "day"], sort=False).ngroup().to_numpy()
    order_p = distinct_pairs(oid, win["p"].to_numpy(), n_p)
    o_ptr = row_pointers(order_p[0], int(oid.max()) + 1)
    by_p = stable_order(order_p[1], n_p)
    p_orders, p_ptr = order_p[0][by_p], row_pointers(order_p[1][by_p], n_p)
    # cosine normalisation by the square root of the product's order count, in float32
    norm = np.sqrt(np.diff(p_ptr).astype(np.float32))
    norm[norm == 0] = 1.0
    inv = np.float32(1.0) / norm

    cand_s, cand_p = pf["s"].to_numpy(), pf["p"].to_numpy()
    n_s = int(max(cand_s.max(), t["s"].max())) + 1
    recent = []
    for k in (1, 3):
        m = t_rev < k
        s_p = distinct_pairs(t["s"].to_numpy()[m], t["p"].to_numpy()[m], n_p)
        recent.append((row_pointers(s_p[0], n_s), s_p[1]))
    out = [np.zeros(len(pf), dtype=np.float32) for _ in recent]
    by_q = stable_order(cand_p, n_p)
    block = int(np.clip(CF_BLOCK_CELLS // n_p, 16, n_p))
    for q0 in range(0, n_p, block):
        q1 = min(q0 + block, n_p)
        lo, hi = np.searchsorted(cand_p[by_q], [q0, q1])
        if lo == hi:
            continue
        cos = _cosine_columns(o_ptr, order_p[1], p_orders, p_ptr, inv, q0, q1, n_p)
        cands = by_q[lo:hi]
        for (r_ptr, r_p), res in zip(recent, out, strict=True):
            res[cands] = _ordered_sums(cos, r_ptr, r_p, cand_s[cands], cand_p[cands] - q0)
    result = []
    for (r_ptr, _), res in zip(recent, out, strict=True):
        n = np.diff(r_ptr).astype(np.float32)[cand_s]
        result.append(res / np.maximum(n, np.float32(1.0)))
    return result[0], result[1]


def _cosine_columns(
    o_ptr: np.ndarray,
    o_products: np.ndarray,
    p_orders: np.ndarray,
    p_ptr: np.ndarray,
    inv: np.ndarray,
    q0: int,
    q1: int,
    n_p: int,
) -> np.ndarray:
    """``cos[q - q0, p]`` for products ``q0 <= q < q1``: co-purchase counts scaled first by
    p's and then by q's inverse norm in float32 (as the sparse product did); 0 for q == p."""
    q_orders = p_orders[p_ptr[q0] : p_ptr[q1]]
    q_local = np.repeat(np.arange(q1 - q0), np.diff(p_ptr[q0 : q1 + 1]))
    key = tagged_entries(o_ptr, o_products, q_orders, q_local * n_p)
    co = np.bincount(key, minlength=(q1 - q0) * n_p).reshape(q1 - q0, n_p)
    cos = co.astype(np.float32) * inv[None, :]
    cos *= inv[q0:q1, None]
    cos[np.arange(q1 - q0), np.arange(q0, q1)] = 0.0
    return cos


def _ordered_sums(
    cos: np.ndarray, r_ptr: np.ndarray, r_p: np.ndarray, stores: np.ndarray, q_local: np.ndarray
) -> np.ndarray:
    """For each candidate, the float32 sum of ``cos[q_local, p]`` over its store's recent
    products ``p`` in ascending order, added one at a time. Candidates are handled in rounds
    (round j adds every candidate's j-th product), longest lists first, so each round works
    on a prefix and the whole costs one gather per (candidate, recent product)."""
    flat = cos.ravel()
    length = np.diff(r_ptr)[stores]
    order = np.argsort(-length, kind="stable")
    length = length[order]
    cur = r_ptr[stores][order].astype(np.int64)
    base = (q_local[order] * cos.shape[1]).astype(np.int64)
    acc = np.zeros(len(order), dtype=np.float32)
    idx = np.empty(len(order), dtype=np.int64)
    val = np.empty(len(order), dtype=np.float32)
    rounds = np.searchsorted(-length, -np.arange(1, int(length[0]) + 1), side="right")
    for cnt in rounds.tolist():
        np.take(r_p, cur[:cnt], out=idx[:cnt])
        idx[:cnt] += base[:cnt]
        np.take(flat, idx[:cnt], out=val[:cnt])
        acc[:cnt] += val[:cnt]
        cur[:cnt] += 1
    out = np.empty_like(acc)
    out[order] = acc
    return out


def _new_candidates(
    train: pd.DataFrame,
    pf: pd.DataFrame,
    st: pd.DataFrame,
    pr: pd.DataFrame,
    cutoff: int,
    n: int,
) -> pd.DataFrame:
    """The ``n`` products bought by most stores in the last 28 days that a store never bought."""
    top = pr["prod_stores_28"].sort_values(ascending=False, kind="stable").index.to_numpy()
    top = top[: 3 * n].astype(np.int32)
    stores = st.index.to_numpy().astype(np.int32)
    cand = pd.DataFrame(
        {
            "s": np.repeat(stores, len(top)),
            "p": np.tile(top, len(stores)),
            "rank": np.tile(np.arange(len(top)), len(stores)),
        }
    )
    known = pf[["s", "p"]].assign(known=True)
    cand = cand.merge(known, on=["s", "p"], how="left")
    cand = cand[cand["known"].isna()].drop(columns="known")
    cand = cand[cand.groupby("s").cumcount() < n].reset_index(drop=True)
    pp = cand["p"].to_numpy()
    ss = cand["s"].to_numpy()
    prod_qty = train.groupby("p")["qty"].median().reindex(pr.index).to_numpy()
    out = pd.DataFrame({"s": ss, "p": pp})
    for c in ("cnt", "frac_all", "frac_since_first", "in_last1", "in_last3", "in_last5"):
        out[c] = 0.0
    out["ly_window"] = 0.0
    for c in ("orders_since", "days_since", "days_since_rel_gap", "pair_gap_ratio"):
        out[c] = np.nan
    for c in (
        "store_orders",
        "store_days_since_order",
        "store_gap",
        "store_basket",
        "store_repeat_rate",
        *STORE_EXTRA,
    ):
        out[c] = st[c].reindex(ss).to_numpy()
    out["qty_med"] = prod_qty[pp]
    out["prod_stores_28"] = pr["prod_stores_28"].to_numpy()[pp]
    out["prod_stores_91"] = pr["prod_stores_91"].to_numpy()[pp]
    out["prod_trend"] = (out["prod_stores_28"] + 1) / (out["prod_stores_91"] / 3.25 + 1)
    ly0 = pr["prod_ly_next"].to_numpy()[pp]
    out["prod_ly_ratio"] = (ly0 + 1) / (pr["prod_ly_prev"].to_numpy()[pp] + 1)
    out["prod_age"] = cutoff - pr["first_sold"].to_numpy()[pp]
    out["prod_repeat_rate"] = pr["prod_repeat_rate"].to_numpy()[pp]
    out["qty_last"] = np.nan
    out["last_day"] = np.nan
    out["first_day"] = np.nan
    return out


def next_orders(lines: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """Each store's first order with ``start <= day < end``: rows ``s``, ``p``, ``qty``, ``day``."""
    w = lines[(lines["day"] >= start) & (lines["day"] < end)]
    first = w.groupby("s")["day"].transform("min")
    return w[w["day"] == first][["s", "p", "qty", "day"]].reset_index(drop=True)
