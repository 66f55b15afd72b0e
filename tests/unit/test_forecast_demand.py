"""The season factor of the app's weekly demand: last year's run-up, applied whole; closures
(a week the whole book stopped, e.g. Christmas) left out of the averages and forecast again
where last year's calendar had them."""

from __future__ import annotations

import numpy as np
import pytest

from mangalm_desktop.forecasting.demand import (
    SEASON_MIN_BEFORE_WEEKS,
    SIGNALS,
    DemandModel,
    fit_demand_model,
    holiday_factors,
    open_weeks,
    season_ratio,
    series_scale,
    signals,
)

HORIZON = 8


def _book(run_up: float, weeks: int = 80) -> np.ndarray:
    """Two series whose book sells 10 a week, except last year's next ``HORIZON`` weeks (as seen
    from the end), which sold ``run_up`` times that."""
    y = np.full((2, weeks), 5.0)
    start = weeks - 52
    y[:, start : start + HORIZON] *= run_up
    return y


def test_a_christmas_run_up_is_applied_whole():
    # the real history's mid-September ratio is 1.65: an earlier clip at 1.5 cut it short
    assert season_ratio(_book(1.65), HORIZON) == pytest.approx(1.65)
    assert season_ratio(_book(0.6), HORIZON) == pytest.approx(0.6)


def test_a_broken_year_is_clipped():
    assert season_ratio(_book(5.0), HORIZON) == 2.0
    assert season_ratio(_book(0.1), HORIZON) == 0.5


def test_without_a_year_of_history_there_is_no_season():
    assert season_ratio(_book(1.65, weeks=52 + SEASON_MIN_BEFORE_WEEKS - 1), HORIZON) == 1.0


def test_a_short_first_year_still_sees_last_years_season():
    """The first December of a book that started a few weeks before last Christmas: the 4
    weeks it has before last year's horizon are base enough (before, no season at all:
    the 2010-12-20 origin over-forecast January by +230%)."""
    assert season_ratio(_book(0.6, weeks=52 + 4), HORIZON) == pytest.approx(0.6)


def test_an_every_other_week_rhythm_is_not_a_season():
    """Short bases are even, so a store ordering every second week is not read as growing or
    shrinking by which of its weeks the base happens to start on."""
    for weeks in (52 + 5, 52 + 6, 52 + 7):
        y = np.zeros((40, weeks))
        y[:, ::2] = 10.0
        assert season_ratio(y, HORIZON) == pytest.approx(1.0)


def _closing_book(weeks: int = 80, closed: tuple[int, ...] = ()) -> np.ndarray:
    """40 series selling 5 a week (a book of 40 lines a week); ``closed`` weeks sell nothing."""
    y = np.full((40, weeks), 5.0)
    y[:, list(closed)] = 0.0
    return y


def test_a_closure_last_year_is_forecast_again():
    """Last year the whole book stopped in the 2nd week of what is now the horizon (Christmas):
    that week is forecast at last year's share, the others as usual."""
    weeks = 80
    y = _closing_book(weeks, closed=(weeks - 52 + 1,))
    factors = holiday_factors(y, HORIZON)
    assert factors[1] == 0.0 and (np.delete(factors, 1) == 1.0).all()
    weights = np.zeros((4, len(SIGNALS)))
    weights[:, 0] = 1.0
    point = DemandModel(weights, 1.0, seasonal=False).forecast(y, HORIZON)[0]
    np.testing.assert_allclose(point[:, 1], 0.0)
    np.testing.assert_allclose(np.delete(point, 1, axis=1), 5.0)


def test_a_closed_week_is_not_a_fall_in_demand():
    """A closure inside the last 13 weeks is left out of the averages (it dragged January's
    forecast down on the real history), not counted as a week of no demand."""
    y = _closing_book(80, closed=(75,))
    assert not open_weeks(y)[75] and open_weeks(y).sum() == 79
    sig = signals(y, HORIZON)
    np.testing.assert_allclose(sig[0], 5.0)  # the 13-week average
    np.testing.assert_allclose(sig[4], sig[4][0, 0])  # the SBA rate ignores the week too


def test_a_quiet_week_in_a_small_book_is_not_a_closure():
    """Eight stores: a week with no order is chance, and dropping it would raise every
    average, so closures are only looked for in a book of 30+ lines a week."""
    y = np.full((8, 80), 5.0)
    y[:, 75] = 0.0
    assert open_weeks(y).all()
    assert (holiday_factors(y, HORIZON) == 1.0).all()


