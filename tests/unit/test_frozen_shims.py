"""The frozen app's statsforecast stand-ins: forecasting works with fugue, triad and pyarrow absent."""

from __future__ import annotations

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
