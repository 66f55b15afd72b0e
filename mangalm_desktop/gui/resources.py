"""Where the Designer forms, icons and stylesheet are, in a checkout and in the frozen app.

``ui/`` and ``resources/`` sit at the repository root; installer.spec copies both beside the
frozen executable (``sys._MEIPASS``). Forms are loaded at run time with :class:`QUiLoader`, so
nothing needs ``pyside6-uic`` on PATH.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QFile, QIODevice, QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QWidget


def root() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return Path(__file__).resolve().parents[2]


W = TypeVar("W", bound=QObject)


def ui_path(name: str) -> Path:
    return root() / "ui" / name


def resource_path(*parts: str) -> Path:
    return root().joinpath("resources", *parts)


def load_ui(name: str, parent: QWidget | None = None) -> QWidget:
    """Load ``ui/<name>`` and return the top widget; a missing form is a packaging bug."""
    from PySide6.QtUiTools import QUiLoader  # only when a form is first needed (cold start)

    path = ui_path(name)
    file = QFile(str(path))
    if not file.open(QIODevice.OpenModeFlag.ReadOnly):
        raise FileNotFoundError(f"Designer form {path} is missing")
    try:
        widget = QUiLoader().load(file, parent)
    finally:
        file.close()
    if widget is None:
        raise RuntimeError(f"Designer form {path} could not be loaded")
    return widget


def ui_child(form: QWidget, kind: type[W], name: str) -> W:
    """The widget ``name`` of a loaded Designer form; a missing one is a packaging bug, said
    as such instead of an AttributeError on None later."""
    child = form.findChild(kind, name)
    if child is None:
        raise RuntimeError(f"Designer form {form.objectName()!r} has no {kind.__name__} {name!r}")
    return child


@cache
def icon(name: str) -> QIcon:
    """``resources/icons/<name>.svg`` as an icon (empty icon when absent, never a crash)."""
    path = resource_path("icons", f"{name}.svg")
    return QIcon(str(path)) if path.exists() else QIcon()


def stylesheet() -> str:
    path = resource_path("style.qss")
    return path.read_text(encoding="utf-8") if path.exists() else ""
