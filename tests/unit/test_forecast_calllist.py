"""The call list ranks by who is about to order, with or without prices, and sets long-silent
stores apart (the Win-back list) with an honest chance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mangalm_desktop.forecasting.activity import fit_activity_model, order_table, store_activity
from mangalm_desktop.forecasting.calllist import call_priority
from mangalm_desktop.forecasting.evaluate import evaluate_history
from mangalm_desktop.forecasting.series import build_history, day_number, week_start_day
from mangalm_desktop.forecasting.suggest import likely_range


def _history(with_prices: bool, n_stores: int = 160, seed: int = 5):
    """Stores ordering every 7-56 days (some stop for good), ids in random order, so the
    order stores are read in says nothing about when they will order."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2022-01-03")
    n_days = 500
    rows = []
    ids = rng.permutation(n_stores)
    for s in range(n_stores):
        every = int(rng.choice([7, 14, 28, 56]))
        stop = int(rng.integers(200, n_days)) if rng.random() < 0.3 else n_days
        fav = rng.choice(12, size=4, replace=False)
        day = int(rng.integers(0, every))
        n = 0
        while day < stop:
            n += 1
            for p in fav[rng.random(4) < 0.7]:
                rows.append(
                    (
                        f"S{ids[s]:04d}",
                        f"P{p:02d}",
                        f"I{s}-{n}",
                        start + pd.Timedelta(days=day),
                        int(rng.integers(1, 6)),
                        10.0 + p,
                    )
                )
            day += max(1, int(rng.normal(every, every / 6)))
    raw = pd.DataFrame(rows, columns=["store", "product", "invoice", "date", "quantity", "price"])
    if not with_prices:
        raw["price"] = np.nan
    return build_history(raw)[0], start + pd.Timedelta(days=n_days)


