"""Demo company benchmark: how long ``create_demo_company`` takes, against a raw baseline.

Usage::

    .venv/bin/python benchmarks/demo_bench.py            # full company (250 stores, 400 products)
    .venv/bin/python benchmarks/demo_bench.py --small    # 30 stores, 60 products

Measured in the same run, each in its own forked process (so peak RSS is its own):

- demo: ``create_demo_company`` into an empty migrated SQLite (generation + typed bulk insert
  with all keys, foreign keys and indexes, one transaction);
- generation only: ``build_demo`` in memory;
- baseline: the very rows the demo wrote, read back as tuples beforehand, inserted with one
  ``executemany`` per table into bare SQLite tables (no types, keys or indexes) — the least
  any writer of that data could spend.

Prints seconds, rows/s, peak RSS and the demo / baseline ratio. Target: demo < 20 s.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mangalm_desktop.db.migrate import open_local_database  # noqa: E402
from mangalm_desktop.demo import SMALL, build_demo, create_demo_company  # noqa: E402

TABLES = (
    "agent",
    "store",
    "product",
    "invoice",
    "invoice_line",
    "orders",
    "order_line",
    "call_log",
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    """CPU seconds of this process: steadier than wall time on a shared, loaded machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _demo(path: str, sizes: dict, q) -> None:
    engine = open_local_database(Path(path))
    t, c = time.perf_counter(), _cpu()
    summary = create_demo_company(engine, 1, **sizes)
    q.put((time.perf_counter() - t, _cpu() - c, _peak_mb(), summary))
    engine.dispose()


def _generate(sizes: dict, q) -> None:
    t, c = time.perf_counter(), _cpu()
    m, h = build_demo(1, **sizes)
    q.put((time.perf_counter() - t, _cpu() - c, _peak_mb(), len(h.lines)))


def _baseline(src: str, dst: str, q) -> None:
    with sqlite3.connect(src) as conn:
        data = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES}
        cols = {t: len(data[t][0]) for t in TABLES}
    out = sqlite3.connect(dst)
    out.execute("PRAGMA journal_mode=WAL")
    out.execute("PRAGMA synchronous=FULL")
    t, c = time.perf_counter(), _cpu()
    for table, rows in data.items():
        names = ", ".join(f"c{i}" for i in range(cols[table]))
        out.execute(f"CREATE TABLE {table} ({names})")
        out.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * cols[table])})", rows)
    out.commit()
    q.put((time.perf_counter() - t, _cpu() - c, _peak_mb(), sum(len(r) for r in data.values())))
    out.close()


def _run(target, *args):
    ctx = get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    result = q.get()
    p.join()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--small", action="store_true", help="30 stores, 60 products")
    args = ap.parse_args()
    sizes = dict(SMALL) if args.small else {"stores": 250, "products": 400}
    with tempfile.TemporaryDirectory() as tmp:
        demo_db, bare_db = str(Path(tmp) / "demo.sqlite"), str(Path(tmp) / "bare.sqlite")
        gen_s, gen_cpu, gen_mb, _ = _run(_generate, sizes)
        demo_s, demo_cpu, demo_mb, summary = _run(_demo, demo_db, sizes)
        base_s, base_cpu, base_mb, n_rows = _run(_baseline, demo_db, bare_db)
    print(f"demo company: {sizes['stores']} stores, {sizes['products']} products, seed 1")
    print(f"  rows written          {n_rows:>10,}  ({summary.invoice_lines:,} invoice lines)")
    print("                          wall s    CPU s  peak RSS    rows/s (wall)")
    for label, wall, cpu, mb in (
        ("generation only", gen_s, gen_cpu, gen_mb),
        ("create_demo_company", demo_s, demo_cpu, demo_mb),
        ("baseline (bare rows)", base_s, base_cpu, base_mb),
    ):
        print(f"  {label:<21} {wall:8.2f} {cpu:8.2f} {mb:6.0f} MB {n_rows / wall:>12,.0f}")
    print(
        f"  ratio demo / baseline: {demo_s / base_s:.2f} wall, {demo_cpu / base_cpu:.2f} CPU"
        "   (target: demo under 20 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
