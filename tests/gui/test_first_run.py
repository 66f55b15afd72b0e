"""First start: the welcome dialog offers demo / connect / empty; start-up errors are dialogs."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from PySide6.QtCore import Qt

from mangalm_desktop.gui import app as gui_app
from mangalm_desktop.gui.first_run import FirstRunChoice, FirstRunDialog


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"demo": False, "db": None, **kw})


def test_first_run_only_when_nothing_is_named_and_no_database_exists(tmp_path, monkeypatch):
    monkeypatch.delenv("MANGALM_DB", raising=False)
    default = tmp_path / "data" / "mangalm.sqlite"
    monkeypatch.setattr(gui_app, "default_db_path", lambda explicit=None: default)
    assert gui_app.is_first_run(_args())
    assert not gui_app.is_first_run(_args(demo=True))
    assert not gui_app.is_first_run(_args(db=str(tmp_path / "x.sqlite")))
    monkeypatch.setenv("MANGALM_DB", str(tmp_path / "y.sqlite"))
    assert not gui_app.is_first_run(_args())
    monkeypatch.delenv("MANGALM_DB")
    default.parent.mkdir()
    default.write_bytes(b"")
    assert not gui_app.is_first_run(_args())


def test_welcome_dialog_buttons_choose(qtbot, tmp_path):
    for button_name, expected in (
        ("demo_button", FirstRunChoice.DEMO),
        ("connect_button", FirstRunChoice.CONNECT),
        ("empty_button", FirstRunChoice.EMPTY),
    ):
        dialog = FirstRunDialog(str(tmp_path))
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.mouseClick(getattr(dialog, button_name), Qt.MouseButton.LeftButton)
        assert dialog.choice is expected
        assert dialog.result() == FirstRunDialog.DialogCode.Accepted
        dialog.grab().save(str(tmp_path / f"welcome-{expected.value}.png"))


def test_exit_when_shown_probe_opens_the_database_and_quits(tmp_path):
    db = tmp_path / "probe.sqlite"
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "MANGALM_EXIT_WHEN_SHOWN": "1",
        "MANGALM_DB_ENCRYPTION": "off",  # no keyring in this bare environment (docs/security.md)
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mangalm_desktop", "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert db.exists() and db.read_bytes()[:16] == b"SQLite format 3\x00"


def test_app_demo_opens_the_database_the_cli_demo_wrote(tmp_path):
    """`mangalm demo` then `mangalm-desktop --demo`: one file, kept as the CLI left it."""
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "MANGALM_EXIT_WHEN_SHOWN": "1",
        "MANGALM_DB_ENCRYPTION": "off",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # the tree under test
    }
    cli = [sys.executable, "-m", "mangalm_desktop.cli.main"]
    made = subprocess.run(
        [*cli, "demo", "--small", "-q"], env=env, capture_output=True, text=True, timeout=300
    )
    assert made.returncode == 0, made.stderr[-2000:]
    demo = tmp_path / "data" / "MangalmSales" / "demo.sqlite"
    assert f"written to {demo}" in made.stdout
    before = _orders(demo)
    proc = subprocess.run(
        [sys.executable, "-m", "mangalm_desktop", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = sorted(p.name for p in demo.parent.glob("*.sqlite"))
    assert files == ["demo.sqlite"]  # no second demo was made
    assert before and _orders(demo) == before  # the CLI's company, not a new one


def _orders(path) -> list[str]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT number FROM orders ORDER BY number")]
