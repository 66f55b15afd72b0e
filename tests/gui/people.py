"""What a person does with dialogs that open modally: read them, type, click their buttons.

A modal dialog opened with ``exec()`` (QInputDialog.getText, QMessageBox.question, the order's
"unsaved lines" box) blocks the test until someone answers it; :func:`answer_modal` schedules
that someone: it waits for the next visible modal widget of the wanted kind and hands it to
``answer``, which types and clicks its real buttons.

A poller lives on Qt timers, not on the test's stack: one whose dialog never came (the
optional credit-limit box) would go on polling into the next test and answer *its* dialog.
:func:`stop_answering` ends every poller; the GUI conftest calls it as each test ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialogButtonBox,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)


class Answered:
    """Filled by :func:`answer_modal`: the dialog that was answered and its text."""

    def __init__(self) -> None:
        self.dialog: QWidget | None = None
        self.text = ""
        self.stopped = False

    @property
    def done(self) -> bool:
        return self.dialog is not None


def answer_modal(
    kind: type[QWidget], answer: Callable[[QWidget], None], timeout_s: float = 10.0
) -> Answered:
    """When a modal ``kind`` dialog shows, call ``answer(dialog)`` (once)."""
    got = Answered()
    deadline = time.monotonic() + timeout_s
    _waiting.append(got)

    def poll() -> None:
        if got.stopped:
            return
        w = QApplication.activeModalWidget()
        if isinstance(w, kind) and w.isVisible():
            got.dialog = w
            got.text = dialog_text(w)
            _stop(got)
            answer(w)
            return
        if time.monotonic() < deadline:
            QTimer.singleShot(20, poll)
        else:
            _stop(got)

    QTimer.singleShot(0, poll)
    return got


_waiting: list[Answered] = []


def _stop(got: Answered) -> None:
    got.stopped = True
    if got in _waiting:
        _waiting.remove(got)


def stop_answering() -> int:
    """End every poller still waiting for its dialog; return how many there were."""
    left = list(_waiting)
    for got in left:
        _stop(got)
    return len(left)


def dialog_text(w: QWidget) -> str:
    if isinstance(w, QMessageBox):
        return f"{w.text()}\n{w.informativeText()}"
    if isinstance(w, QInputDialog):
        return w.labelText()
    return w.windowTitle()


def click(button: QAbstractButton) -> None:
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def click_text(dialog: QWidget, text: str) -> None:
    """Click the dialog's button whose label (without &) starts with ``text``."""
    for b in dialog.findChildren(QAbstractButton):
        if b.isVisible() and b.text().replace("&", "").startswith(text):
            click(b)
            return
    labels = [b.text() for b in dialog.findChildren(QAbstractButton)]
    raise AssertionError(f"no button {text!r} in {labels}")


def type_and_ok(text: str) -> Callable[[QWidget], None]:
    """Answer a QInputDialog: type ``text`` into its field and click OK."""

    def answer(d: QWidget) -> None:
        field = d.findChild(QLineEdit)
        field.selectAll()
        QTest.keyClicks(field, text)
        box = d.findChild(QDialogButtonBox)
        click(box.button(QDialogButtonBox.StandardButton.Ok))

    return answer


def press_cancel(d: QWidget) -> None:
    box = d.findChild(QDialogButtonBox)
    click(box.button(QDialogButtonBox.StandardButton.Cancel))
