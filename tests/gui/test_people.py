"""The test helpers' modal answerer ends with its test.

CI once failed a mail test with "no button 'Yes'": a journey test had asked for the optional
credit-limit box to be answered, no box came, and its poller (on Qt timers) was still polling
when the next test's "Send again?" box opened. These two tests run in this order: the first
leaves a poller waiting, the second opens a box that poller would answer.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.gui.people import answer_modal, click_text, stop_answering

pytestmark = pytest.mark.gui


def test_a_poller_whose_dialog_never_comes_is_left_waiting(qtbot):
    got = answer_modal(QMessageBox, lambda box: click_text(box, "Yes"), timeout_s=10)
    qtbot.wait(50)
    assert not got.done and not got.stopped  # still polling as the test ends


def test_the_next_tests_dialog_is_not_answered_by_it(qtbot):
    box = QMessageBox(QMessageBox.Icon.Question, "Send again?", "Send it again?")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setModal(True)
    qtbot.addWidget(box)
    box.show()
    qtbot.waitUntil(box.isVisible)
    qtbot.wait(300)  # 15 polls of a left-over answerer
    assert box.isVisible() and box.clickedButton() is None


def test_stop_answering_ends_every_poller(qtbot):
    first = answer_modal(QMessageBox, lambda box: None)
    second = answer_modal(QMessageBox, lambda box: None)
    assert stop_answering() == 2
    assert first.stopped and second.stopped and stop_answering() == 0
