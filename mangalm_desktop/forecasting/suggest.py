"""Suggested order arithmetic: cover period, safety stock, shelf stock, pack rounding, minimums.

For one (store, product) line the app suggests

    need = max(typical order quantity, demand over the cover period + safety) − shelf

rounded *up* to the product's pack, and raised to the minimum order quantity when it is
positive. The cover period runs until the store's next expected order: the agent's planned
next call when there is one, else the store's own median interval between orders, else its
configured call cadence, else 14 days. Safety stock is half the distance from the expected
demand over the cover period to its 80% upper bound (the bound of the mean weekly rate,
calibrated on multi-week totals, times the cover weeks). The typical quantity floor exists because a store that orders a product
orders a case-sized amount, not its average weekly rate. Every line carries the reason in
words, e.g. "usually 12 every 2 weeks; last bought 3 weeks ago; shelf has 2".

The same vectorised function scores the app in ``mangalm evaluate`` (with no shelf reports,
pack 1), so what is measured is what agents are shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SAFETY_SHARE = 0.5
DEFAULT_COVER_DAYS = 14


def cover_days(
    planned_call_in_days: int | None,
    median_gap_days: float | None,
    cadence_days: int | None,
) -> int:
    """Days until the store's next expected order (see module docstring for the order of rules)."""
    if planned_call_in_days is not None and planned_call_in_days > 0:
        return int(planned_call_in_days)
    if median_gap_days is not None and np.isfinite(median_gap_days) and median_gap_days > 0:
        return max(1, int(round(median_gap_days)))
    if cadence_days:
        return int(cadence_days)
    return DEFAULT_COVER_DAYS


