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


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A small demo company (30 stores, 60 products, 2 years), made once per test run."""
    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.db.search import ensure_search_schema, refresh_store_stats
    from mangalm_desktop.demo import DEFAULT_TODAY, SMALL, create_demo_company

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    engine = open_local_database(path)
    ensure_search_schema(engine, AS_OF)
    create_demo_company(engine, 1, today=DEFAULT_TODAY, **SMALL)
    refresh_store_stats(engine, AS_OF)
    engine.dispose()
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path):
    """A private copy of the demo database, opened the way the app opens it."""
    import shutil

    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.db.search import ensure_search_schema

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    engine = open_local_database(path)
    ensure_search_schema(engine, AS_OF)
    yield engine, path
    engine.dispose()
