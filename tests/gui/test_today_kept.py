"""Today at the next start: the list this laptop worked out last shows at once, said as such,
and the fresh list replaces it (at 100,000 stores the fresh one takes seconds)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import Store
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.forecasting import service
from mangalm_desktop.forecasting.today_snapshot import KEEP
from tests.gui.conftest import AS_OF

pytestmark = pytest.mark.gui
WAIT = 20_000


def _first_start(demo_forecast_template, tmp_path, make_window, qtbot):
    """A copy of the forecast demo opened, Today shown with its list: (window, engine, view,
    the copy's path)."""
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_forecast_template, path)
    engine = open_local_database(path)
    ensure_search_schema(engine, AS_OF)
    window = make_window(engine, path)
    today = window.show_view("today")
    qtbot.waitUntil(lambda: "stores to call" in today.summary.text(), timeout=WAIT)
    return window, engine, today, path


def test_the_next_start_shows_the_kept_list_until_the_fresh_one(
    demo_forecast_template, tmp_path, make_window, qtbot, monkeypatch
):
    first, engine, today, path = _first_start(demo_forecast_template, tmp_path, make_window, qtbot)
    shown = [e.store_id for e in today.rows[:10]]
    assert shown and "as of" not in today.summary.text()  # nothing was kept before
    assert first.ctx.runner.wait_idle()  # the list is kept in the background
    first.close()

    # the next start; the fresh list is slow, as at 100,000 stores
    real = service.todays_calls

    def slow(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "todays_calls", slow)
    second = make_window(engine, path)
    today = second.show_view("today")
    qtbot.waitUntil(lambda: "Updating" in today.summary.text(), timeout=WAIT)
    assert "The list as of" in today.summary.text()
    assert [e.store_id for e in today.rows[:10]] == shown
    assert today.table.selectionModel().selectedRows()[0].row() == 0
    qtbot.waitUntil(
        lambda: "stores to call" in today.summary.text() and "as of" not in today.summary.text(),
        timeout=WAIT,
    )
    assert [e.store_id for e in today.rows[:10]] == shown  # the same day: the same list
    engine.dispose()


def test_showing_today_makes_only_the_entries_on_screen(
    demo_forecast_template, tmp_path, make_window, qtbot
):
    """Today's columns are sized from the first rows, not from up to a thousand: each row
    read is an entry made and its texts formatted on the UI thread (at 100,000 stores that
    held the first rows back). Scrolling makes the rows come into view."""
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_forecast_template, path)
    engine = open_local_database(path)
    with session_scope(engine) as s:  # new stores without orders yet: a long list
        s.add_all(Store(id=uuid.uuid4(), code=f"N{i:03d}", name=f"New {i}") for i in range(400))
    ensure_search_schema(engine, AS_OF)
    window = make_window(engine, path)
    today = window.show_view("today")
    qtbot.waitUntil(lambda: "stores to call" in today.summary.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: bool(today.rows.made()), timeout=WAIT)  # painted
    assert window.ctx.runner.wait_idle()  # and the top of the list kept (KEEP rows made)
    assert len(today.rows) > KEEP + 100
    assert max(today.rows.made()) < KEEP  # none further down made to size the columns
    today.table.setFocus()
    QTest.keyClick(today.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)  # the end
    last = len(today.rows) - 1
    qtbot.waitUntil(lambda: today.table.currentIndex().row() == last, timeout=WAIT)
    qtbot.waitUntil(lambda: last in today.rows.made(), timeout=WAIT)  # painted when seen
    assert len(today.rows.made()) < len(today.rows)
    assert today.model.index(last, 1).data() == today.rows[last].store_name == "New 399"
    engine.dispose()


KEPT_START = """
import sys
from datetime import date
from pathlib import Path
from PySide6.QtWidgets import QApplication
from mangalm_desktop.gui.app import make_app, open_database, run_blocking
from mangalm_desktop.gui.context import AppContext
from mangalm_desktop.gui.main_window import MainWindow
from mangalm_desktop.gui.settings import settings, use_settings_dir
from mangalm_desktop.gui.workers import TaskRunner

db, folder, day = Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3])
use_settings_dir(folder)
settings().setValue("main/lastView", "today")
app = make_app()
runner = TaskRunner()
w = MainWindow(AppContext(engine=None, db_path=db, runner=runner, today=lambda: day))
w.show()
w.database_ready(run_blocking(runner, open_database, db, day))
view = w.current_view()
seen = []
view.model.modelReset.connect(lambda: seen.append(("pandas" in sys.modules, view._fresh_shown)))
while not view._fresh_shown:
    app.processEvents()
runner.wait_idle(60_000)
print(*seen[0], "pandas" in sys.modules)
"""


def test_the_kept_list_is_shown_before_the_forecasting_stack_is_loaded(
    demo_forecast_template, tmp_path, make_window, qtbot
):
    """At the next start the kept list needs neither pandas nor the models (~0.7 s to load at
    start on this machine): they are loaded on a worker, for the fresh list, once the kept
    rows are on screen (issue 21)."""
    first, engine, today, path = _first_start(demo_forecast_template, tmp_path, make_window, qtbot)
    assert first.ctx.runner.wait_idle()  # the list is kept
    first.close()
    engine.dispose()

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            KEPT_START,
            str(path),
            str(tmp_path / "settings"),
            AS_OF.isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=True,
    )
    at_first, fresh_first, at_end = out.stdout.strip().splitlines()[-1].split()
    assert fresh_first == "False"  # the first rows shown were the kept ones
    assert (at_first, at_end) == ("False", "True")  # loaded for the fresh list, after
