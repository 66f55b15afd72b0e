"""Today at the next start: the list this laptop worked out last shows at once, said as such,
and the fresh list replaces it (at 100,000 stores the fresh one takes seconds)."""

from __future__ import annotations

import shutil
import time

import pytest

from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.search import ensure_search_schema
from mangalm_desktop.forecasting import service
from tests.gui.conftest import AS_OF

pytestmark = pytest.mark.gui
WAIT = 20_000


def test_the_next_start_shows_the_kept_list_until_the_fresh_one(
    demo_forecast_template, tmp_path, make_window, qtbot, monkeypatch
):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_forecast_template, path)
    engine = open_local_database(path)
    ensure_search_schema(engine, AS_OF)
    first = make_window(engine, path)
    today = first.show_view("today")
    qtbot.waitUntil(lambda: "stores to call" in today.summary.text(), timeout=WAIT)
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
