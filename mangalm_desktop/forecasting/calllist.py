"""Call priority: which stores to ring today, and which have gone quiet (the Win-back list).

Score = P(the store orders within 7 days) × √(expected order value). The chance comes from
:mod:`.activity` (learned from the business's own past: days since the last order against
the store's usual interval, recent order counts, spend); the expected value is Σ P(line) ×
typical quantity × price over the store's suggested lines, with P(line) already multiplied by
the chance that the store orders at all within the horizon (so a store silent for a year
does not promise a full order). The square root keeps a big store ahead of a small one at the
same chance without letting value swamp timing: on 14 rolling origins of the real history the
top fifth ranked by chance × √value held 2.70× the share of stores ordering that week (value
× chance: 2.55; the hand rankings "value last 365 days × min(overdue, 1.5)": 2.36 and
"orders in the last 90 days": 2.52), docs/forecast-accuracy.md.

Without prices (a generic history) the value is counted in units (Σ P(line) × quantity), never
0 for everyone: an earlier version multiplied by a zero price and ranked stores by input order.

A store silent for more than three of its usual intervals (and over 30 days) is a **win-back**
store: it leaves the call list for a separate list with the reason and its honest chance of
ordering within the horizon. A store whose orders in the last 90 days fell below half of the
90 days before keeps its place on the call list, with that reason shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WIN_BACK_INTERVALS = 3.0
WIN_BACK_MIN_DAYS = 30
VALUE_POWER = 0.5


def product_prices(train: pd.DataFrame, n_products: int) -> np.ndarray:
    """Median unit price per product code (0 when unknown)."""
    pr = train.groupby("p")["price"].median().reindex(pd.RangeIndex(n_products))
    return pr.fillna(0).to_numpy(dtype=float)


def expected_value(scored: pd.DataFrame, prices: np.ndarray | None) -> tuple[pd.Series, bool]:
    """Σ prob × qty × price per store, or Σ prob × qty (units) when no price is known.

    Returns (value per store code, True when the value is money)."""
    p = scored["prob"].to_numpy(dtype=float) * scored["qty"].to_numpy(dtype=float)
    money = prices is not None and len(scored) > 0 and bool(np.any(prices > 0))
    if money:
        p = p * prices[scored["p"].to_numpy()]
    return pd.Series(p, dtype=float).groupby(scored["s"].to_numpy()).sum(), money


def _days(n: float) -> str:
    return f"{int(round(n))} day" + ("" if int(round(n)) == 1 else "s")


def call_priority(
    activity: pd.DataFrame,
    scored: pd.DataFrame | None,
    prices: np.ndarray | None,
    horizon_weeks: int = 8,
    default_gap_days: float = 28.0,
    orders_recent: pd.Series | None = None,
    orders_before: pd.Series | None = None,
    values: tuple[pd.Series, bool] | None = None,
) -> pd.DataFrame:
    """Rank stores.

    ``activity`` (index = store code) has ``days_since``, ``gap``, ``p_week`` and
    ``p_horizon`` (:class:`.activity.ActivityModel`); ``scored`` has s, p, prob (already
    multiplied by ``p_horizon``), qty for the suggested lines. Returns s, rank (0 = call
    first), score, expected_value, money, p_week, p_horizon, gap_days, days_since, overdue,
    win_back, reason, churn_risk, churn_reason.

    ``values`` = (expected value per store code, True when in money) already summed (Today
    sums them in SQL), instead of ``scored`` and ``prices``.
    """
    if values is None:
        assert scored is not None
        values = expected_value(scored, prices)
    ev, money = values
    out = pd.DataFrame(index=activity.index)
    out["expected_value"] = ev.reindex(out.index).fillna(0).to_numpy()
    out["money"] = money
    out["p_week"] = activity["p_week"].to_numpy(dtype=float)
    out["p_horizon"] = activity["p_horizon"].to_numpy(dtype=float)
    gap = activity["gap"].fillna(default_gap_days).clip(lower=1).to_numpy(dtype=float)
    since = activity["days_since"].to_numpy(dtype=float)
    out["gap_days"] = gap
    out["days_since"] = since
    out["overdue"] = since / gap
    win_back = (since > WIN_BACK_INTERVALS * gap) & (since > WIN_BACK_MIN_DAYS)
    out["win_back"] = win_back
    out["score"] = out["p_week"] * np.sqrt(np.maximum(out["expected_value"], 0) + 1) ** (
        2 * VALUE_POWER
    )
    # the words only for the stores that get them (a string per store was ~1 s at 100,000)
    reasons = np.full(len(out), "", dtype=object)
    p_horizon = out["p_horizon"].to_numpy()
    for i in np.flatnonzero(win_back):
        reasons[i] = (
            f"no order for {_days(since[i])}; usually every {_days(gap[i])}; "
            f"{round(100 * p_horizon[i])}% likely to order in the next {horizon_weeks} weeks"
        )
    if orders_recent is not None and orders_before is not None:
        rec = orders_recent.reindex(out.index).fillna(0).to_numpy()
        bef = orders_before.reindex(out.index).fillna(0).to_numpy()
        falling = (bef >= 2) & (rec < bef / 2) & ~win_back
        for i in np.flatnonzero(falling):
            reasons[i] = f"{int(rec[i])} orders in the last 90 days vs {int(bef[i])} before"
    out["reason"] = reasons
    out["churn_reason"] = reasons
    out["churn_risk"] = out["reason"] != ""
    out = out.sort_values("score", ascending=False, kind="stable")
    out["rank"] = np.arange(len(out))
    return out.rename_axis("s").reset_index()


def hand_rankings(activity: pd.DataFrame) -> dict[str, np.ndarray]:
    """The two rankings an office would make by hand (baselines in ``mangalm evaluate``):
    value bought in the last 365 days × min(days since last order ÷ usual interval, 1.5),
    and orders in the last 90 days. Value is in units when no price is known."""
    value = activity["value_365"].fillna(0).to_numpy(dtype=float)
    if not np.any(value > 0):
        value = activity["units_365"].to_numpy(dtype=float)
    gap = activity["gap"].fillna(28.0).clip(lower=1).to_numpy(dtype=float)
    overdue = np.minimum(activity["days_since"].to_numpy(dtype=float) / gap, 1.5)
    return {
        "value_x_overdue": value * overdue,
        "orders_90d": activity["orders_90"].to_numpy(dtype=float),
    }
