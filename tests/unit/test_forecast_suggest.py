"""Suggestion arithmetic on hand-computed cases: cover period, safety, shelf, pack, minimum."""

from __future__ import annotations

import numpy as np
import pytest

from mangalm_desktop.forecasting.suggest import (
    DEFAULT_COVER_DAYS,
    LineInput,
    cover_days,
    suggest_line,
    suggest_quantities,
)


def test_cover_period_rules():
    assert cover_days(10, 21.0, 7) == 10  # the agent's planned call wins
    assert cover_days(None, 20.6, 7) == 21  # else the store's own rhythm
    assert cover_days(0, float("nan"), 7) == 7  # else the configured cadence
    assert cover_days(None, None, None) == DEFAULT_COVER_DAYS


def test_demand_safety_shelf_and_pack_by_hand():
    # 6 a week for 4 weeks = 24; 80% high of the rate 10/week → safety 0.5 × (10 − 6) × 4 = 8;
    # need 32; shelf 5 → 27; packs of 6 → 30
    line = suggest_line(
        LineInput(
            weekly_point=6,
            weekly_low=2,
            weekly_high=10,
            typical_qty=12,
            usual_every_days=14,
            last_bought_days_ago=21,
            cover_days=28,
            shelf_qty=5,
            pack_size=6,
        )
    )
    assert line.demand == pytest.approx(24)
    assert line.safety == pytest.approx(8)
    assert line.quantity == 30
    assert (line.low, line.high) == (pytest.approx(8), pytest.approx(40))
    assert line.reason == (
        "usually 12 every 2 weeks; last bought 3 weeks ago; covers 4 weeks until the next "
        "order; shelf has 5; packs of 6"
    )


def test_typical_quantity_floor_shelf_covering_all_and_minimum():
    # slow seller: 0.5/week × 2 weeks = 1 (+ safety 0.5 × 1 × 2) but the store orders 12 a time
    q, demand, safety = suggest_quantities(
        np.array([0.5, 0.5, 1.0]),
        np.array([1.5, 1.5, 1.0]),
        np.array([14, 14, 7]),
        np.array([12, 12, 1]),
        shelf=np.array([0, 30, 0]),
        pack=np.array([1, 1, 1]),
        minimum=np.array([1, 1, 5]),
    )
    assert demand.tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert safety[0] == pytest.approx(1.0)
    # 12; shelf covers it → 0 (never negative); tiny need raised to the minimum of 5
    assert q.tolist() == [12, 0, 5]


def test_exact_pack_multiple_is_not_rounded_up():
    q, _, _ = suggest_quantities(
        np.array([0.0]), np.array([0.0]), np.array([7]), np.array([12.0]), pack=np.array([6])
    )
    assert q.tolist() == [12]


def test_new_product_reason():
    line = suggest_line(LineInput(0, 0, 0, 6, None, None, 14, probability=0.42))
    assert line.quantity == 6
    assert (
        line.reason
        == "usually 6 a time; new for this store; covers 2 weeks until the next order; 42% likely on this order"
    )
