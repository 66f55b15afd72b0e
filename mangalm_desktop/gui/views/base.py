"""The base of every view in the main window's navigation.

A view is a QWidget subclass with class attributes (``view_id``, ``title``, ``icon_name``,
``description``); the main window assigns Ctrl+1..9 in registry order. Views are created lazily
the first time they are shown (fast start) and are told about data changes through
:meth:`on_changes`.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from ...domain.changes import Changes
from ..context import AppContext


class View(QWidget):
    view_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    icon_name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"view_{self.view_id}")

    def activated(self) -> None:
        """Called each time the view becomes the current one (load data on first call)."""

    def on_changes(self, changes: Changes) -> None:
        """A write finished; refresh what this view shows if ``changes`` touches it."""

    def focus_search(self) -> bool:
        """Ctrl+F: put the cursor in this view's search box; False if it has none."""
        return False

    def save_state(self, settings: QSettings) -> None:
        """Persist splitters, column widths/order... under ``views/<view_id>/``."""

    def restore_state(self, settings: QSettings) -> None:
        """Restore what :meth:`save_state` wrote; unknown or corrupt values are ignored."""

    def self_test(self) -> None:
        """Raise if the view is not working (used by ``--self-test``); data already loaded."""

    def settings_key(self, name: str) -> str:
        return f"views/{self.view_id}/{name}"
