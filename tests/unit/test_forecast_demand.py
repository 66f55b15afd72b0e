"""The season factor of the app's weekly demand: last year's run-up, applied whole."""

from __future__ import annotations

import numpy as np
import pytest

from mangalm_desktop.forecasting.demand import (
    SEASON_BEFORE_WEEKS,
    DemandModel,
    season_ratio,
    series_scale,
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
    assert season_ratio(_book(1.65, weeks=52 + SEASON_BEFORE_WEEKS - 1), HORIZON) == 1.0


def test_forecast_carries_the_season():
    weights = np.zeros((4, 5))
    weights[:, 0] = 1.0  # the 13-week average
    y = _book(1.65)
    flat = DemandModel(weights, 1.0, seasonal=False).forecast(y, HORIZON)[0]
    seasonal = DemandModel(weights, 1.0).forecast(y, HORIZON)[0]
    np.testing.assert_allclose(flat, 5.0)
    np.testing.assert_allclose(seasonal, 5.0 * 1.65)


def test_the_interval_moves_with_the_level():
    """A point raised by the bias correction and the season carries its interval along."""
    weights = np.zeros((4, 5))
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
