"""The NumPy replacements of the forecasting code's SciPy parts give the SciPy numbers.

Issue 11 drops SciPy from the field app. Each replacement is run next to the previous SciPy
implementation (``tests/support/scipy_reference.py``; SciPy is in the dev environment) on
hand-made and random inputs: co-purchase features equal bit for bit, upsell suggestions the
same products in the same order with the same evidence, NNLS weights equal to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mangalm_desktop.forecasting import demand, features
from mangalm_desktop.forecasting.features import pair_features
from mangalm_desktop.forecasting.nnls import nnls
from mangalm_desktop.forecasting.upsell import UpsellConfig, similar_store_upsell
from tests.support import scipy_reference as ref

# --- NNLS -------------------------------------------------------------------------------


def _problems(seed: int, count: int):
    """Random least-squares problems, about half with constraints that bind at the optimum."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        m = int(rng.integers(6, 400))
        a = rng.gamma(1.0, 3.0, size=(m, 5)) * rng.choice([1e-3, 1.0, 1e3])
        truth = rng.normal(size=5)  # negative parts force zeros in the solution
        b = a @ truth + rng.normal(scale=rng.choice([0.01, 1.0, 10.0]), size=m)
        yield a, b


def test_nnls_equals_scipy_on_random_problems_including_binding_constraints():
    binding = 0
    for a, b in _problems(seed=11, count=400):
        want, want_res = ref.nnls(a, b)
        got, got_res = nnls(a, b)
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * scale)
        assert got_res == pytest.approx(want_res, rel=1e-9, abs=1e-12)
        assert (got >= 0).all()
        binding += int(((want == 0) & (got == 0)).any() and (want > 0).any())
    assert binding > 100  # the active set really changed in many of them


def test_nnls_underdetermined_and_all_zero_cases_equal_scipy():
    rng = np.random.default_rng(5)
    for _ in range(200):
        m = int(rng.integers(1, 5))  # fewer rows than columns: many exact fits
        a = rng.random((m, 5))
        b = rng.normal(size=m) + a @ rng.normal(size=5)
        want, want_res = ref.nnls(a, b)
        got, got_res = nnls(a, b)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
        assert got_res == pytest.approx(want_res, abs=1e-9)
    a = rng.random((20, 5))
    got, res = nnls(a, -a @ np.ones(5))  # every column points the wrong way: all weights 0
    assert (got == 0).all() and res == pytest.approx(np.linalg.norm(a @ np.ones(5)))


def test_nnls_identical_columns_same_choice_as_scipy():
    # Short histories make the 13/26/52-week averages (and last year) identical columns:
    # the best fit can then be shared among them in many ways, and the same one is chosen.
    rng = np.random.default_rng(8)
    for _ in range(300):
        a = rng.random((40, 5))
        a[:, 3] = a[:, 0]
        if rng.random() < 0.5:
            a[:, 2] = a[:, 1]
        b = a @ rng.normal(size=5) + rng.normal(size=40)
        want, want_res = ref.nnls(a, b)
        got, got_res = nnls(a, b)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
        assert got_res == pytest.approx(want_res, rel=1e-9)


def test_nnls_rejects_bad_input_clearly():
    a = np.ones((4, 2))
    with pytest.raises(ValueError, match="NaN or infinity"):
        nnls(a, np.array([1.0, np.nan, 0.0, 1.0]))
    with pytest.raises(ValueError, match="do not fit"):
        nnls(a, np.ones(3))


