"""The demo's first start: the company is written without waiting for the forecast, and no
write-ahead log is left behind (a killed app used to leave one as large as the database)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import InvoiceLine, Prediction
from mangalm_desktop.demo import DEFAULT_TODAY, SMALL
from mangalm_desktop.domain.tasks import NULL_TASK
from mangalm_desktop.gui import app as gui_app

pytestmark = pytest.mark.gui


def test_demo_for_the_app_is_written_and_checkpointed_without_the_forecast(tmp_path):
    path = tmp_path / "demo.sqlite"
    engine = gui_app.open_database(NULL_TASK, path, DEFAULT_TODAY)
    assert gui_app.ensure_demo(NULL_TASK, engine, DEFAULT_TODAY, **SMALL)
    wal = path.with_name(path.name + "-wal")
    # a kill right now (the app is showing the company) leaves the database complete and no log
    assert not wal.exists() or wal.stat().st_size == 0
    with session_scope(engine) as s:
        # the small company (test_demo.py holds it to 4,000-40,000 lines; ~4,600 since issue 21)
        assert s.scalar(select(func.count()).select_from(InvoiceLine)) > 4_000
        assert s.scalar(select(func.count()).select_from(Prediction)) == 0  # in the background
    assert not gui_app.ensure_demo(NULL_TASK, engine, DEFAULT_TODAY, **SMALL)  # once only
    engine.dispose()


def test_the_forecast_waits_for_the_first_view(qapp, runner, qtbot):
    """``when_idle``: the demo's forecast starts once the first view's reads are done."""
    started = []
    release = threading.Event()

    def first_view_read(_task) -> None:  # noqa: ANN001 - TaskContext
        release.wait(10)

    runner.submit(first_view_read, name="first view")
    gui_app.when_idle(runner, lambda: started.append(runner.running))
    qtbot.wait(500)
    assert started == []  # still reading
    release.set()
    qtbot.waitUntil(lambda: started == [0], timeout=5_000)
