"""Modules left out of the frozen app are never imported on the paths the frozen smoke test runs.

installer.spec excludes modules to keep the bundle small. In the frozen app a missing module
usually fails loudly (the smoke test catches that), but libraries often import optional
modules inside ``try/except ImportError`` and quietly take another path. So the smoke steps of
build/build_app.py are run here from source, each in its own interpreter that records
``sys.modules`` at exit, and no excluded module may appear in any of them.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

RECORD = """
import atexit, json, runpy, sys
out, module, *args = sys.argv[1:]
atexit.register(lambda: json.dump(sorted(sys.modules), open(out, "w")))
sys.argv = [module, *args]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


# Excluded although imported from source: the frozen app answers these imports differently,
# and a test proves that path.
REPLACED = {
    # build/rthook_qtopengl.py stand-in; tests/unit/test_frozen_shims.py draws the charts with it
    "PySide6.QtOpenGL": "stand-in",
    # build/rthook_statsforecast.py stand-ins; test_frozen_shims.py forecasts with them
    "fugue": "stand-in",
    "triad": "stand-in",
    # pandas imports it only if installed (pandas.compat.pyarrow) and the app asks for no
    # pyarrow dtypes; test_frozen_shims.py forecasts with pyarrow blocked
    "pyarrow": "optional in pandas",
    # pyqtgraph.Qt imports it in try/except only to add qWait for its own tests; nothing else
    # in pyqtgraph or the app uses it, and the frozen --self-test draws every chart without it
    "PySide6.QtTest": "optional in pyqtgraph",
}


def spec_excludes() -> list[str]:
    """The literal ``excludes = [...]`` list of installer.spec."""
    tree = ast.parse((REPO / "installer.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "excludes" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("installer.spec has no excludes list")


def build_app():
    spec = importlib.util.spec_from_file_location("build_app", REPO / "build" / "build_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def excluded_in(modules: list[str], excludes: list[str]) -> list[str]:
    return sorted(m for m in modules for e in excludes if m == e or m.startswith(e + "."))


def test_excluded_match_is_by_package():
    assert excluded_in(["scipy.cluster.vq", "scipy.clusterx", "scipy"], ["scipy.cluster"]) == [
        "scipy.cluster.vq"
    ]


@pytest.mark.timeout(900)
def test_smoke_paths_import_no_excluded_module(tmp_path):
    excludes = [e for e in spec_excludes() if e not in REPLACED]
    assert "PIL._avif" in excludes and "scipy.cluster" in excludes
    app = build_app()
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(home))
    env.pop("MANGALM_DB", None)
    db = tmp_path / "census.sqlite"
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(app.SMALL_INVOICES, encoding="utf-8")
    history = tmp_path / "history.csv"
    app.small_history(history)
    cli = "mangalm_desktop.cli.main"
    steps = {
        "self-test": ["mangalm_desktop", "--self-test"],
        "demo": [cli, "demo", "--small", "--db", str(db)],
        "import": [cli, "import", "invoices", str(invoices), "--db", str(db)],
        "forecast": [cli, "forecast", "--db", str(db)],
        "report": [cli, "report", "sales-by-region", "--format", "pdf"]
        + ["--out", str(tmp_path / "r.pdf"), "--db", str(db)],
        "evaluate": [cli, "evaluate", "--history", str(history), "--columns", app.HISTORY_COLUMNS]
        + ["--origins", "1", "--horizon", "4", "-q"],
    }
    found: dict[str, list[str]] = {}
    for name, argv in steps.items():
        out = tmp_path / f"{name}.json"
        proc = subprocess.run(
            [sys.executable, "-c", RECORD, str(out), *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"{name}: {proc.stderr[-3000:]}"
        modules = json.loads(out.read_text())
        assert len(modules) > 300, name  # the recording worked
        hits = excluded_in(modules, excludes)
        if hits:
            found[name] = hits
    assert found == {}, f"excluded from the bundle but imported: {found}"
