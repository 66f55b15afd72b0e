"""Invoice import benchmark (Foundation issue, item 9).

Generates N invoice lines in Zoho Books export format (default 1,000,000) into a temporary
directory and times, each in its own process so peak RSS is the step's own:

* **baseline** — ``pandas.read_csv`` of the same file plus one ``executemany`` of the raw rows
  into a bare SQLite table (no keys, no indexes);
* **import** — ``mangalm_desktop.imports.zoho.import_invoices`` into an empty, migrated SQLite;
* **history** — the generic history import of ../shared/data/online_retail_2009-12_2011-09.csv.gz
  (skipped with ``--no-history`` or when the file is absent).

Prints seconds, CPU seconds, lines/s, peak RSS and the ratios import / baseline, wall and CPU
(target ≤ 2.5, RSS < 600 MB), and the load average. With ``--repeat N`` the two steps run N
times interleaved and the best of each (by CPU time) is reported.

    .venv/bin/python benchmarks/import_bench.py [--lines N] [--repeat N] [--no-history]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HISTORY = REPO.parent / "shared" / "data" / "online_retail_2009-12_2011-09.csv.gz"
HISTORY_COLUMNS = (
    "store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity,price=UnitPrice,"
    "invoice=InvoiceNo,product_name=Description,region=Country"
)
ZOHO_COLUMNS = [
    "Invoice Date", "Invoice ID", "Invoice Number", "Invoice Status", "Customer Name",
    "Customer ID", "Due Date", "Product ID", "Item Name", "SKU", "Brand", "Category Name",
    "Quantity", "Usage unit", "Item Price", "Item Total", "SubTotal", "Total", "Discount",
    "Discount Amount", "Sales Person", "Billing City", "Billing State", "Billing Country",
    "Billing Code", "Shipping City", "Shipping State", "Shipping Country", "Shipping Code",
    "Warehouse Name", "MRP", "Balance", "Purchase Order", "Sales Order Number",
]  # fmt: skip
CITIES = [("Mumbai", "Maharashtra", "400001"), ("Pune", "Maharashtra", "411001"),
          ("Ahmedabad", "Gujarat", "380001"), ("Surat", "Gujarat", "395003"),
          ("Panaji", "Goa", "403001"), ("Nashik", "Maharashtra", "422001")]  # fmt: skip


def generate(path: Path, lines: int, seed: int = 7) -> None:
    """Write ``lines`` Zoho-format invoice lines: ~2,000 customers, 1,000 items, 10 lines/invoice."""
    rnd = random.Random(seed)
    items = []
    for i in range(1000):
        price = rnd.randint(500, 50000) / 100
        items.append((f"46000{i:06d}", f"Item {i} {rnd.choice(['Tea', 'Rice', 'Dal', 'Oil'])} pack",
                      f"SKU-{i:05d}", rnd.choice(["Tata", "Amul", "Haldiram", "Parle"]),
                      rnd.choice(["Beverages", "Staples", "Snacks"]), price))  # fmt: skip
    customers = [
        (f"46100{c:06d}", f"Store {c}, {CITIES[c % 6][0]}", CITIES[c % 6]) for c in range(2000)
    ]
    agents = ["Ravi Kumar", "Priya Shah", "Anil Desai", "Meera Nair", "Sanjay Patil"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(ZOHO_COLUMNS)
        written, inv = 0, 0
        while written < lines:
            inv += 1
            cust = customers[rnd.randrange(len(customers))]
            day = f"{1 + inv % 28:02d}/{1 + (inv // 28) % 12:02d}/{2023 + (inv // 336) % 2}"
            n = min(rnd.randint(5, 15), lines - written)
            chosen = rnd.sample(items, n)  # a Zoho invoice lists an item once per line
            qtys = [rnd.randint(1, 48) for _ in chosen]
            sub = sum(round(q * it[5], 2) for q, it in zip(qtys, chosen, strict=True))
            total = f"{sub:,.2f}"
            city, state, pin = cust[2]
            for q, it in zip(qtys, chosen, strict=True):
                w.writerow([
                    day, f"4620{inv:09d}", f"INV-{inv:07d}", "Closed", cust[1], cust[0], day,
                    it[0], it[1], it[2], it[3], it[4], q, "pcs", f"{it[5]:.2f}",
                    f"{q * it[5]:,.2f}", total, total, "0.00", "0.00", agents[inv % 5],
                    city, state, "India", pin, city, state, "India", pin, "Main WH",
                    f"{it[5] * 1.2:.2f}", "0.00", "", f"SO-{inv:07d}",
                ])  # fmt: skip
            written += n


def _cpu() -> float:
    """CPU seconds of this process, all threads: a witness steadier than wall time when other
    work shares the machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def step_baseline(csv_path: Path, work: Path) -> dict:
    import sqlite3

    import pandas as pd

    t0, c0 = time.perf_counter(), _cpu()
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    conn = sqlite3.connect(work / "baseline.sqlite")
    cols = ", ".join(f"c{i} TEXT" for i in range(len(df.columns)))
    conn.execute(f"CREATE TABLE raw ({cols})")
    marks = ", ".join("?" * len(df.columns))
    conn.executemany(f"INSERT INTO raw VALUES ({marks})", df.itertuples(index=False, name=None))
    conn.commit()
    conn.close()
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": _cpu() - c0,
        "rows": len(df),
        "peak_mb": _peak_mb(),
    }


