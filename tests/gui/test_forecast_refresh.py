"""Suggested orders follow the data: a burst of invoice changes (an import, a sync pull) gives
one background forecast run; its own writes do not trigger another; a change during a run gives
exactly one more; the Today button runs the same job with progress."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Prediction
from mangalm_desktop.domain.changes import EVERYTHING, Changes
from tests.integration.test_forecast_service import TODAY, shop  # noqa: F401 - fixture

pytestmark = pytest.mark.gui


@pytest.fixture
def app(qtbot, runner, shop, tmp_path):  # noqa: F811 - the imported fixture
    from mangalm_desktop.gui.context import AppContext
    from mangalm_desktop.gui.forecast_refresher import start_forecast_refresher
    from mangalm_desktop.gui.main_window import MainWindow

    engine, ids = shop
    from mangalm_desktop.db.search import ensure_search_schema

    ensure_search_schema(engine, TODAY)  # as the app opens a database (open_database)
    ctx = AppContext(
        engine=engine, db_path=tmp_path / "laptop.sqlite", runner=runner, today=lambda: TODAY
    )
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    refresher = start_forecast_refresher(window, ctx)
    refresher.settle_ms = 50
    refresher.min_gap_s = 0
    yield window, refresher, engine
    window.close()


def live_predictions(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(
            select(func.count()).select_from(Prediction).where(Prediction.deleted.is_(False))
        )


def idle(refresher) -> bool:
    return not refresher.running and not refresher.settle_timer.isActive()


def test_a_burst_of_invoice_changes_gives_one_run(app, qtbot):
    window, refresher, engine = app
    assert live_predictions(engine) == 0
    for _ in range(3):  # an import emits its changes, then the views' own refreshes follow
        window.ctx.runner.changed.emit(EVERYTHING)
    qtbot.waitUntil(lambda: refresher.runs == 1 and idle(refresher), timeout=60_000)
    assert refresher.last_summary.stores_recomputed == 8
    assert live_predictions(engine) > 0
    # the run's own change (prediction) and order edits do not start another
    window.ctx.runner.changed.emit(Changes.of("prediction"))
    window.ctx.runner.changed.emit(Changes.of("orders", "order_line", "call_log"))
    qtbot.wait(300)
    assert refresher.runs == 1 and idle(refresher)


def test_a_change_during_a_run_gives_exactly_one_more(app, qtbot):
    window, refresher, engine = app
    refresher.run_now()
    assert refresher.running
    for _ in range(4):
        window.ctx.runner.changed.emit(Changes.of("invoice_line"))
    qtbot.waitUntil(lambda: refresher.runs == 2 and idle(refresher), timeout=60_000)
    # nothing changed since the first run: the second recomputes no store
    assert refresher.last_summary.stores_recomputed == 0
    qtbot.wait(300)
    assert refresher.runs == 2


def test_today_button_runs_it_with_progress(app, qtbot):
    window, refresher, engine = app
    view = window.show_view("today")
    progress = []
    refresher.progress.connect(lambda d, t, m: progress.append(m))
    qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton)
    assert not view.refresh_button.isEnabled() and view.progress.isVisible()
    qtbot.waitUntil(lambda: idle(refresher) and view.refresh_button.isEnabled(), timeout=60_000)
    assert not view.progress.isVisible()
    assert progress[0] == "reading history" and progress[-1] == "forecast done"
    qtbot.waitUntil(
        lambda: view.model.rowCount() + view.win_back_model.rowCount() == 8, timeout=20_000
    )
    assert live_predictions(engine) > 0


@pytest.mark.task_errors_expected
def test_a_failed_automatic_run_is_shown_without_a_dialog(app, qtbot, monkeypatch):
    import mangalm_desktop.forecasting.service as service

    window, refresher, engine = app
    view = window.show_view("today")
    qtbot.waitUntil(lambda: "stores to call" in view.summary.text(), timeout=20_000)

    def broken(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(service, "run_forecast", broken)
    window.ctx.runner.changed.emit(EVERYTHING)
    qtbot.waitUntil(lambda: refresher.runs == 1 and idle(refresher), timeout=30_000)
    qtbot.waitUntil(lambda: "could not be updated" in view.summary.text(), timeout=10_000)
    assert "No space left on device" in view.summary.text()
    assert view.refresh_button.isEnabled()
    assert window.last_error is None  # no modal dialog for a run nobody asked for


def test_automatic_runs_keep_a_minimum_gap(app, qtbot):
    """A laptop syncing every few minutes refits at most every MIN_GAP_S; the button does not
    wait."""
    window, refresher, engine = app
    refresher.min_gap_s = 3600
    window.ctx.runner.changed.emit(EVERYTHING)  # the first automatic run is not held back
    qtbot.waitUntil(lambda: refresher.runs == 1 and idle(refresher), timeout=60_000)
    window.ctx.runner.changed.emit(Changes.of("invoice_line"))  # the next sync, minutes later
    assert refresher.settle_timer.isActive()
    assert refresher.settle_timer.remainingTime() > 3_500_000  # waits out the hour
    refresher.run_now()  # "Update forecasts" does not wait
    assert refresher.runs == 2 and not refresher.settle_timer.isActive()
    qtbot.waitUntil(lambda: idle(refresher), timeout=60_000)