def _weekly(n: int, weeks: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.beta(0.8, 3.0, size=(n, 1))
    size = rng.gamma(2.0, 6.0, size=(n, 1)) + 1
    return ((rng.random((n, weeks)) < p) * rng.poisson(size * np.ones((1, weeks)))).astype(float)


@pytest.mark.parametrize("weeks,horizon", [(104, 8), (90, 4), (60, 8), (20, 8), (17, 4)])
def test_demand_model_weights_equal_with_scipy_nnls(monkeypatch, weeks, horizon):
    y = _weekly(3000, weeks, seed=weeks)
    mine = demand.fit_demand_model(y, horizon)
    monkeypatch.setattr(demand, "nnls", ref.nnls)
    theirs = demand.fit_demand_model(y, horizon)
    np.testing.assert_allclose(mine.weights, theirs.weights, rtol=1e-9, atol=1e-12)
    assert mine.conformal_q == pytest.approx(theirs.conformal_q, rel=1e-9)
    assert mine.level_correction == pytest.approx(theirs.level_correction, rel=1e-9)
    assert (theirs.weights[:, [0, 2, 3, 4]] > 0).any()  # not just the fallback weights
    np.testing.assert_allclose(mine.forecast(y, horizon)[0], theirs.forecast(y, horizon)[0])


# --- co-purchase features ----------------------------------------------------------------


def _same_features(monkeypatch, train, cutoff, new_per_store):
    got = pair_features(train, cutoff, 56, new_per_store)
    with monkeypatch.context() as m:
        m.setattr(features, "co_purchase", ref.co_purchase)
        want = pair_features(train, cutoff, 56, new_per_store)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    return got


def test_co_purchase_hand_made_history_equals_scipy(monkeypatch):
    # s0@10 {0,1}; s1@20 {0,1}, s1@30 {0,2,2} (a repeated line); s2@40 {1,2}; s3@-400 {3},
    # an order older than the co-purchase year: product 3 has no similarity to anything.
    train = _lines(
        [(0, 0, 10), (0, 1, 10), (1, 0, 20), (1, 1, 20), (1, 0, 30), (1, 2, 30), (1, 2, 30)]
        + [(2, 1, 40), (2, 2, 40), (3, 3, -400)]
    )
    got = _same_features(monkeypatch, train, 100, 0).set_index(["s", "p"])
    assert got.loc[(0, 0), "cf_last1"] == pytest.approx((2 / 3) / 2, rel=1e-6)
    assert got.loc[(3, 3), "cf_last1"] == 0 and got.loc[(3, 3), "cf_last3"] == 0


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("new_per_store", [0, 5])
def test_co_purchase_random_histories_equal_scipy_bit_for_bit(monkeypatch, seed, new_per_store):
    train = _random_history(seed, n_stores=120, n_products=300 if seed % 2 else 40, days=800)
    got = _same_features(monkeypatch, train, 800, new_per_store)
    assert (got["cf_last3"] > 0).mean() > 0.3  # the feature is really exercised


# --- upsell -----------------------------------------------------------------------------


def _lines(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["s", "p", "day"]).astype(np.int32)
    df["qty"] = 1
    df["price"] = 1.0
    return df


def _random_history(seed: int, n_stores: int, n_products: int, days: int) -> pd.DataFrame:
    """Stores buying from a few overlapping "tastes" (so neighbours and ties are common),
    with repeated lines and some stores idle in the last year."""
    rng = np.random.default_rng(seed)
    tastes = [rng.choice(n_products, size=rng.integers(3, 12), replace=False) for _ in range(6)]
    rows = []
    for s in range(n_stores):
        mine = np.concatenate([tastes[t] for t in rng.choice(6, size=2, replace=False)])
        last = days if rng.random() > 0.1 else days // 3
        for day in sorted(rng.choice(last, size=rng.integers(1, 12), replace=False).tolist()):
            basket = rng.choice(mine, size=rng.integers(1, len(mine) + 1), replace=True)
            noise = rng.integers(0, n_products, size=rng.integers(0, 3))
            rows += [(s, int(p), day) for p in np.concatenate([basket, noise])]
    return _lines(rows)


def _same_upsell(train, stores, cutoff, n_stores, n_products, cfg):
    want = ref.similar_store_upsell(train, stores, cutoff, n_stores, n_products, cfg)
    got = similar_store_upsell(train, stores, cutoff, n_stores, n_products, cfg)
    assert list(got.columns) == list(want.columns)
    assert got.to_numpy().tolist() == want.to_numpy().tolist()
    return got


def test_upsell_hand_made_history_equals_scipy_and_reads_right():
    # s0 buys {0,1}; s1 and s2 buy {0,1,2}; s3 buys {5}. s0's neighbours are s1 and s2 (both
    # buy 2) and s3 is not similar at all: "bought by 2 of 2 similar stores".
    train = _lines(
        [(0, 0, 10), (0, 1, 10), (1, 0, 12), (1, 1, 12), (1, 2, 12)]
        + [(2, 0, 20), (2, 1, 21), (2, 2, 21), (3, 5, 30)]
    )
    got = _same_upsell(train, np.array([0, 3]), 100, 4, 6, UpsellConfig())
    assert got.to_numpy().tolist() == [[0, 2, 0, 2, 2]]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("neighbours", [1, 3, 40])
def test_upsell_random_histories_equal_scipy(seed, neighbours):
    n_stores, n_products = 150, 60
    train = _random_history(seed, n_stores, n_products, days=700)
    cfg = UpsellConfig(neighbours=neighbours, top_n=4, lookback_days=365)
    stores = np.random.default_rng(seed).choice(n_stores, size=120, replace=False)
    got = _same_upsell(train, stores, 700, n_stores, n_products, cfg)
    assert len(got) > 50
    assert (got["buyers"] <= got["neighbours"]).all()


def test_upsell_edge_cases_equal_scipy():
    train = _random_history(1, 20, 15, days=400)
    # one store only known, stores idle in the look-back, an empty history
    _same_upsell(train, np.arange(20), 400, 20, 15, UpsellConfig(lookback_days=30))
    _same_upsell(train, np.array([3]), 400, 20, 15, UpsellConfig(top_n=10))
    got = similar_store_upsell(train.iloc[:0], np.arange(5), 400, 20, 15)
    assert len(got) == 0 and list(got.columns) == ["s", "p", "rank", "buyers", "neighbours"]
