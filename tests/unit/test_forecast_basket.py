"""Basket-model features on hand-computed cases, and no look-ahead past the origin."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mangalm_desktop.forecasting.basket import BasketConfig, fit_basket_model
from mangalm_desktop.forecasting.features import FEATURES, pair_features


def _lines(rows):
    df = pd.DataFrame(rows, columns=["s", "p", "day"])
    df["qty"] = 1
    df["price"] = 1.0
    return df.sort_values(["day", "s"], kind="stable").reset_index(drop=True)


def test_co_purchase_and_store_features_hand_computed():
    # Orders (one store-day each): s0@10 {0,1}; s1@20 {0,1}; s1@30 {0,2}; s2@40 {1,2}.
    # Co-purchase counts: n0=3, n1=3, n2=2; c01=2, c02=1, c12=1, so
    # cos01 = 2/3, cos02 = cos12 = 1/sqrt(6); an item's similarity to itself is not counted.
    train = _lines(
        [(0, 0, 10), (0, 1, 10), (1, 0, 20), (1, 1, 20), (1, 0, 30), (1, 2, 30)]
        + [(2, 1, 40), (2, 2, 40)]
    )
    f = pair_features(train, 100, 56, new_per_store=0).set_index(["s", "p"])
    c01, c12 = 2 / 3, 1 / math.sqrt(6)
    # s0's last order {0,1}: mean similarity of product 0 to {0,1} = (0 + 2/3) / 2
    assert f.loc[(0, 0), "cf_last1"] == pytest.approx(c01 / 2, rel=1e-5)
    # s1's last order {0,2}: product 1 -> (cos01 + cos21) / 2
    assert f.loc[(1, 1), "cf_last1"] == pytest.approx((c01 + c12) / 2, rel=1e-5)
    # s1's last three orders hold {0,1,2}: product 1 -> (cos01 + 0 + cos21) / 3
    assert f.loc[(1, 1), "cf_last3"] == pytest.approx((c01 + c12) / 3, rel=1e-5)
    # store features: s1 has two 2-line orders, 3 distinct products; its last order had one
    # line new to it (product 2) out of two
    s1 = f.loc[(1, 0)]
    assert s1["store_last_size"] == 2
    assert s1["store_mean_basket"] == 2
    assert s1["store_distinct"] == 3
    assert s1["store_last_new_share"] == pytest.approx(0.5)
    assert s1["store_orders_91"] == 2  # days 20 and 30 are within 91 days of day 100
    assert f.loc[(0, 0), "store_orders_91"] == 1
    assert set(FEATURES) <= set(f.columns)


def _synthetic(n_days=560, seed=3):
    """30 stores ordering every 7-21 days from a store-specific favourite set plus noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(30):
        fav = rng.choice(40, size=8, replace=False)
        day = int(rng.integers(0, 14))
        while day < n_days:
            basket = set(rng.choice(fav, size=4, replace=False)) | {int(rng.integers(40))}
            rows += [(s, int(p), day) for p in basket]
            day += int(rng.integers(7, 22))
    return _lines(rows)


def test_basket_model_uses_nothing_after_the_origin():
    lines = _synthetic()
    origin = 500
    cfg = BasketConfig(max_iter=20, seasonal_origins=4)
    a = fit_basket_model(lines, origin, cfg)
    assert a.classifier is not None  # enough history: inner and last-year origins were fitted
    # Rewrite everything from the origin on: the model and its scores must not move.
    later = lines["day"] >= origin
    changed = lines.copy()
    changed.loc[later, "p"] = (changed.loc[later, "p"] + 7) % 40
    changed = changed.drop_duplicates(["s", "p", "day"])
    b = fit_basket_model(changed, origin, cfg)
    assert a.threshold == b.threshold
    known = lines[lines["day"] < origin]
    pa = a.score_all(known, origin)["prob"].to_numpy()
    pb = b.score_all(known, origin)["prob"].to_numpy()
    np.testing.assert_allclose(pa, pb)


def test_basket_model_learns_the_favourites():
    lines = _synthetic()
    origin = 500
    model = fit_basket_model(lines, origin, BasketConfig(max_iter=30))
    scored = model.score_all(lines[lines["day"] < origin], origin)
    fav = scored["cnt"] >= 5
    # a store's regular products must rank far above its one-off purchases
    assert scored.loc[fav, "prob"].mean() > 2 * scored.loc[~fav, "prob"].mean()
