"""The frozen app's stand-in: charts draw without the QtOpenGL binding."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

QT_HOOK = Path(__file__).resolve().parents[2] / "build" / "rthook_qtopengl.py"

QT_SCRIPT = f"""
import datetime as dt, sys
from decimal import Decimal
from importlib.abc import MetaPathFinder

class Block(MetaPathFinder):  # the frozen app has no QtOpenGL binding
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6.QtOpenGL":
            raise ImportError("blocked as in the frozen app")

sys.meta_path.insert(0, Block())
exec(open({str(QT_HOOK)!r}).read())
from PySide6.QtWidgets import QApplication
app = QApplication([])
import pyqtgraph as pg
from mangalm_desktop.db.queries.store_detail import WeekPoint
from mangalm_desktop.gui.charts import WeeklySalesChart

chart = WeeklySalesChart()
monday = dt.date(2025, 1, 6)
weeks = [WeekPoint(monday + dt.timedelta(weeks=i), Decimal(100 + 10 * i), i) for i in range(8)]
chart.set_weeks(weeks, monday + dt.timedelta(weeks=8))
line = pg.PlotWidget()
line.plot([1, 2, 3, 4], [3, 1, 4, 2], pen="r")  # PlotCurveItem, as the report chart's lines
for widget in (chart, line):
    widget.resize(400, 300)
    widget.show()
app.processEvents()
for widget in (chart, line):
    image = widget.grab().toImage()
    colours = {{image.pixel(x, y) for x in range(0, 400, 5) for y in range(0, 300, 5)}}
    assert len(colours) > 3, colours  # something was drawn, not a blank widget
try:
    sys.modules["PySide6.QtOpenGL"].QOpenGLBuffer
except AttributeError as exc:
    assert "not part of the desktop app" in str(exc)
else:
    raise AssertionError("the stand-in answered an OpenGL attribute")
print("ok")
"""


def test_charts_draw_without_the_qtopengl_binding():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", QT_SCRIPT], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")


QR_SCRIPT = """
import sys
from importlib.abc import MetaPathFinder

class Block(MetaPathFinder):  # the frozen app has no Pillow FreeType module (installer.spec)
    def find_spec(self, name, path=None, target=None):
        if name == "PIL._imagingft":
            raise ImportError("blocked as in the frozen app")

sys.meta_path.insert(0, Block())
import keyring
from mangalm_desktop.security.memory_keyring import MemoryKeyring
from mangalm_desktop.security import totp

keyring.set_keyring(MemoryKeyring())
uri, png = totp.enrol("M01")
assert "PIL._imagingft" not in sys.modules
print(uri)
print(png.hex())
"""


def test_qr_code_without_pillow_freetype():
    """The second-factor QR code is the same PNG without Pillow's FreeType module."""
    import qrcode

    proc = subprocess.run(
        [sys.executable, "-c", QR_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    uri, png = proc.stdout.split()
    assert uri.startswith("otpauth://totp/")
    buf = io.BytesIO()
    qrcode.make(uri).save(buf)
    assert bytes.fromhex(png) == buf.getvalue()