def test_forecast_carries_the_season():
    weights = np.zeros((4, len(SIGNALS)))
    weights[:, 0] = 1.0  # the 13-week average
    y = _book(1.65)
    flat = DemandModel(weights, 1.0, seasonal=False).forecast(y, HORIZON)[0]
    seasonal = DemandModel(weights, 1.0).forecast(y, HORIZON)[0]
    np.testing.assert_allclose(flat, 5.0)
    np.testing.assert_allclose(seasonal, 5.0 * 1.65)


def test_the_interval_moves_with_the_level():
    """A point raised by the bias correction and the season carries its interval along."""
    weights = np.zeros((4, len(SIGNALS)))
    weights[:, 0] = 1.0
    y = _book(1.65)
    week = series_scale(y)[:, None]  # the series' mean week since its first sale
    plain = DemandModel(weights, 0.5, seasonal=False)
    point, low, high = plain.forecast(y, HORIZON)
    np.testing.assert_allclose(high - point, np.broadcast_to(0.5 * week, point.shape))
    raised = DemandModel(weights, 0.5, level_correction=1.2)
    point, low, high = raised.forecast(y, HORIZON)
    np.testing.assert_allclose(point, 5.0 * 1.2 * 1.65)
    np.testing.assert_allclose(high - point, np.broadcast_to(0.5 * week * 1.2 * 1.65, point.shape))
    np.testing.assert_allclose(point - low, np.broadcast_to(0.5 * week * 1.2 * 1.65, point.shape))


def test_one_stores_one_off_order_last_year_is_not_a_season():
    """February 2010 held single orders of 19,152 units in a book whose cells are rarely above
    650: last year's shape is read with such cells cut, not as a 60% spring run-up."""
    y = np.full((200, 80), 5.0)
    y[7, 80 - 52 + 3] = 5000.0  # one order in last year's horizon
    assert season_ratio(y, HORIZON) == pytest.approx(1.0)
    y[:, 80 - 52 : 80 - 52 + HORIZON] *= 1.3  # a real run-up still counts
    assert season_ratio(y, HORIZON) == pytest.approx(1.3)


def test_the_recent_signal_is_the_mean_of_the_last_four_open_weeks():
    """After a closure (the whole book at 0) the recent level skips it, like every average."""
    y = np.full((40, 60), 10.0)
    y[:, -6:] = 20.0
    y[:, -2] = 0.0
    assert not open_weeks(y)[-2] and open_weeks(y)[-6:].sum() == 5
    sig = signals(y, HORIZON)
    assert SIGNALS[5] == "recent"
    np.testing.assert_allclose(sig[5], 20.0)  # weeks -5, -4, -3 and -1
    assert sig[0].max() < 15.0  # the 13-week average still holds the old level


def _seasonal_range_book(weeks: int, seed: int = 3) -> np.ndarray:
    """400 series; each year from week 30 to 39, 100 of them sell (a seasonal range, nothing
    the rest of the year) and the other 300 sell 60% more: a season the book-level factor
    under-reads, because the seasonal range's averages are near 0 when it starts."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(2, 8, 400)[:, None]
    season = (np.arange(weeks) % 52 >= 30) & (np.arange(weeks) % 52 < 40)
    lam = np.repeat(base, weeks, axis=1)
    lam[:100] = base[:100] * season * 3.0
    lam[100:] = base[100:] * (1 + 0.6 * season)
    return rng.poisson(lam).astype(np.float64)


def _bias_4_weeks(model: DemandModel, y: np.ndarray, t: int) -> float:
    point = model.forecast(y[:, :t], HORIZON)[0]
    return float(point[:, :4].sum() / y[:, t : t + 4].sum() - 1)


def test_the_bias_over_the_same_weeks_last_year_corrects_this_years_level():
    """Last year the procedure ran 30% short as the season began; this year it is raised by
    the 10% the clip allows, and its 4-week bias comes 8 points nearer 0."""
    t = 2 * 52 + 30  # an origin at the season's start, two years in
    y = _seasonal_range_book(t + HORIZON)
    with_it = fit_demand_model(y[:, :t], HORIZON)
    without = fit_demand_model(y[:, :t], HORIZON, year_ago=False)
    assert without.year_ago_ratio is None
    assert with_it.year_ago_ratio > 1.2
    assert with_it.level_correction == pytest.approx(without.level_correction * 1.1)
    before, after = _bias_4_weeks(without, y, t), _bias_4_weeks(with_it, y, t)
    assert before < -0.15 and abs(after) < abs(before) - 0.08


def test_no_year_ago_ratio_without_enough_history_a_year_before():
    """The procedure is only run a year back where it could be fitted there (more than
    2 horizons + 8 weeks before that week): on the real history, not before June 2011."""
    y = _seasonal_range_book(52 + 2 * HORIZON + 8 + 1)
    assert fit_demand_model(y[:, :-1], HORIZON).year_ago_ratio is None
    assert fit_demand_model(y, HORIZON).year_ago_ratio is not None
