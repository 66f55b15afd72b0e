"""Store figures follow an import at once, without reopening the app and without the Stores view
open; figures of another day are redone in the background after the window shows, with the
status bar saying so."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.search import ensure_search_schema, stats_staleness
from tests.gui.conftest import AS_OF
from tests.gui.test_import_dialog import GOLDEN_CSV, click_import, open_dialog
from tests.integration.test_store_figures import expected, figures

pytestmark = pytest.mark.gui


def test_imported_invoices_reach_the_store_figures_without_reopening(
    tmp_path, make_window, qtbot, monkeypatch
):
    path = tmp_path / "laptop.sqlite"
    engine = open_local_database(path)
    ensure_search_schema(engine, AS_OF)
    window = make_window(engine, path)
    assert "stores" not in window.views  # opened on Today: nothing shows store figures yet
    dialog = open_dialog(window, qtbot, monkeypatch, GOLDEN_CSV)
    click_import(dialog, qtbot)

    want = expected(engine, AS_OF)
    assert len(want) == 2 and all(last for last, _ in want.values())
    qtbot.waitUntil(lambda: figures(engine) == want, timeout=10_000)
    assert stats_staleness(engine, AS_OF) == "current"

    # and a person clicking "Stores" in the navigation sees them
    dialog.close()
    item = window.nav.item(window.view_index("stores"))
    rect = window.nav.visualItemRect(item)
    QTest.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    view = window.views["stores"]
    qtbot.waitUntil(lambda: view.idle and view.model.rowCount() == 2, timeout=10_000)
    shown = {view.model.row_at(i).code: view.model.row_at(i).last_order for i in range(2)}
    assert {code: d.isoformat() for code, d in shown.items()} == {
        code: last for code, (last, _) in want.items()
    }
    engine.dispose()


def test_figures_of_another_day_are_redone_in_the_background(
    demo_template, tmp_path, runner, qtbot
):
    from mangalm_desktop.gui.context import AppContext
    from mangalm_desktop.gui.main_window import MainWindow

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    engine = open_local_database(path)
    earlier = AS_OF - dt.timedelta(days=40)  # the laptop was last opened weeks ago
    ensure_search_schema(engine, earlier)
    ensure_search_schema(engine, AS_OF, refresh_stale=False)  # as the app opens it
    assert stats_staleness(engine, AS_OF) == "date"
    assert figures(engine) == expected(engine, earlier) != expected(engine, AS_OF)

    # the window first, the database after (gui.app._run)
    window = MainWindow(AppContext(engine=None, db_path=path, runner=runner, today=lambda: AS_OF))
    qtbot.addWidget(window)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.show()
    window.database_ready(engine)
    qtbot.waitUntil(lambda: stats_staleness(engine, AS_OF) == "current", timeout=20_000)
    assert figures(engine) == expected(engine, AS_OF)
    assert "Updating store figures for 03 Nov 2026…" in messages
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "", timeout=5_000)
    window.close()
    engine.dispose()
