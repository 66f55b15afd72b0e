"""The activity (dormancy) model is fitted once per forecast run and stored; Today's call list
reads it instead of refitting on every load, and says so when it had to fit one itself."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import ActivityModelStore
from mangalm_desktop.forecasting import service
from mangalm_desktop.forecasting.activity import ActivityModel, fit_activity_model, store_activity
from mangalm_desktop.forecasting.service import ACTIVITY_KEY, run_forecast, todays_calls
from tests.integration.test_forecast_service import TODAY, shop  # noqa: F401 - fixture


@pytest.fixture
def fits(monkeypatch):
    """Counts Today's own fits of the activity model (run_forecast's are not counted)."""
    calls: list[int] = []
    real = service.fit_activity_model

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "fit_activity_model", counting)
    return calls


def test_forecast_run_stores_the_model_and_today_does_not_refit(shop, fits):  # noqa: F811
    engine, ids = shop
    run_forecast(engine, today=TODAY, identity=None)
    with session_scope(engine) as s:
        row = s.get(ActivityModelStore, ACTIVITY_KEY)
        assert row is not None and row.fitted_for == TODAY and row.horizon_days == 56
    fits.clear()
    calls = todays_calls(engine, today=TODAY, identity=None)
    assert fits == []  # the old code fitted the model on every load
    assert calls.note == ""
    assert [e.store_id for e in calls.win_back] == [ids["S5"]]
    assert len(calls.to_call) == 7
    # the chances shown are the stored model's
    with session_scope(engine) as s:
        stored = service.stored_activity_model(s, TODAY)
        orders, codes = service._orders_frame(service._order_days(s, TODAY), [])
    assert stored is not None
    expected = stored.predict(store_activity(orders, service._origin(TODAY)))
    quiet = next(e for e in calls.win_back if e.store_id == ids["S5"])
    assert quiet.chance_in_horizon == pytest.approx(expected.loc[codes[ids["S5"].hex], "p_horizon"])
    # and still usable a few days later (features are cut at that day, the model is the run's)
    later = todays_calls(
        engine, today=TODAY + dt.timedelta(days=service.ACTIVITY_STALE_DAYS), identity=None
    )
    assert fits == [] and later.note == ""


def test_without_a_stored_model_today_fits_one_and_says_why(shop, fits):  # noqa: F811
    engine, _ids = shop
    calls = todays_calls(engine, today=TODAY, identity=None)
    assert fits == [1]
    assert "worked out now" in calls.note
    assert "no forecast run has stored them yet" in calls.note
    assert len(calls.to_call) == 7


def test_a_stale_model_is_not_used(shop, fits):  # noqa: F811
    engine, _ids = shop
    run_forecast(
        engine, today=TODAY - dt.timedelta(days=service.ACTIVITY_STALE_DAYS + 1), identity=None
    )
    fits.clear()
    calls = todays_calls(engine, today=TODAY, identity=None)
    assert fits == [1]
    assert "the last forecast run is from" in calls.note


def test_an_unreadable_model_is_refitted_not_a_traceback(shop, fits):  # noqa: F811
    engine, _ids = shop
    run_forecast(engine, today=TODAY, identity=None)
    with session_scope(engine) as s:
        s.get(ActivityModelStore, ACTIVITY_KEY).payload = b"not an npz"
    fits.clear()
    calls = todays_calls(engine, today=TODAY, identity=None)
    assert fits == [1]
    assert "another version" in calls.note


def test_a_run_with_nothing_to_recompute_still_refreshes_a_stale_model(shop):  # noqa: F811
    engine, _ids = shop
    old = TODAY - dt.timedelta(days=30)
    run_forecast(engine, today=TODAY, identity=None)
    with session_scope(engine) as s:
        s.get(ActivityModelStore, ACTIVITY_KEY).fitted_for = old
    summary = run_forecast(engine, today=TODAY, identity=None)
    assert summary.note == "nothing changed"
    with session_scope(engine) as s:
        assert s.get(ActivityModelStore, ACTIVITY_KEY).fitted_for == TODAY


def test_stored_trees_predict_exactly_as_fitted():
    rng = np.random.default_rng(3)
    rows = []
    for s in range(400):
        gap = int(rng.integers(5, 60))
        stop = int(rng.integers(0, 300)) if s % 4 == 0 else 0
        rows += [(s, d) for d in range(600 - stop - int(rng.integers(0, gap)), 0, -gap)]
    orders = pd.DataFrame(rows, columns=["s", "day"]).assign(lines=2.0, units=9.0, value=np.nan)
    model = fit_activity_model(orders, 600, 56)
    assert not isinstance(model.week, type(None)) and hasattr(model.week, "trees_")
    feats = store_activity(orders, 600)
    back = ActivityModel.from_bytes(model.to_bytes())
    pd.testing.assert_frame_equal(back.predict(feats), model.predict(feats))
    with pytest.raises(ValueError):
        ActivityModel.from_bytes(b"\x00garbage")
