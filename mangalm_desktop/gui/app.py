"""Entry point of the desktop app: ``mangalm-desktop`` / ``python -m mangalm_desktop``.

Options: ``--db PATH`` (which database), ``--demo`` (a demo company in its own database, created
on first use), ``--self-test`` (offscreen smoke test on a temporary demo database; exit 0 only
if every view and a store detail opened). Opening/upgrading the database and writing the demo
run in workers; the UI thread only waits in an event loop with a progress dialog.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog

from ..db.paths import data_dir, default_db_path, demo_db_path, log_dir
from .resources import icon, stylesheet
from .settings import APPLICATION, ORGANIZATION
from .workers import TaskRunner

if TYPE_CHECKING:  # SQLAlchemy loads in the worker that opens the database, after the window
    from sqlalchemy import Engine

    from ..domain.tasks import TaskContext
    from .first_run import FirstRunChoice

# Error dialogs, the welcome dialog and the log file's handlers are imported where they are
# used: the first frame needs none of them (cold start, benchmarks/gui_bench.py).

log = logging.getLogger(__name__)

DEMO_LABEL = (
    "Creating the demo company (about 10–20 seconds, only the first time; its suggested "
    "orders follow in the background)…"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mangalm-desktop", description="Mangalm Sales desktop application."
    )
    parser.add_argument("--db", metavar="PATH", help="database file (default: user data dir)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open a demo company (created on first use in its own database file)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="open every view and a store on a temporary demo database offscreen; exit 0 if OK",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    return parser


def make_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication with names, icon and a stylesheet that follows the OS palette."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv or sys.argv[:1]))
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Mangalm Sales")
    app.setWindowIcon(icon("app"))
    apply_style(app)
    hints = app.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        # palette(...) references in the stylesheet resolve again against the new palette
        hints.colorSchemeChanged.connect(lambda _scheme: apply_style(app))
    return app


def apply_style(app: QApplication) -> None:
    app.setStyleSheet(stylesheet())


def is_dark(app: QApplication | None = None) -> bool:
    app = app or QApplication.instance()
    if app is None:
        return False
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return app.palette().window().color().lightness() < 128


def run_blocking(
    runner: TaskRunner,
    fn: Callable[..., Any],
    *args: Any,
    label: str = "",
    write: bool = True,
    **kwargs: Any,
) -> Any:
    """Run ``fn(ctx, *args)`` in a worker and wait in an event loop (the UI stays painted).

    Re-raises the worker's exception here, so startup code reads like plain code.
    """
    loop = QEventLoop()
    outcome: dict[str, Any] = {}
    dialog = None
    if label and QApplication.instance() is not None:
        dialog = QProgressDialog(label, "Cancel", 0, 0)
        dialog.setWindowTitle("Mangalm Sales")
        dialog.setMinimumDuration(400)
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)

    def progress(done: int, total: int, message: str) -> None:
        if dialog is not None:
            dialog.setRange(0, max(total, 0))
            dialog.setValue(min(done, total))
            if message:
                dialog.setLabelText(f"{label}\n{message}")

    def finish(key: str, value: Any) -> None:
        outcome[key] = value
        loop.quit()

    worker = runner.submit(
        fn,
        *args,
        write=write,
        on_done=lambda r: finish("result", r),
        on_error=lambda e: finish("error", e),
        on_cancelled=lambda: finish("cancelled", True),
        on_progress=progress,
        name=label or getattr(fn, "__name__", "task"),
        **kwargs,
    )
    if dialog is not None:
        dialog.canceled.connect(worker.cancel)
    if not outcome:
        loop.exec()
    if dialog is not None:
        dialog.close()
    if "error" in outcome:
        raise outcome["error"]
    if "cancelled" in outcome:
        from ..domain.errors import Cancelled

        raise Cancelled()
    return outcome.get("result")


def when_idle(runner: TaskRunner, fn: Callable[[], None], *, wait_ms: int = 20_000) -> None:
    """Call ``fn`` on the UI thread once ``runner`` has no task running (the first view's
    reads), or after ``wait_ms`` at the latest."""
    step = 100

    def check(left: int) -> None:
        if runner.running == 0 or left <= 0:
            fn()
        else:
            QTimer.singleShot(step, lambda: check(left - step))

    QTimer.singleShot(step, lambda: check(wait_ms))


def open_database(
    ctx: TaskContext, path: Path, as_of: dt.date | None = None, *, encrypt_new: bool = False
) -> Engine:
    """Open/upgrade the database and make sure search and store figures exist (worker thread).

    ``as_of``: the date the views' "days since" and "last 12 months" are counted from.
    An encrypted file opens with the keyring's key; a new one is created encrypted when
    ``encrypt_new`` (the app's real database; demo, self-test and screenshots stay plain).
    """
    from ..db.quickopen import open_if_current
    from ..db.search import ensure_search_schema

    ctx.progress(0, 2, "opening the database")
    engine = open_if_current(path)  # already up to date: no Alembic import (fast start)
    if engine is None:
        from ..security.local_store import open_store

        engine = open_store(path, encrypt_new=encrypt_new)
    ctx.progress(1, 2, "preparing search")
    # stale store figures are brought up to date in the background once the window has its
    # first view (gui/store_figures.py), so a new day or a big import never delays the start
    ensure_search_schema(engine, as_of, refresh_stale=False)
    return engine


def ensure_demo(
    ctx: TaskContext,
    engine: Engine,
    today: dt.date | None = None,
    *,
    forecast: bool = False,
    **sizes: int,
) -> bool:
    """Write the demo company if the database is empty; True if it was written.

    ``today``: the history ends the day before (the app passes the real date, so a new user
    sees recent orders; tests pass a fixed date). ``forecast``: also compute the suggested
    orders and the call list's expected values before returning (screenshots want them; the
    app instead shows the company at once and runs the forecast in the background, because
    the fit takes longer than writing the company). The write-ahead log is checkpointed and
    truncated afterwards, so a killed app leaves no log as large as the database behind.
    """
    from ..db.engine import checkpoint_wal
    from ..db.search import rebuild_search, refresh_store_stats
    from ..demo import create_demo_company, existing_data

    if existing_data(engine).get("store"):
        return False
    create_demo_company(engine, ctx=ctx, today=today, **sizes)
    rebuild_search(engine)
    refresh_store_stats(engine, today or dt.date.today())
    if forecast:
        from ..forecasting.service import run_forecast

        run_forecast(engine, ctx, today=today, identity=None)  # made-up data, nobody signed in
    checkpoint_wal(engine)
    return True


def database_path(args: argparse.Namespace) -> Path:
    """``--db``, else with ``--demo`` the demo database (the file ``mangalm demo`` writes, so
    both faces show one demo company, docs/demo.md), else ``MANGALM_DB`` or the default."""
    return demo_db_path(args.db) if args.demo else default_db_path(args.db)


def is_first_run(args: argparse.Namespace) -> bool:
    """No database named anywhere and none at the default place yet."""
    if args.demo or args.db or os.environ.get("MANGALM_DB"):
        return False
    return not default_db_path(None).exists()


def ask_first_run() -> FirstRunChoice:
    from .first_run import FirstRunDialog

    dialog = FirstRunDialog(str(data_dir()))
    dialog.exec()
    return dialog.choice


def main(argv: Sequence[str] | None = None) -> int:
    """Start the app; an unexpected start-up failure is shown in a dialog, never a traceback."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    if args.self_test:
        from .selftest import run_self_test

        return run_self_test(verbose=args.verbose)
    from ..applog import setup_logging
    from ..db.files import PRIVATE_UMASK

    if os.name == "posix":
        os.umask(PRIVATE_UMASK)  # database, logs, settings, reports: 0600 / 0700 (security.md)
    setup_logging(log_dir(), verbose=args.verbose)
    app = make_app()
    try:
        return _run(app, args)
    except Exception as exc:
        from .errors import ErrorDialog, describe

        log.exception("start-up failed")
        ErrorDialog(describe(exc, "starting Mangalm Sales")).exec()
        return 1