def test_call_list_without_prices_is_not_random():
    """Old code: every expected value was 0 without prices and the list kept input order
    (lift about 1). Ranking by the chance of an order this week lifts it well above."""
    history, end = _history(with_prices=False)
    origin = int(day_number(pd.Series([end - pd.Timedelta(days=28)]))[0])
    origin = int(week_start_day((origin + 3) // 7))  # a Monday
    out = evaluate_history(history, [origin], 2, sf_names=[]).as_json()
    assert out["call_list_lift"] > 1.6
    lifts = out["call_list_lifts"]
    assert lifts["mangalm"] == out["call_list_lift"]
    assert lifts["mangalm"] > lifts["value_x_overdue"]


def test_silent_store_is_win_back_with_a_low_chance():
    # 40 weekly stores; store 0 last ordered on day 294, 206 days before the cut-off
    rows = []
    for s in range(40):
        last = 300 if s == 0 else 500
        rows += [(s, 1, d, 2, 5.0) for d in range(s % 7, last, 7)]
    lines = pd.DataFrame(rows, columns=["s", "p", "day", "qty", "price"])
    orders = order_table(lines)
    act = store_activity(orders, 500)
    act = act.join(fit_activity_model(orders, 500, 56).predict(act))
    scored = pd.DataFrame({"s": np.arange(40), "p": 1, "qty": 2, "prob": 0.9})
    scored["prob"] *= act["p_horizon"].reindex(scored["s"]).to_numpy()
    ranked = call_priority(act, scored, np.array([0.0, 5.0])).set_index("s")
    assert bool(ranked.at[0, "win_back"])
    assert not ranked.drop(index=0)["win_back"].any()
    assert ranked.at[0, "p_horizon"] < 0.2 < ranked.drop(index=0)["p_horizon"].min()
    assert ranked.at[0, "rank"] == 39  # last to call
    assert "no order for 206 days; usually every 7 days" in ranked.at[0, "reason"]
    assert "likely to order in the next 8 weeks" in ranked.at[0, "reason"]
    assert ranked.at[0, "expected_value"] < 0.2 * ranked.at[1, "expected_value"]


@pytest.mark.parametrize(
    ("probability", "low", "note"),
    [(0.98, 4.0, ""), (0.95, 4.0, ""), (0.9, 0.0, "10 in 100"), (0.4, 0.0, "60 in 100")],
)
def test_likely_range_starts_at_zero_only_when_the_10th_percentile_is_zero(probability, low, note):
    past = np.array([4, 6, 6, 6, 8, 6, 6, 12, 6, 6])
    lo, hi, why = likely_range(probability, past, 6, 7.5)
    assert lo == low
    assert hi == pytest.approx(np.quantile(past, 0.9))
    assert (note in why) if note else why == ""


def test_published_baselines_basket_rules():
    """P-TopFreq takes the store's most frequent products, basket size = its median order
    size; GP-TopFreq fills a short history with the most popular products; TIFU-KNN and
    UP-CF@r score every product; tuning picks only from their grids."""
    from mangalm_desktop.forecasting import nbr_baselines as nbr

    rows = []
    for s in range(12):  # stores 0-10: products 0,1 every order, 2 every other; store 11: one
        for k, day in enumerate(range(0, 300, 14)):
            rows += [(s, 0, day), (s, 1, day)] + ([(s, 2, day)] if k % 2 == 0 else [])
            if s == 11:
                break
    lines = pd.DataFrame(rows, columns=["s", "p", "day"]).assign(qty=3, price=1.0)
    lines.loc[lines["s"] == 11, "p"] = 2  # store 11 only ever bought product 2 (twice)
    d = nbr._prepare(lines, 300, np.array([0, 11]))
    top = nbr._baskets(d, nbr.p_topfreq(d), 1.0)
    # store 0's orders hold 3 and 2 lines by turns: median 2.5, rounded to even → 2 lines,
    # the two it buys every time (product 2 is in half its orders)
    assert sorted(top[top["s"] == 0]["p"]) == [0, 1]
    wide = nbr._baskets(d, nbr.p_topfreq(d), 1.5)
    assert sorted(wide[wide["s"] == 0]["p"]) == [0, 1, 2]
    assert set(top[top["s"] == 11]["p"]) == {2} and (top["qty"] == 3).all()
    gp = nbr._baskets(d, nbr.gp_topfreq(d), 1.5)
    assert list(gp[gp["s"] == 11]["p"]) == [2, 0, 1][: len(gp[gp["s"] == 11])]
    assert nbr.tifu_knn(d, 7, 0.9, 0.9, 3, 0.7).shape == (2, 3)
    assert nbr.up_cf(d, 5, 0.5, 1).shape == (2, 3)
    chosen = nbr.tune(lines, 300, 56)
    assert set(chosen) == set(nbr.PUBLISHED)
    assert chosen["TIFU-KNN"]["k"] in nbr.TIFU_GRID["k"]
    assert all(c["size_factor"] in nbr.SIZE_FACTORS for c in chosen.values())


def test_evaluation_parts_merge_to_the_whole_run():
    """benchmarks/forecast_accuracy.py --part/--merge: two runs of one origin each, merged,
    give the same pooled figures as one run over both origins."""
    history, end = _history(with_prices=True, n_stores=40)
    last = int(day_number(pd.Series([end - pd.Timedelta(days=21)]))[0])
    o2 = int(week_start_day((last + 3) // 7))
    origins = [o2 - 28, o2]
    whole = evaluate_history(history, origins, 2, sf_names=[]).as_json()
    a = evaluate_history(history, origins[1:], 2, sf_names=[])
    a.merge(evaluate_history(history, origins[:1], 2, sf_names=[]))
    merged = a.as_json()
    assert merged["origins"] == whole["origins"]
    for key in ("methods", "call_list_lifts", "reliability", "n_baskets", "call_list_lift"):
        assert merged[key] == whole[key], key
    assert [o["origin"] for o in merged["per_origin"]] == whole["origins"]
