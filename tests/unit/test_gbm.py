"""The NumPy gradient-boosted classifier: learns, handles NaN and weights, matches scikit-learn.

scikit-learn is only a dev dependency; it is imported here to check that the hand-written
model means the same thing as the estimator it replaces.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mangalm_desktop.forecasting.gbm import GradientBoostedClassifier, fit_binner


def _xor(n: int, rng: np.random.Generator, flip: float = 0.05):
    X = rng.uniform(-1, 1, size=(n, 5))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    noisy = rng.random(n) < flip
    y[noisy] = 1 - y[noisy]
    return X, y


def _mixed(n: int, rng: np.random.Generator):
    """Non-linear signal, a feature that is missing 20% of the time, an integer feature."""
    X = rng.normal(size=(n, 6))
    X[rng.random(n) < 0.2, 2] = np.nan
    X[:, 5] = rng.integers(0, 5, n)
    z = (
        np.sin(2 * X[:, 0])
        + X[:, 1] * X[:, 3]
        + np.where(np.isnan(X[:, 2]), 1.0, 0.5 * X[:, 2])
        + 0.3 * X[:, 5]
        - 0.5
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * z))).astype(int)
    return X, y


def test_learns_xor_which_no_single_split_can():
    rng = np.random.default_rng(0)
    X, y = _xor(4000, rng)
    Xt, yt = _xor(4000, rng, flip=0.0)
    clf = GradientBoostedClassifier(max_iter=40, random_state=0).fit(X, y)
    acc = (clf.predict(Xt) == yt).mean()
    assert acc > 0.95
    proba = clf.predict_proba(Xt)
    assert proba.shape == (4000, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_learns_a_rule_that_depends_only_on_missingness():
    rng = np.random.default_rng(1)
    n = 3000
    X = rng.normal(size=(n, 3))
    missing = rng.random(n) < 0.5
    X[missing, 0] = np.nan
    y = missing.astype(int)
    clf = GradientBoostedClassifier(max_iter=20, random_state=0).fit(X, y)
    p = clf.predict_proba(np.array([[np.nan, 0.0, 0.0], [0.3, 0.0, 0.0], [-2.0, 1.0, 1.0]]))[:, 1]
    assert p[0] > 0.9 and p[1] < 0.1 and p[2] < 0.1


def test_nan_in_a_feature_never_missing_at_fit_goes_to_the_larger_child():
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 1, size=(2000, 1))
    y = (X[:, 0] > 0.8).astype(int)  # the x <= 0.8 side holds most rows
    clf = GradientBoostedClassifier(max_iter=10, random_state=0).fit(X, y)
    p_nan, p_low = clf.predict_proba(np.array([[np.nan], [0.1]]))[:, 1]
    assert p_nan == pytest.approx(p_low)


def test_sample_weights_shift_the_probabilities():
    # half the rows are positive; positives weigh 3, so the weighted rate is 0.75
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 2))
    y = np.tile([0, 1], 1000)
    w = np.where(y == 1, 3.0, 1.0)
    p_plain = GradientBoostedClassifier(max_iter=30, random_state=0).fit(X, y)
    p_weighted = GradientBoostedClassifier(max_iter=30, random_state=0).fit(X, y, w)
    assert abs(p_plain.predict_proba(X)[:, 1].mean() - 0.5) < 0.03
    assert abs(p_weighted.predict_proba(X)[:, 1].mean() - 0.75) < 0.03


def test_an_integer_weight_is_the_same_as_repeating_the_row():
    rng = np.random.default_rng(4)
    X, y = _mixed(1500, rng)
    w = rng.integers(1, 4, len(y))
    kw = dict(max_iter=15, min_samples_leaf=1, random_state=0)
    weighted = GradientBoostedClassifier(**kw).fit(X, y, sample_weight=w)
    repeated = GradientBoostedClassifier(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    Xt, _ = _mixed(500, rng)
    np.testing.assert_allclose(
        weighted.decision_function(Xt), repeated.decision_function(Xt), atol=1e-8
    )


def test_same_seed_same_model_and_the_seed_drives_the_bin_subsample():
    rng = np.random.default_rng(5)
    X, y = _mixed(3000, rng)
    w = rng.uniform(0.5, 2, len(y))
    kw = dict(max_iter=10, subsample=1000)
    a = GradientBoostedClassifier(random_state=11, **kw).fit(X, y, w)
    b = GradientBoostedClassifier(random_state=11, **kw).fit(X, y, w)
    c = GradientBoostedClassifier(random_state=12, **kw).fit(X, y, w)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert any(
        len(e1) != len(e2) or not np.array_equal(e1, e2)
        for e1, e2 in zip(a.binner_.edges, c.binner_.edges, strict=True)
    )


def test_threads_build_the_same_model_as_one_thread(monkeypatch):
    """Histograms of large nodes are split over threads; every sum, so every tree, is equal."""
    import mangalm_desktop.forecasting.gbm as gbm

    monkeypatch.setattr(gbm, "PARALLEL_ROWS", 500)  # most nodes of this set go parallel
    rng = np.random.default_rng(5)
    X, y = _mixed(6_000, rng)
    w = rng.uniform(0.5, 2.0, len(y))
    models = [
        GradientBoostedClassifier(max_iter=15, random_state=3, n_threads=t).fit(X, y, w)
        for t in (1, 3)
    ]
    one, three = (m.predict_proba(X)[:, 1] for m in models)
    assert np.array_equal(one, three)
    for a, b in zip(models[0].trees_, models[1].trees_, strict=True):
        assert np.array_equal(a.threshold, b.threshold) and np.array_equal(a.value, b.value)


def test_bad_input_gives_clear_errors():
    X = np.zeros((50, 2))
    with pytest.raises(ValueError, match="two classes"):
        GradientBoostedClassifier().fit(X, np.ones(50))
    with pytest.raises(ValueError, match="rows"):
        GradientBoostedClassifier().fit(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="sample_weight"):
        GradientBoostedClassifier().fit(X, np.arange(50) % 2, sample_weight=-np.ones(50))
    with pytest.raises(ValueError, match="not fitted"):
        GradientBoostedClassifier().predict_proba(X)
    clf = GradientBoostedClassifier(max_iter=2).fit(X, np.arange(50) % 2)
    with pytest.raises(ValueError, match="3 features"):
        clf.predict_proba(np.zeros((4, 3)))


def test_tiny_input_gives_the_weighted_rate_everywhere():
    # fewer rows than two leaves' minimum: every tree is one leaf, so a constant
    X = np.arange(8, dtype=float).reshape(-1, 1)
    y = np.array([0, 0, 0, 1, 0, 1, 0, 0])
    p = GradientBoostedClassifier(random_state=0).fit(X, y).predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, 0.25, atol=1e-9)


def test_dataframe_input_labels_and_column_names():
    rng = np.random.default_rng(6)
    X, y = _xor(1000, rng)
    df = pd.DataFrame(X, columns=list("abcde")).astype({"a": "float32", "e": "Float64"})
    df.loc[3, "e"] = pd.NA
    labels = np.where(y == 1, "yes", "no")
    clf = GradientBoostedClassifier(max_iter=20, random_state=0).fit(df, labels)
    assert list(clf.classes_) == ["no", "yes"]
    assert set(clf.predict(df)) <= {"no", "yes"}
    np.testing.assert_allclose(clf.predict_proba(df), clf.predict_proba(df.to_numpy(float)))
    with pytest.raises(ValueError, match="column names"):
        clf.predict_proba(df.rename(columns={"a": "z"}))


def test_constant_and_all_missing_features_are_never_split_on():
    rng = np.random.default_rng(7)
    X, y = _xor(1500, rng)
    X[:, 2] = 3.0
    X[:, 3] = np.nan
    clf = GradientBoostedClassifier(max_iter=10, random_state=0).fit(X, y)
    used = np.concatenate([t.feature[t.left >= 0] for t in clf.trees_])
    assert not np.isin(used, [2, 3]).any()
    assert set(used) >= {0, 1}


def test_bin_edges_match_scikit_learn():
    binning = pytest.importorskip("sklearn.ensemble._hist_gradient_boosting.binning")
    rng = np.random.default_rng(8)
    X, _ = _mixed(20000, rng)
    w = rng.choice([1.0, 4.0], len(X))
    ref = binning._BinMapper(n_bins=256, random_state=0).fit(X, sample_weight=w)
    ours = fit_binner(X, w, 255, 200_000, np.random.default_rng(0))
    for theirs, mine in zip(ref.bin_thresholds_, ours.edges, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_first_trees_are_scikit_learns_trees(weighted):
    """Same bins, gains, missing sides and leaf values: raw scores agree to rounding."""
    ensemble = pytest.importorskip("sklearn.ensemble")
    rng = np.random.default_rng(9)
    X, y = _mixed(20000, rng)
    w = np.where(y == 1, 1.0, 4.0) if weighted else None
    ref = ensemble.HistGradientBoostingClassifier(max_iter=5, early_stopping=False).fit(
        X, y, sample_weight=w
    )
    ours = GradientBoostedClassifier(max_iter=5).fit(X, y, sample_weight=w)
    Xt, _ = _mixed(5000, rng)
    np.testing.assert_allclose(ours.decision_function(Xt), ref.decision_function(Xt), atol=1e-6)


def test_full_model_scores_like_scikit_learn():
    ensemble = pytest.importorskip("sklearn.ensemble")
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(10)
    X, y = _mixed(30000, rng)
    Xt, yt = _mixed(20000, rng)
    w = np.where(y == 1, 1.0, 3.0)
    ref = ensemble.HistGradientBoostingClassifier(early_stopping=False, random_state=7)
    ref.fit(X, y, sample_weight=w)
    ours = GradientBoostedClassifier(random_state=7).fit(X, y, sample_weight=w)
    p_ref, p_ours = ref.predict_proba(Xt)[:, 1], ours.predict_proba(Xt)[:, 1]
    assert metrics.log_loss(yt, p_ours) == pytest.approx(metrics.log_loss(yt, p_ref), abs=0.01)
    assert metrics.roc_auc_score(yt, p_ours) == pytest.approx(
        metrics.roc_auc_score(yt, p_ref), abs=0.005
    )


def test_the_basket_model_needs_no_scikit_learn():
    """The field app ships without scikit-learn: importing the basket must not pull it in."""
    code = (
        "import sys, mangalm_desktop.forecasting.basket, mangalm_desktop.forecasting.gbm; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
