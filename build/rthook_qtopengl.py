"""PyInstaller runtime hook: a stand-in for PySide6.QtOpenGL, whose binding is 8.7 MB.

pyqtgraph imports ``PySide6.QtOpenGL`` at module level in PlotCurveItem, PColorMeshItem,
RawImageWidget and Qt.OpenGLHelpers, but touches its classes only inside the OpenGL drawing
paths (``useOpenGL``), which the desktop app never turns on: its charts are drawn by
QPainter. The binding itself is therefore left out of the bundle (installer.spec) and this
stand-in answers the import; any attribute access raises with a reason instead of drawing.
The frozen ``--self-test`` draws every chart view and proves the stand-in is enough;
tests/unit/test_frozen_shims.py checks the same with the real binding blocked.
"""

import sys
import types

REASON = "OpenGL drawing (pyqtgraph useOpenGL) is not part of the desktop app bundle"


def _missing(name: str) -> object:
    raise AttributeError(f"PySide6.QtOpenGL.{name}: {REASON}")


def install() -> None:
    if "PySide6.QtOpenGL" in sys.modules:
        return
    module = types.ModuleType("PySide6.QtOpenGL", REASON)
    module.__getattr__ = _missing
    sys.modules["PySide6.QtOpenGL"] = module


install()
