"""Call priority: which stores to ring first, and which are slipping away.

Score = expected order value × how overdue the store is against its own cadence. Expected
value is Σ P(product on next order) × typical quantity × price over the store's candidates
(the basket model's probabilities), so a big store that is late comes before a small store
that is late, and a store that just ordered waits. A store is flagged at churn risk when it
is silent for more than three of its usual intervals (and over 30 days), or when its orders
in the last 90 days fell below half of the 90 days before; the flag carries the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def product_prices(train: pd.DataFrame, n_products: int) -> np.ndarray:
    """Median unit price per product code (0 when unknown)."""
    pr = train.groupby("p")["price"].median().reindex(pd.RangeIndex(n_products))
    return pr.fillna(0).to_numpy(dtype=float)


def call_priority(
    store_stats: pd.DataFrame,
    scored: pd.DataFrame,
    prices: np.ndarray,
    default_gap_days: float = 28.0,
    orders_recent: pd.Series | None = None,
    orders_before: pd.Series | None = None,
) -> pd.DataFrame:
    """Rank stores. ``store_stats`` from :func:`features.store_stats` (index = store code);
    ``scored`` has s, p, prob, qty for candidate lines. Returns s, rank (0 = call first),
    score, expected_value, overdue, gap_days, days_since, churn_risk, churn_reason.
    """
    value = scored["prob"].to_numpy() * scored["qty"].to_numpy() * prices[scored["p"].to_numpy()]
    ev = pd.Series(value, dtype=float).groupby(scored["s"].to_numpy()).sum()
    out = pd.DataFrame(index=store_stats.index)
    out["expected_value"] = ev.reindex(out.index).fillna(0).to_numpy()
    gap = store_stats["store_gap"].fillna(default_gap_days).clip(lower=1).to_numpy()
    since = store_stats["store_days_since_order"].to_numpy().astype(float)
    out["gap_days"] = gap
    out["days_since"] = since
    ratio = since / gap
    out["overdue"] = ratio
    silent = (since > 3 * gap) & (since > 30)
    # Late is urgent; very late (3+ intervals) is more likely gone than about to order, so
    # its weight decays and the churn flag, not the ranking, brings it to the agent's eye.
    urgency = np.where(ratio <= 3, np.minimum(ratio, 1.5), 1.5 * 3 / np.maximum(ratio, 1e-9))
    out["score"] = out["expected_value"] * urgency
    reasons = np.where(
        silent,
        [
            f"no order for {int(d)} days; usually every {int(round(g))}"
            for d, g in zip(since, gap, strict=True)
        ],
        "",
    )
    if orders_recent is not None and orders_before is not None:
        rec = orders_recent.reindex(out.index).fillna(0).to_numpy()
        bef = orders_before.reindex(out.index).fillna(0).to_numpy()
        falling = (bef >= 2) & (rec < bef / 2) & ~silent
        reasons = np.where(
            falling,
            [
                f"{int(r)} orders in the last 90 days vs {int(b)} before"
                for r, b in zip(rec, bef, strict=True)
            ],
            reasons,
        )
    out["churn_reason"] = reasons
    out["churn_risk"] = out["churn_reason"] != ""
    out = out.sort_values("score", ascending=False, kind="stable")
    out["rank"] = np.arange(len(out))
    return out.rename_axis("s").reset_index()
