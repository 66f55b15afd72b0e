"""GUI fixtures: UI state in a temp dir, a task runner, and a window on a migrated database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mangalm_desktop.gui.settings import use_settings_dir

AS_OF = dt.date(2026, 11, 3)


@pytest.fixture(autouse=True)
def settings_dir(tmp_path: Path):
    folder = tmp_path / "qsettings"
    use_settings_dir(folder)
    yield folder
    use_settings_dir(None)


@pytest.fixture
def runner(qapp):
    from mangalm_desktop.gui.workers import TaskRunner

    r = TaskRunner()
    yield r
    r.shutdown()


@pytest.fixture
def make_window(qtbot, runner):
    """Build a MainWindow on ``engine``/``path``; several calls simulate restarts."""
    from mangalm_desktop.gui.context import AppContext
    from mangalm_desktop.gui.main_window import MainWindow

    windows = []

    def make(engine, path: Path):
        ctx = AppContext(engine=engine, db_path=path, runner=runner, today=lambda: AS_OF)
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
