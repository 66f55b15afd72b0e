"""The background warm-up (gui.warmup): every view's and window's code loads off the UI thread
without an error or a Qt warning, a module that fails is skipped, and stop() ends it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time

from mangalm_desktop.gui.views import VIEW_CLASSES
from mangalm_desktop.gui.views.base import LazyView
from mangalm_desktop.gui.warmup import Warmup, modules_to_warm


def test_every_lazy_view_is_warmed():
    warmed = modules_to_warm()
    for entry in VIEW_CLASSES:
        if isinstance(entry, LazyView):
            module = entry.target.partition(":")[0]
            assert f"mangalm_desktop.gui.views{module}" in warmed, entry
    assert "mangalm_desktop.gui.views.store_detail" in warmed  # the store card (pyqtgraph)
    assert len(warmed) == len(set(warmed))


def test_the_warm_up_loads_the_heavy_libraries_in_a_thread_of_a_fresh_process():
    """A fresh interpreter (this one has imported everything already): after the warm-up the
    libraries a first visit used to import on the UI thread are loaded, nothing failed, and Qt
    said nothing (a module making a widget when imported would warn or crash here)."""
    script = textwrap.dedent(
        """
        import json, sys
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from mangalm_desktop.gui.warmup import Warmup, modules_to_warm
        heavy = ["pandas", "pyqtgraph", "reportlab", "psycopg", "alembic", "httpx"]
        before = [m for m in heavy if m in sys.modules]
        warmup = Warmup(modules_to_warm(), pause_s=0).start()
        warmup._thread.join(120)
        print(json.dumps({"before": before, "after": [m for m in heavy if m in sys.modules],
                          "done": warmup.done, "failed": warmup.failed,
                          "alive": warmup.is_alive()}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["before"] == []  # the start-up path loads none of them
    assert result["after"] == ["pandas", "pyqtgraph", "reportlab", "psycopg", "alembic", "httpx"]
    assert result["failed"] == [] and result["done"] == modules_to_warm()
    assert not result["alive"]
    noise = [
        line
        for line in proc.stderr.splitlines()
        if line.strip() and "propagateSizeHints" not in line  # the offscreen platform's own
    ]
    assert noise == []


def test_a_module_that_fails_is_logged_and_skipped(caplog):
    caplog.set_level(logging.WARNING, logger="mangalm_desktop.gui.warmup")
    warmup = Warmup(["json", "mangalm_desktop.no_such_module", "csv"], pause_s=0).start()
    warmup._thread.join(30)
    assert warmup.done == ["json", "csv"]
    assert warmup.failed == ["mangalm_desktop.no_such_module"]
    assert "could not load mangalm_desktop.no_such_module" in caplog.text


def test_stop_ends_it_between_modules():
    warmup = Warmup(["json", "csv"], pause_s=30).start()
    deadline = time.monotonic() + 10
    while not warmup.done and time.monotonic() < deadline:
        time.sleep(0.01)
    assert warmup.done == ["json"]  # now in its 30 s pause before "csv"
    started = time.monotonic()
    warmup.stop(timeout_s=10)
    assert time.monotonic() - started < 5  # the stop woke the pause
    assert not warmup.is_alive()
    assert warmup.done == ["json"]


def test_stopped_before_it_started_loads_nothing():
    warmup = Warmup(["json"])
    warmup.stop()
    warmup.start()
    warmup._thread.join(10)
    assert warmup.done == []
