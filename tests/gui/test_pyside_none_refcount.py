"""PySide6 6.12.0 drops a reference to ``None`` each time a method returning ``void`` is
called (``QLabel.setText``, ``QComboBox.addItem``, ``QCoreApplication.processEvents``...).
On CPython 3.11, where ``None`` is not immortal, a long session then aborts with "Fatal Python
error: none_dealloc: deallocating None" (found while writing the issue-17 GUI tests: the
Predictions benchmark and the screenshot run died so). pyproject.toml keeps PySide6 below
6.12; this test fails on a version with the bug."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.gui


def test_void_qt_calls_keep_none_alive(qapp):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QComboBox, QLabel

    label, combo = QLabel(), QComboBox()
    before = sys.getrefcount(None)
    for _ in range(300):
        label.setText("x")
        combo.addItem("x")
        QCoreApplication.processEvents()
    assert sys.getrefcount(None) > before - 100  # 900 calls: a leak would drop it by 900
