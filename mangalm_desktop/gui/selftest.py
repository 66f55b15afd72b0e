"""``mangalm-desktop --self-test``: the frozen app proves it can start and show every view.

Runs offscreen on a temporary demo database (small demo: seconds, not minutes), opens each view
in navigation order, waits for its data, asks it to check itself, opens a store's detail, and
exits 0 only if all of that worked and no error was reported on the way. Packaging runs it on
the built executable.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SELF_TEST_SIZES = {"stores": 30, "products": 60, "agents": 3, "years": 1}
WAIT_MS = 30_000  # per view: its data and any background work it started


def private_keyring() -> KeyringBackend:
    """An in-memory keyring for the run: the self-test must never read or write the person's
    real secrets, and must work where no OS keyring exists (CI, a fresh VM)."""
    import keyring

    from ..security.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    return previous


def run_self_test(*, verbose: bool = False, sizes: dict[str, int] | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    def say(line: str) -> None:
        print(line, flush=True)

    import keyring

    previous_keyring = private_keyring()
    try:
        return _run(say, verbose=verbose, sizes=sizes)
    finally:
        keyring.set_keyring(previous_keyring)


def _run(say, *, verbose: bool, sizes: dict[str, int] | None) -> int:  # noqa: ANN001
    from ..demo import DEFAULT_TODAY
    from .app import ensure_demo, make_app, open_database, run_blocking
    from .context import AppContext
    from .main_window import MainWindow
    from .settings import use_settings_dir
    from .workers import TaskRunner

    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mangalm-selftest-") as tmp:
        use_settings_dir(Path(tmp) / "settings")
        app = make_app(["mangalm-desktop"])
        runner = TaskRunner()
        started = time.perf_counter()
        try:
            db_path = Path(tmp) / "selftest.sqlite"
            engine = run_blocking(runner, open_database, db_path, DEFAULT_TODAY)
            demo_sizes: dict[str, Any] = dict(sizes or SELF_TEST_SIZES)
            run_blocking(runner, ensure_demo, engine, DEFAULT_TODAY, **demo_sizes)
            say(f"ok   database and demo company ({time.perf_counter() - started:.1f} s)")
        except Exception:
            say("FAIL database and demo company\n" + traceback.format_exc())
            return 1
        ctx = AppContext(
            engine=engine,
            db_path=db_path,
            runner=runner,
            today=lambda: DEFAULT_TODAY,
        )
        window = MainWindow(ctx)
        window.show()
        app.processEvents()
        for cls in window.view_classes:
            try:
                view = window.show_view(cls.view_id)
                if not runner.wait_idle(WAIT_MS):
                    raise TimeoutError(
                        f"the view's data did not arrive within {WAIT_MS // 1000} s "
                        f"(still running: {', '.join(runner.running_names)})"
                    )
                view.self_test()
                if window.last_error is not None:
                    raise RuntimeError(f"error shown: {window.last_error}")
                say(f"ok   view {cls.title}")
            except Exception:
                failures.append(cls.title)
                say(f"FAIL view {cls.title}\n" + traceback.format_exc())
        try:
            stores = window.show_view("stores")
            open_first = getattr(stores, "open_first_store", None)
            if open_first is None:
                raise RuntimeError("the Stores view cannot open a store")
            detail = open_first()
            if not runner.wait_idle(WAIT_MS):
                raise TimeoutError(
                    f"the store's data did not arrive within {WAIT_MS // 1000} s "
                    f"(still running: {', '.join(runner.running_names)})"
                )
            detail.self_test()
            if window.last_error is not None:
                raise RuntimeError(f"error shown: {window.last_error}")
            say(f"ok   store detail ({detail.windowTitle()})")
            detail.close()
        except Exception:
            failures.append("store detail")
            say("FAIL store detail\n" + traceback.format_exc())
        window.close()
        runner.shutdown()
        engine.dispose()
        use_settings_dir(None)
    if failures:
        say(f"self-test FAILED: {', '.join(failures)}")
        return 1
    say(f"self-test passed in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_self_test())