def step_import(csv_path: Path, work: Path) -> dict:
    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.imports.pipeline import ImportOptions
    from mangalm_desktop.imports.zoho import import_invoices

    engine = open_local_database(work / "import.sqlite")
    t0, c0 = time.perf_counter(), _cpu()
    summary = import_invoices(
        engine, [csv_path], ImportOptions(error_report=work / "errors.csv"), identity=None
    )
    seconds = time.perf_counter() - t0
    assert summary.all_committed and summary.rejected == 0, summary.lines()
    return {"seconds": seconds, "cpu": _cpu() - c0, "rows": summary.imported, "peak_mb": _peak_mb()}


def step_history(work: Path) -> dict:
    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.imports.history import import_history, parse_columns
    from mangalm_desktop.imports.pipeline import ImportOptions

    engine = open_local_database(work / "history.sqlite")
    t0 = time.perf_counter()
    summary = import_history(
        engine, [HISTORY], parse_columns(HISTORY_COLUMNS), ImportOptions(), identity=None
    )
    seconds = time.perf_counter() - t0
    assert summary.all_committed, summary.lines()
    return {
        "seconds": seconds,
        "rows": summary.rows_read,
        "imported": summary.imported,
        "peak_mb": _peak_mb(),
    }


def _run_step(name: str, csv_path: Path, work: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--step", name, "--csv", str(csv_path), "--work", str(work)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--no-history", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="best of N interleaved runs (by CPU)")
    ap.add_argument("--step", choices=["baseline", "import", "history"], help=argparse.SUPPRESS)
    ap.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        sys.path.insert(0, str(REPO))
        fn = {"baseline": step_baseline, "import": step_import}.get(args.step)
        res = fn(args.csv, args.work) if fn else step_history(args.work)
        print(json.dumps(res))
        return 0
    with tempfile.TemporaryDirectory(prefix="mangalm-bench-") as tmp:
        work = Path(tmp)
        csv_path = work / "zoho_invoices.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.lines)
        size_mb = csv_path.stat().st_size / 1e6
        print(
            f"generated {args.lines:,} Zoho lines ({size_mb:.0f} MB) in {time.perf_counter() - t0:.1f} s"
        )
        runs = []
        for _ in range(args.repeat):  # interleaved, so both steps see the same moments' load
            runs.append(
                (_run_step("baseline", csv_path, work), _run_step("import", csv_path, work))
            )
            for leftover in work.glob("*.sqlite*"):
                leftover.unlink()
        base = min((b for b, _ in runs), key=lambda r: r["cpu"])  # best of the repeats
        imp = min((i for _, i in runs), key=lambda r: r["cpu"])
        if args.repeat > 1:
            print("runs (baseline / import CPU s): " + ", ".join(
                f"{b['cpu']:.1f} / {i['cpu']:.1f}" for b, i in runs))  # fmt: skip
        ratio = imp["seconds"] / base["seconds"]
        print(f"{'step':<10}{'seconds':>9}{'CPU s':>8}{'lines/s':>12}{'peak RSS MB':>13}")
        for name, r in (("baseline", base), ("import", imp)):
            print(
                f"{name:<10}{r['seconds']:>9.1f}{r['cpu']:>8.1f}{r['rows'] / r['seconds']:>12,.0f}"
                f"{r['peak_mb']:>13.0f}"
            )
        ok = ratio <= 2.5 and imp["peak_mb"] < 600
        print(f"ratio import/baseline: {ratio:.2f} (target <= 2.5; CPU ratio "
              f"{imp['cpu'] / base['cpu']:.2f}), peak RSS {imp['peak_mb']:.0f} MB "
              f"(target < 600) -> {'OK' if ok else 'MISSED'}; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
        if not args.no_history and HISTORY.exists():
            h = _run_step("history", csv_path, work)
            print(
                f"history {HISTORY.name}: {h['rows']:,} lines read, {h['imported']:,} imported in "
                f"{h['seconds']:.1f} s ({h['rows'] / h['seconds']:,.0f} lines/s), "
                f"peak RSS {h['peak_mb']:.0f} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