def suggest_quantities(
    weekly_point: np.ndarray,
    weekly_high: np.ndarray,
    cover: np.ndarray,
    typical: np.ndarray,
    shelf: np.ndarray | None = None,
    pack: np.ndarray | None = None,
    minimum: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised core: returns (quantity, demand over cover, safety), quantity as int64.

    ``weekly_high`` is the 80% upper bound of the mean weekly rate over the cover period.
    """
    weeks = np.asarray(cover, dtype=float) / 7.0
    point = np.asarray(weekly_point, dtype=float)
    demand = point * weeks
    safety = SAFETY_SHARE * np.maximum(np.asarray(weekly_high, float) - point, 0) * weeks
    need = np.maximum(np.asarray(typical, dtype=float), demand + safety)
    if shelf is not None:
        need = need - np.nan_to_num(np.asarray(shelf, dtype=float))
    p = np.ones_like(need) if pack is None else np.maximum(np.asarray(pack, dtype=float), 1)
    # round to the nearest tenth first so 11.9999 (float noise) does not become a whole extra pack
    qty = np.where(need > 0, np.ceil(np.round(need / p, 6)) * p, 0)
    if minimum is not None:
        mn = np.asarray(minimum, dtype=float)
        qty = np.where((qty > 0) & (qty < mn), np.ceil(mn / p) * p, qty)
    return qty.astype(np.int64), demand, safety


@dataclass(frozen=True)
class LineInput:
    """What the app knows about one product for one store when suggesting."""

    weekly_point: float
    weekly_low: float
    weekly_high: float
    typical_qty: float
    usual_every_days: float | None
    last_bought_days_ago: int | None
    cover_days: int
    shelf_qty: int | None = None
    pack_size: int = 1
    min_qty: int = 1
    probability: float | None = None
    store_chance: float | None = None
    horizon_weeks: int = 8


@dataclass(frozen=True)
class SuggestedLine:
    """A suggested quantity with its range and the reason in plain words."""

    quantity: int
    demand: float
    safety: float
    low: float
    high: float
    reason: str


def _weeks(days: float) -> str:
    if days < 10:
        n = max(1, int(round(days)))
        return f"{n} day" + ("s" if n != 1 else "")
    n = int(round(days / 7))
    return f"{n} week" + ("s" if n != 1 else "")


def suggest_line(inp: LineInput) -> SuggestedLine:
    """One line: quantity by :func:`suggest_quantities`, range over the cover period, reason."""
    qty, demand, safety = suggest_quantities(
        np.array([inp.weekly_point]),
        np.array([inp.weekly_high]),
        np.array([inp.cover_days]),
        np.array([inp.typical_qty]),
        None if inp.shelf_qty is None else np.array([inp.shelf_qty]),
        np.array([inp.pack_size]),
        np.array([inp.min_qty]),
    )
    weeks = inp.cover_days / 7.0
    low = max(inp.weekly_low * weeks, 0.0)
    high = inp.weekly_high * weeks
    parts = []
    typical = int(math.ceil(inp.typical_qty)) if inp.typical_qty > 0 else 0
    if inp.usual_every_days:
        parts.append(f"usually {typical} every {_weeks(inp.usual_every_days)}")
    elif typical:
        parts.append(f"usually {typical} a time")
    if inp.last_bought_days_ago is not None:
        parts.append(f"last bought {_weeks(inp.last_bought_days_ago)} ago")
    else:
        parts.append("new for this store")
    parts.append(f"covers {_weeks(inp.cover_days)} until the next order")
    if inp.shelf_qty is not None:
        parts.append(f"shelf has {inp.shelf_qty}")
    if inp.pack_size > 1:
        parts.append(f"packs of {inp.pack_size}")
    if inp.probability is not None:
        parts.append(_likelihood(inp.probability, inp.store_chance, inp.horizon_weeks))
    return SuggestedLine(
        quantity=int(qty[0]),
        demand=float(demand[0]),
        safety=float(safety[0]),
        low=low,
        high=high,
        reason="; ".join(parts),
    )


def _likelihood(probability: float, store_chance: float | None, weeks: int) -> str:
    """The line's chance in words; when the store itself may not order, say both parts."""
    if store_chance is None or store_chance >= 0.95:
        return f"{round(100 * probability)}% likely on this order"
    on_order = probability / store_chance if store_chance > 0 else 0.0
    return (
        f"{round(100 * probability)}% likely within {weeks} weeks: the store orders within "
        f"{weeks} weeks {round(100 * store_chance)}% of the time after such a silence, and "
        f"then takes this line {round(100 * min(on_order, 1.0))}% of the time"
    )


RANGE_LEVELS = (0.1, 0.9)
"""The range shown is the 10th to 90th percentile of the quantity on this order."""


def likely_range(
    probability: float, past_quantities: np.ndarray, suggested: int, upper: float
) -> tuple[float, float, str]:
    """(low, high, note): "likely between low and high" units on this order.

    The quantity on the order is 0 with chance 1 − ``probability`` and otherwise like the
    store's past quantities of the product (or the suggested quantity for a product it never
    bought). Its 10th percentile is therefore 0 whenever the line is at most 90% likely, and
    the note says why; above 90% it is the matching low percentile of the past quantities,
    never 0. The high end is the 90th percentile of what the store takes when it orders the
    line (at least the suggestion and the demand interval's ``upper``), so a line unlikely to
    be ordered still shows how much it would be.
    """
    past = np.sort(np.asarray(past_quantities, dtype=float))
    past = past[past > 0]
    if len(past) == 0:
        past = np.array([max(float(suggested), 1.0)])
    lo_level, hi_level = RANGE_LEVELS
    high = max(float(np.quantile(past, hi_level)), float(suggested), float(upper))
    if probability <= 1 - lo_level:
        miss = 1 - probability
        note = (
            f"range starts at 0: about {round(100 * miss)} in 100 such orders leave this line out"
            if miss > 0
            else ""
        )
        return 0.0, high, note
    level = (lo_level - (1 - probability)) / probability
    low = float(np.quantile(past, level, method="inverted_cdf"))
    return max(low, 1.0), high, ""
