"""Click everything: on the small demo company, every enabled button of every view is clicked
and every menu action triggered, as a curious new user would; every dialog that opens is
answered "no"/"cancel". The autouse guard in ``conftest.py`` fails the test on any traceback
(pytest-qt's excepthook) or Qt warning; this test adds the rule that a refused dialog changes
nothing: after every "no", no order is cancelled or discarded; and that every label with a
keyboard mnemonic ("&Show") in what it opens has a buddy (without one Qt shows the "&").

On the code before issue 17 it found: "Cancel order" / "Discard draft" acted at once (no
question; ``clicked(bool)`` passed ``False`` as the reason) and "Save PDF…" raised a
``TypeError`` (``False`` as the path) — see docs/testing.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shiboken6
from PySide6 import QtGui
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QToolButton,
    QWidget,
)
from sqlalchemy import select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Order
from tests.gui.people import click
from tests.gui.test_day_seams import submit_from_today

pytestmark = pytest.mark.gui


class Refuser:
    """Answers every dialog, message box, menu and extra window with no/cancel/close, and
    writes down what it saw (the test's report of what each click led to)."""

    def __init__(self, main: QWidget) -> None:
        self.main = main
        self.keep: set[int] = set()  # windows being clicked through themselves (store card)
        self.seen: list[str] = []
        self.orphans: list[str] = []  # labels with a mnemonic and no buddy, in what opened
        self.timer = QTimer()
        self.timer.setInterval(30)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        from mangalm_desktop.gui.errors import ErrorDialog

        for w in QApplication.topLevelWidgets():
            if w is self.main or not w.isVisible() or id(w) in self.keep:
                continue
            self.orphans += [o for o in orphan_mnemonics(w) if o not in self.orphans]
            if isinstance(w, QMessageBox):
                self.seen.append(f"message: {w.text()}")
                button = w.escapeButton() or w.button(QMessageBox.StandardButton.No)
                if button is not None:
                    button.click()
                else:
                    w.reject()
            elif isinstance(w, ErrorDialog):
                self.seen.append(f"error shown: {w.report.message}")
                w.done(QDialog.DialogCode.Rejected)
            elif isinstance(w, QDialog):
                self.seen.append(f"dialog: {type(w).__name__} {w.windowTitle()}")
                w.done(QDialog.DialogCode.Rejected)
            elif isinstance(w, QMenu):
                w.close()
            elif w.isWindow() and type(w).__name__ not in ("QWidget",):
                self.seen.append(f"window: {type(w).__name__} {w.windowTitle()}")
                w.close()

    def stop(self) -> None:
        self.timer.stop()


MNEMONIC = re.compile(r"(?<!&)&(?!&)\w")


def orphan_mnemonics(root: QWidget) -> list[str]:
    """Labels with a keyboard mnemonic ("&Show") and no buddy: Qt then shows the ampersand
    itself and Alt+S goes nowhere."""
    found = []
    for label in root.findChildren(QLabel):
        text = label.text()
        if label.textFormat() == Qt.TextFormat.RichText or QtGui.Qt.mightBeRichText(text):
            continue  # "&amp;" and the like are markup, not mnemonics
        if MNEMONIC.search(text.replace("&&", "")) and label.buddy() is None:
            found.append(f"{type(root).__name__}: {text!r}")
    return found


def order_states(engine) -> dict:
    with session_scope(engine) as s:
        return {o.id: (o.state, o.deleted) for o in s.scalars(select(Order))}


def settle(window, qtbot) -> None:
    window.ctx.runner.wait_idle(60_000)
    qtbot.wait(60)
    window.ctx.runner.wait_idle(60_000)


def click_all(window, qtbot, root: QWidget, clicked: list[str]) -> None:
    """Two rounds: the first click of one button can enable another (Show → Export)."""
    done: set[int] = set()
    for _round in range(2):
        for b in root.findChildren(QAbstractButton):
            if id(b) not in done and shiboken6.isValid(b) and b.isVisible() and b.isEnabled():
                done.add(id(b))
                click_one(window, qtbot, root, b, clicked)


def click_one(window, qtbot, root: QWidget, b: QAbstractButton, clicked: list[str]) -> None:
    if True:
        clicked.append(f"{type(root).__name__}: {b.text() or b.objectName()}")
        click(b)
        settle(window, qtbot)
        if isinstance(b, QToolButton) and b.menu() is not None:
            for action in b.menu().actions():
                if action.isEnabled() and not action.isSeparator():
                    clicked.append(f"{type(root).__name__}: {action.text()}")
                    action.trigger()
                    settle(window, qtbot)


def test_click_every_button_and_action_in_every_view(
    demo_window, qtbot, tmp_path: Path, monkeypatch
):
    window, engine = demo_window
    saved: list[Path] = []

    def save_as(_parent=None, _caption="", default="", *_a, **_k):  # the person picks a file
        path = tmp_path / "out" / Path(str(default) or "file").name
        path.parent.mkdir(exist_ok=True)
        saved.append(path)
        return str(path), ""

    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName", save_as)
    for name in ("getOpenFileName", "getOpenFileNames"):  # ... and cancels opening one
        monkeypatch.setattr(
            f"PySide6.QtWidgets.QFileDialog.{name}",
            lambda *_a, _n=name, **_k: ([] if _n.endswith("s") else "", ""),
        )
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory", lambda *_a, **_k: "")
    opened: list[object] = []  # Share on WhatsApp opens a browser: none here
    monkeypatch.setattr(
        "PySide6.QtGui.QDesktopServices.openUrl", lambda url: opened.append(url) or True
    )

    mine = submit_from_today(window, qtbot)  # something to amend, cancel, print
    before = order_states(engine)
    refuser = Refuser(window)
    clicked: list[str] = []
    try:
        for entry in window.view_classes:
            view = window.show_view(entry.view_id)
            settle(window, qtbot)
            if entry.view_id == "orders":  # the person looks up the order they just took
                QTest.keyClicks(view.search, mine.number)
                qtbot.waitUntil(
                    lambda v=view: v.detail is not None and v.detail.number == mine.number,
                    timeout=20_000,
                )
            if entry.view_id == "stores":  # Enter on a store: its card, clicked through
                window.activateWindow()
                qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=20_000)
                view.table.setFocus()
                view.table.selectRow(0)
                QTest.keyClick(view.table, Qt.Key.Key_Return)
                qtbot.waitUntil(lambda v=view: bool(v.details), timeout=20_000)
                card = next(iter(view.details.values()))
                refuser.keep.add(id(card))
                settle(window, qtbot)
                refuser.orphans += orphan_mnemonics(card)
                click_all(window, qtbot, card, clicked)
                refuser.keep.discard(id(card))
                card.close()
            refuser.orphans += orphan_mnemonics(view)
            click_all(window, qtbot, view, clicked)
            window.show_view(entry.view_id)
            settle(window, qtbot)
        for menu in [a.menu() for a in window.menuBar().actions() if a.menu() is not None]:
            for action in menu.actions():
                if (
                    action.isEnabled()
                    and not action.isSeparator()
                    and action is not window.quit_action
                ):
                    clicked.append(f"menu: {action.text()}")
                    action.trigger()
                    settle(window, qtbot)
    finally:
        refuser.stop()
    after = order_states(engine)
    views = {c.split(":")[0] for c in clicked}
    assert len(views) >= 6, clicked  # every view with buttons was reached
    # every question was answered no: nothing that existed was cancelled, discarded or deleted
    changed = {k: (before[k], after.get(k)) for k in before if after.get(k) != before[k]}
    assert not changed, f"refused dialogs still changed orders: {changed}; saw {refuser.seen}"
    assert refuser.orphans == []  # every "&Label" names the widget its Alt+key goes to
    print("\n".join(clicked + refuser.seen))
