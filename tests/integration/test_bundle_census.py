"""Modules left out of the frozen app are never needed on the paths the frozen smoke test runs.

installer.spec excludes modules to keep the bundle small. In the frozen app a missing module
usually fails loudly (the smoke test catches that), but libraries often import optional
modules inside ``try/except ImportError`` and quietly take another path. So the smoke steps of
build/build_app.py are run here from source, each in its own interpreter set up as the frozen
app is: the runtime hooks run first, and every excluded module is missing (importing it raises
ModuleNotFoundError). Each import of a missing module is recorded; only the ones listed in
OPTIONAL, whose other path is known and tested, may happen.
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
out, hooks, blocked, module, *args = sys.argv[1:]
blocked, tried = json.loads(blocked), set()
for hook in json.loads(hooks):
    exec(compile(open(hook, encoding="utf-8").read(), hook, "exec"), {"__name__": "__main__"})


class LeftOut:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in blocked):
            tried.add(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, LeftOut)
atexit.register(
    lambda: json.dump(
        {
            # stand-ins put in place by a runtime hook have no spec: they are not the module
            "modules": sorted(n for n, m in sys.modules.items() if getattr(m, "__spec__", None)),
            "tried": sorted(tried),
        },
        open(out, "w"),
    )
)
sys.argv = [module, *args]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


# Excluded modules that a smoke step tries to import, and the path it takes without them.
OPTIONAL = {
    # mangalm evaluate scores the app and the human baselines and names the skipped models
    # (tests/integration/test_forecast_evaluate.py::test_evaluate_without_statsforecast...)
    "statsforecast": "evaluate without the statsforecast comparison",
    # pandas.compat.pyarrow: pandas works without it; the app asks for no pyarrow dtypes
    "pyarrow": "optional in pandas",
    # pyqtgraph.Qt adds qWait for its own tests when QtTest is there; the frozen --self-test
    # draws every chart without it
    "PySide6.QtTest": "optional in pyqtgraph",
    # httpx imports its command-line tool (click, pygments; rich after them) in try/except
    # at import; the app never runs `httpx` as a program
    "click": "httpx's command-line tool",
    "pygments": "httpx's command-line tool",
    # qrcode imports PIL.ImageDraw, which imports ImageFont, which tries Pillow's FreeType
    # module in try/except; the app draws no text with Pillow (QR codes:
    # tests/unit/test_frozen_shims.py::test_qr_code_without_pillow_freetype)
    "PIL._imagingft": "optional in PIL.ImageFont",
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
def test_smoke_paths_need_no_excluded_module(tmp_path):
    excludes = spec_excludes()
    assert "PIL._avif" in excludes and "scipy" in excludes and "statsforecast" in excludes
    hooks = sorted(str(p) for p in (REPO / "build").glob("rthook_*.py"))
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
    unexpected: dict[str, list[str]] = {}
    for name, argv in steps.items():
        out = tmp_path / f"{name}.json"
        proc = subprocess.run(
            [sys.executable, "-c", RECORD, str(out), json.dumps(hooks), json.dumps(excludes)]
            + argv,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"{name}: {proc.stderr[-3000:]}"
        seen = json.loads(out.read_text())
        assert len(seen["modules"]) > 300, name  # the recording worked
        assert excluded_in(seen["modules"], excludes) == [], name  # the blocker worked
        hits = [m for m in seen["tried"] if not excluded_in([m], list(OPTIONAL))]
        if hits:
            unexpected[name] = hits
    assert unexpected == {}, f"excluded from the bundle but imported: {unexpected}"
