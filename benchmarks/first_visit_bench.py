"""First visit to each view and to the store card: how long the UI thread is busy, with and
without the background warm-up (``gui.warmup``), each in a fresh process.

Views load their code when first shown (cold start stays fast); without the warm-up a first
visit imports pandas, reportlab, psycopg... on the UI thread. Both modes start the app on the
same database, wait until the first view has its data and nothing runs, then wait
``--settle`` seconds (a person reading Today; the warm-up runs then, in the "warm" mode) and
visit every view once, then open a store. Figures: the time ``show_view`` / ``open_store``
keeps the UI thread (nothing can be clicked meanwhile) and the time until its data is shown.
Target: < 300 ms for what a person just asked for.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/first_visit_bench.py [--db FILE] [--runs 3]

Without ``--db`` a small demo company is made in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

VIEWS = ["stores", "orders", "predictions", "products", "reports", "sync", "zoho", "collections"]


def visit(db: Path, warm: bool, settle_s: float) -> dict[str, list[float]]:
    """One fresh app: {what: [ms the UI thread was held, ms to idle]}."""
    import datetime as dt
    import sqlite3
    import uuid

    from PySide6.QtCore import QCoreApplication

    from mangalm_desktop.demo import demo_today
    from mangalm_desktop.gui.app import make_app, open_database, run_blocking
    from mangalm_desktop.gui.context import AppContext
    from mangalm_desktop.gui.main_window import MainWindow
    from mangalm_desktop.gui.settings import use_settings_dir
    from mangalm_desktop.gui.warmup import Warmup, modules_to_warm
    from mangalm_desktop.gui.workers import TaskRunner

    use_settings_dir(Path(tempfile.mkdtemp(prefix="first-visit-")))
    make_app()
    runner = TaskRunner()
    engine = run_blocking(runner, open_database, db, dt.date(2026, 11, 2))
    today = demo_today(engine) or dt.date(2026, 11, 2)
    window = MainWindow(AppContext(engine=engine, db_path=db, runner=runner, today=lambda: today))
    window.show()
    runner.wait_idle(120_000)
    warmup = Warmup(modules_to_warm()).start() if warm else None

    def settle(seconds: float) -> None:
        # events keep flowing (a view's timers start their reads), then nothing may be running
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.01)
        runner.wait_idle(60_000)

    settle(settle_s)  # the person reads Today; the warm-up runs meanwhile
    warm_done = warmup is not None and not warmup.is_alive()
    out: dict[str, list[float]] = {}

    def timed(label: str, fn):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        result = fn()
        held = time.perf_counter() - started
        runner.wait_idle(60_000)
        out[label] = [held * 1000, (time.perf_counter() - started) * 1000]
        settle(0.5)  # so a view's delayed reads do not run into the next visit
        return result

    for view_id in VIEWS:
        timed(f"view {view_id}", lambda v=view_id: window.show_view(v))
    stores = window.show_view("stores")
    with sqlite3.connect(db) as conn:
        sid = uuid.UUID(
            hex=conn.execute("SELECT id FROM store ORDER BY name LIMIT 1").fetchone()[0]
        )
    detail = timed("store card", lambda: stores.open_store(sid))
    screen = timed("call screen", lambda: detail.open_call())
    screen.hide()
    out["warm-up finished before the visits"] = [float(warm_done), float(warm_done)]
    if warmup is not None:
        warmup.stop()
    runner.shutdown()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a local database (default: a new small demo)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=4.0, help="seconds before the visits")
    parser.add_argument("--child", choices=["cold", "warm"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(visit(args.db, args.child == "warm", args.settle)))
        return 0
    with tempfile.TemporaryDirectory(prefix="first-visit-") as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "demo.sqlite"
            subprocess.run(
                [sys.executable, "-m", "mangalm_desktop.cli.main", "demo", "--small", "-q"]
                + ["--db", str(db)],
                check=True,
                cwd=ROOT,
            )
        results: dict[str, dict[str, list[list[float]]]] = {"cold": {}, "warm": {}}
        for _ in range(args.runs):
            for mode in ("cold", "warm"):  # alternated, so a load change hits both
                copy = Path(tmp) / f"{mode}.sqlite"
                copy.write_bytes(db.read_bytes())
                line = (
                    subprocess.run(
                        [sys.executable, __file__, "--child", mode, "--db", str(copy)]
                        + ["--settle", str(args.settle)],
                        check=True,
                        capture_output=True,
                        text=True,
                        cwd=ROOT,
                    )
                    .stdout.strip()
                    .splitlines()[-1]
                )
                for label, figures in json.loads(line).items():
                    results[mode].setdefault(label, []).append(figures)
    print(
        f"first visits, median of {args.runs} fresh processes each; UI thread held / to data"
        " shown, in ms; without the warm-up -> with it (target < 300 ms held)"
    )
    for label, cold in results["cold"].items():
        warm = results["warm"][label]
        if label.startswith("warm-up"):
            print(f"  {label}: {sum(w[0] for w in warm):.0f} of {len(warm)} runs")
            continue
        held_c, held_w = (statistics.median(r[0] for r in x) for x in (cold, warm))
        shown_c, shown_w = (statistics.median(r[1] for r in x) for x in (cold, warm))
        print(
            f"  {label:18} held {held_c:6.0f} -> {held_w:5.0f}   shown {shown_c:6.0f} ->"
            f" {shown_w:5.0f}   (ratio held {held_w / held_c:.2f})"
        )
    worst = max(
        statistics.median(r[0] for r in x)
        for label, x in results["warm"].items()
        if not label.startswith("warm-up")
    )
    print(f"  worst held with the warm-up: {worst:.0f} ms (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