def _run(app: QApplication, args: argparse.Namespace) -> int:
    runner = TaskRunner()
    choice = None
    if is_first_run(args):
        from .first_run import FirstRunChoice  # only a first start shows the welcome dialog

        choice = ask_first_run()
        args.demo = args.demo or choice is FirstRunChoice.DEMO
    path = database_path(args)
    from .context import AppContext
    from .main_window import MainWindow

    # The window appears first (navigation, menus, remembered layout); the database opens in a
    # worker meanwhile and the views are built when it is ready.
    ctx = AppContext(engine=None, db_path=path, runner=runner)  # type: ignore[arg-type]
    window = MainWindow(ctx)
    window.show()
    try:
        engine = run_blocking(
            runner,
            open_database,
            path,
            dt.date.today(),
            encrypt_new=not args.demo,
            label="Opening the database…",
        )
        demo_written = False
        if args.demo:
            demo_written = run_blocking(
                runner,
                ensure_demo,
                engine,
                dt.date.today(),
                label=DEMO_LABEL,
            )
    except Exception as exc:  # shown in words; nothing was changed
        from .errors import ErrorDialog, describe

        log.warning("could not open %s: %s", path, exc)
        ErrorDialog(describe(exc, "opening the database"), window).exec()
        window.close()
        return 2
    if args.demo:
        from ..demo import demo_today

        # the company as of the day it was made for (a CLI demo: 2 Nov 2026), as the CLI sees it
        made_for = run_blocking(runner, lambda _ctx: demo_today(engine))
        if made_for is not None:
            ctx.today = lambda: made_for
    if not args.demo:
        from .signin_dialog import sign_in_at_start

        if not sign_in_at_start(window, ctx, engine):  # quit at the sign-in: nothing shown
            window.close()
            engine.dispose()
            return 0
    window.database_ready(engine)
    from .sync_controller import start_background_sync

    sync = start_background_sync(window, ctx)  # status bar + scheduled sync (if configured)
    from .confirmations import start_mail_sender

    start_mail_sender(window, ctx)  # status-bar mail button + background sending of the queue
    from .forecast_refresher import start_forecast_refresher

    refresher = start_forecast_refresher(window, ctx)  # suggested orders follow imports/syncs
    if demo_written:
        # the new demo's suggested orders: computed in the background while the person already
        # looks at the company (progress in the Today view and the status bar) — started once
        # the first view has its data, so the fit does not slow that down
        when_idle(runner, refresher.run_now)
    from .warmup import start_warmup

    # the other views' code (pandas, reportlab, psycopg...) loads once the start is idle, so
    # a first visit does not freeze on its imports
    warmup = start_warmup(lambda start: when_idle(runner, start))
    if choice is not None and choice is FirstRunChoice.CONNECT:
        from .sync_settings_dialog import CentralSettingsDialog

        dialog = CentralSettingsDialog(runner, window)
        dialog.accepted.connect(sync.reload_config)  # first sync right after saving
        dialog.open()
    if os.environ.get("MANGALM_EXIT_WHEN_SHOWN"):
        # start-up probe for build/build_app.py: quit as soon as the window has its data
        QTimer.singleShot(0, app.quit)
    code = app.exec()
    warmup.stop()
    from ..db.engine import checkpoint_wal

    try:
        checkpoint_wal(engine)  # leave no write-ahead log behind
    except Exception:  # a busy or vanished file must not turn a clean exit into an error
        log.warning("could not checkpoint the database at exit", exc_info=True)
    engine.dispose()
    return code


if __name__ == "__main__":
    sys.exit(main())
