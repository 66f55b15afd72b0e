"""What reading a workbook whole costs: one sheet vs the same rows over two sheets.

Takes the first N lines (default 40,000) of the real sales history
``../shared/data/online_retail_2009-12_2011-09.csv.gz`` and writes them, with real number and
date cells, as

* **one sheet** — the baseline: the importer as it always read a one-sheet workbook;
* **two sheets** — the first half on "Year 1", the second half on "Year 2" with its columns in
  reverse order (so every row of sheet 2 is re-ordered by name), plus a "Notes" sheet;

then imports each (``import_history``) into a fresh SQLite database, best of ``--repeat`` runs,
in this process, and prints seconds, lines/s and the ratio two sheets / one sheet. The two
imports must store the same number of invoice lines, or the benchmark fails.

    .venv/bin/python benchmarks/xlsx_sheets_bench.py [--rows N] [--repeat R]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HISTORY = REPO.parent / "shared" / "data" / "online_retail_2009-12_2011-09.csv.gz"
COLUMNS = (
    "store=CustomerID,product=StockCode,date=InvoiceDate,quantity=Quantity,price=UnitPrice,"
    "invoice=InvoiceNo,product_name=Description,region=Country"
)


def read_rows(n: int) -> tuple[list[str], list[list[object]]]:
    """The header and the first ``n`` lines, typed as Excel would store them."""
    with gzip.open(HISTORY, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = []
        for r in islice(reader, n):
            rows.append([
                r[0], r[1], r[2], int(r[3]), dt.datetime.fromisoformat(r[4]), float(r[5]),
                float(r[6]) if r[6] else None, r[7],
            ])  # fmt: skip
    return header, rows


def write_book(path: Path, sheets: list[tuple[str, list[str], list[list[object]]]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title)
        ws.append(header)
        for r in rows:
            ws.append(r)
    wb.save(path)


def import_once(book: Path, db: Path) -> tuple[float, int]:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.db.models import InvoiceLine
    from mangalm_desktop.imports.history import import_history, parse_columns
    from mangalm_desktop.imports.pipeline import ImportOptions

    engine = open_local_database(db)
    try:
        t0 = time.perf_counter()
        summary = import_history(
            engine, [book], parse_columns(COLUMNS), ImportOptions(), identity=None
        )
        seconds = time.perf_counter() - t0
        if not summary.all_committed:
            raise SystemExit(f"{book.name} was not imported: {summary.lines()}")
        with Session(engine) as s:
            lines = s.scalar(select(func.count()).select_from(InvoiceLine)) or 0
        return seconds, lines
    finally:
        engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=40_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    if not HISTORY.exists():
        print(f"needs {HISTORY}", file=sys.stderr)
        return 2
    header, rows = read_rows(args.rows)
    half = len(rows) // 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one, two = work / "one.xlsx", work / "two.xlsx"
        write_book(one, [("Sheet1", header, rows)])
        write_book(
            two,
            [
                ("Year 1", header, rows[:half]),
                ("Year 2", header[::-1], [r[::-1] for r in rows[half:]]),
                ("Notes", ["Exported for the benchmark"], [["not data"]]),
            ],
        )
        best: dict[str, tuple[float, int]] = {}
        for i in range(args.repeat):
            for name, book in (("one sheet", one), ("two sheets", two)):
                took = import_once(book, work / f"{name.replace(' ', '_')}_{i}.sqlite")
                if name not in best or took[0] < best[name][0]:
                    best[name] = took
    (t1, n1), (t2, n2) = best["one sheet"], best["two sheets"]
    if n1 != n2:
        print(f"FAIL: one sheet stored {n1:,} lines, two sheets {n2:,}", file=sys.stderr)
        return 1
    print(f"{len(rows):,} rows of {HISTORY.name}, best of {args.repeat}")
    print(f"one sheet  (baseline): {t1:6.2f} s  {len(rows) / t1:9,.0f} rows/s  {n1:,} lines")
    print(f"two sheets + notes   : {t2:6.2f} s  {len(rows) / t2:9,.0f} rows/s  {n2:,} lines")
    print(f"ratio two sheets / one sheet: {t2 / t1:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
