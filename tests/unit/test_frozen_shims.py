"""The frozen app's stand-ins: statsforecast without fugue/triad/pyarrow, charts without QtOpenGL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HOOK = Path(__file__).resolve().parents[2] / "build" / "rthook_statsforecast.py"

SCRIPT = f"""
import sys
for blocked in ("pyarrow", "fugue", "triad"):
    sys.modules[blocked] = None  # importing the real ones now fails, as in the frozen app
del sys.modules["fugue"], sys.modules["triad"]
exec(open({str(HOOK)!r}).read())
import numpy as np, pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import CrostonSBA, TSB
y = np.array([0, 3, 0, 0, 4, 0, 2, 0, 0, 5, 0, 3] * 4, dtype=float)
df = pd.DataFrame({{"unique_id": "s1", "ds": pd.date_range("2025-01-05", periods=len(y), freq="W"), "y": y}})
sf = StatsForecast(models=[CrostonSBA(), TSB(alpha_d=0.2, alpha_p=0.2)], freq="W", n_jobs=1)
out = sf.forecast(df=df, h=4)
assert len(out) == 4 and out["CrostonSBA"].gt(0).all(), out
cv = sf.cross_validation(df=df, h=2, n_windows=2)
assert len(cv) == 4
assert "pyarrow.lib" not in sys.modules
print("ok")
"""


def test_statsforecast_runs_natively_without_fugue_or_pyarrow():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")


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
