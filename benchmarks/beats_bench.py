"""Beats benchmark: Today's beat and a year of plan vs actual on the demo company.

Usage::

    .venv/bin/python benchmarks/beats_bench.py [--db DEMO.sqlite] [--repeat 3]

Without ``--db`` a full-size demo company (250 stores, 5 agents, 30 beats) is made in a
temporary database first. Measured in the same run, best of ``--repeat``:

- ``todays_beat`` for one agent and for every agent (what Today's beat panel asks on each
  show; a person waits for it, so it must stay far inside 300 ms);
- the ``plan-vs-actual`` report over a year (one row per agent and day) against the
  ``agent-performance`` report over the same year, the baseline: both read the same calls and
  orders, agent performance groups them in SQL to five rows.

Prints wall and CPU seconds and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mangalm_desktop.beats import service
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.demo import DEFAULT_TODAY, create_demo_company, demo_today
from mangalm_desktop.reports.catalog import run_report
from mangalm_desktop.reports.filters import ReportFilters


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "demo.sqlite"
        engine = open_local_database(path)
        if args.db is None:
            print("making the demo company…")
            create_demo_company(engine, 1)
        today = demo_today(engine) or DEFAULT_TODAY
        year = ReportFilters(date_from=today - dt.timedelta(days=364), date_to=today)
        rows = {
            "todays_beat (A01)": lambda: service.todays_beat(engine, None, today, agent="A01"),
            "todays_beat (all agents)": lambda: service.todays_beat(engine, None, today),
            "plan-vs-actual, a year": lambda: run_report(
                engine, "plan-vs-actual", year, identity=None
            ),
        }
        base_wall, base_cpu = best(
            lambda: run_report(engine, "agent-performance", year, identity=None), args.repeat
        )
        print(
            f"{'baseline: agent-performance, a year':40} {base_wall:8.3f} s {base_cpu:8.3f} CPU-s"
        )
        for name, fn in rows.items():
            wall, cpu = best(fn, args.repeat)
            print(f"{name:40} {wall:8.3f} s {cpu:8.3f} CPU-s  ratio {wall / base_wall:5.2f} wall")
        engine.dispose()


if __name__ == "__main__":
    main()
