"""GUI fixtures: UI state in a temp dir, a task runner, a window on a migrated database, and a
guard that fails any GUI test on a traceback or a Qt warning.

The guard: pytest-qt already installs a ``sys.excepthook`` for the test (an exception in a slot
or a Qt virtual fails the test) and a Qt message handler (``qtlog``); :func:`no_tracebacks`
adds the failure on any Qt warning beyond the offscreen platform's noise, and on any task that
failed with a programming error (a worker logs it with its traceback; a ``UserError`` is an
answer in words, not a defect).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from mangalm_desktop.gui.settings import use_settings_dir
from tests.gui.people import stop_answering

AS_OF = dt.date(2026, 11, 3)

OFFSCREEN_NOISE = (
    "This plugin does not support",  # offscreen: propagateSizeHints, raise, grabbing the mouse
    "QFont::setPointSizeF: Point size <= 0",  # offscreen: no screen DPI for some styles
)


class _TaskTracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        from mangalm_desktop.domain.errors import UserError

        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and not isinstance(exc, UserError):
            self.records.append(record)


@pytest.fixture(autouse=True)
def no_tracebacks(request):
    """Fail the test on a Qt warning (beyond offscreen noise) or a task's traceback."""
    handler = _TaskTracebacks()
    logger = logging.getLogger("mangalm_desktop")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    stop_answering()  # a dialog this test waited for in vain must not be answered in the next
    capture = getattr(request.node, "qt_log_capture", None)
    records = capture.records if capture is not None else []
    warnings = [
        r.message
        for r in records
        if r.type_name in ("QtWarningMsg", "QtCriticalMsg", "QtFatalMsg")
        and not any(n in r.message for n in OFFSCREEN_NOISE)
    ]
    tracebacks = [f"{r.getMessage()}: {r.exc_info[1]!r}" for r in handler.records if r.exc_info]
    assert not warnings, f"Qt warnings: {warnings}"
    if request.node.get_closest_marker("task_errors_expected") is None:
        assert not tracebacks, f"tasks failed with a traceback: {tracebacks}"


@pytest.fixture(autouse=True)
def settings_dir(tmp_path: Path):
    folder = tmp_path / "qsettings"
    use_settings_dir(folder)
    yield folder
    use_settings_dir(None)


@pytest.fixture
def world(pg_migrated_url, tmp_path, monkeypatch):
    """A central database with two agents and a manager (``sync_support.build_world``); this
    test's own data folder, where a laptop's connection settings go."""
    from tests.integration.sync_support import build_world

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return build_world(pg_migrated_url)


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


@pytest.fixture(scope="session")
def demo_forecast_template(demo_template: Path, tmp_path_factory) -> Path:
    """The small demo company with its suggested orders computed (Today and Predictions)."""
    import shutil

    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.forecasting.service import run_forecast

    path = tmp_path_factory.mktemp("demo_forecast") / "demo.sqlite"
    shutil.copy(demo_template, path)
    engine = open_local_database(path)
    run_forecast(engine, today=AS_OF, identity=None)
    engine.dispose()
    return path


@pytest.fixture
def demo_window(demo_forecast_template: Path, tmp_path: Path, make_window):
    """The main window on a private copy of the forecast demo: (window, engine)."""
    import shutil

    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.db.search import ensure_search_schema

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_forecast_template, path)
    engine = open_local_database(path)
    ensure_search_schema(engine, AS_OF)
    yield make_window(engine, path), engine
    engine.dispose()
