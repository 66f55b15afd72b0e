"""The base of every view in the main window's navigation.

A view is a QWidget subclass with class attributes (``view_id``, ``title``, ``icon_name``,
``description``); the main window assigns Ctrl+1..9 in registry order. Views are created lazily
the first time they are shown (fast start) and are told about data changes through
:meth:`on_changes`.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QLineEdit, QSplitter, QWidget

from ...domain.changes import Changes
from ..context import AppContext
from ..resources import icon


class View(QWidget):
    view_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    icon_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    permission: ClassVar[str | None] = None

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

    def save_layout(self, settings: QSettings, **parts: QHeaderView | QSplitter) -> None:
        """For :meth:`save_state`: each part's state (a table's columns, a splitter's sizes)
        under its keyword, e.g. ``self.save_layout(settings, header=..., splitter=...)``."""
        for key, part in parts.items():
            settings.setValue(self.settings_key(key), part.saveState())

    def restore_layout(self, settings: QSettings, **parts: QHeaderView | QSplitter) -> None:
        """For :meth:`restore_state`: what :meth:`save_layout` kept; a missing, empty or
        foreign value leaves the part as it is."""
        for key, part in parts.items():
            state = settings.value(self.settings_key(key))
            if isinstance(state, QByteArray) and not state.isEmpty():
                part.restoreState(state)


class LazyView:
    """A registry entry whose module is imported only when the view is first shown.

    Navigation needs only the id, title and icon; importing every view (pandas, pyqtgraph,
    statsforecast...) at start-up would triple the cold start. Calling the entry like a class
    imports ``target`` ("package.module:ClassName", relative to ``gui.views`` when it starts
    with a dot) and builds the view.
    """

    def __init__(
        self,
        view_id: str,
        title: str,
        icon_name: str,
        target: str,
        *,
        description: str = "",
        new_order: bool = False,
        permission: str | None = None,
    ) -> None:
        self.view_id = view_id
        self.permission = permission
        """A ``security.roles.Permission`` value the signed-in person needs to see the view
        (hidden as a courtesy: the services refuse the work anyway)."""
        self.title = title
        self.icon_name = icon_name
        self.target = target
        self.description = description
        self.provides_new_order = new_order
        self._cls: type[View] | None = None

    def load(self) -> type[View]:
        if self._cls is None:
            import importlib

            module_name, _, class_name = self.target.partition(":")
            package = __name__.rsplit(".", 1)[0] if module_name.startswith(".") else None
            module = importlib.import_module(module_name, package)
            self._cls = getattr(module, class_name)
        return self._cls

    def __call__(self, ctx: AppContext, parent: QWidget | None = None) -> View:
        return self.load()(ctx, parent)

    def __repr__(self) -> str:
        return f"LazyView({self.view_id!r}, {self.target!r})"


ViewEntry = type[View] | LazyView


def search_field(parent: QWidget, object_name: str, placeholder: str) -> QLineEdit:
    """The search box every list view has: clear button and magnifier, Ctrl+F in the hint."""
    field = QLineEdit(parent)
    field.setObjectName(object_name)
    field.setPlaceholderText(placeholder)
    field.setClearButtonEnabled(True)
    field.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
    return field


def focus_search_box(search: QLineEdit) -> bool:
    """For :meth:`View.focus_search`: the cursor in ``search``, its text selected (typing
    replaces it)."""
    search.setFocus(Qt.FocusReason.ShortcutFocusReason)
    search.selectAll()
    return True


def title_bar(
    view: QWidget, title: str, search: QLineEdit, count: QLabel, *filters: QWidget
) -> QHBoxLayout:
    """The top row every list view has: its title, the search box, any filters, the count."""
    label = QLabel(title, view)
    label.setObjectName("viewTitle")
    bar = QHBoxLayout()
    bar.addWidget(label)
    bar.addSpacing(12)
    bar.addWidget(search, 2 if filters else 1)
    for widget in filters:
        bar.addWidget(widget)
    if filters:
        bar.addStretch(1)
    else:
        bar.addSpacing(12)
    bar.addWidget(count)
    return bar


def list_and_detail(
    view: QWidget, name: str, listing: QWidget, detail: QWidget, sizes: list[int]
) -> QSplitter:
    """The list on the left, the selected row's detail on the right (sizes are remembered by
    the view's save_state under ``name``)."""
    splitter = QSplitter(Qt.Orientation.Horizontal, view)
    splitter.setObjectName(name)
    splitter.addWidget(listing)
    splitter.addWidget(detail)
    splitter.setSizes(sizes)
    return splitter
