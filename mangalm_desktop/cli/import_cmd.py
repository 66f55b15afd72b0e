"""``mangalm import invoices|history``: load Zoho Books exports or other sales history.

Exit codes: 0 everything imported; 1 rows were rejected (the file was not imported, or was
imported without them under --skip-bad-rows) — the error report says which; 2 a file could not
be read at all or the options are wrong; 130 cancelled (the file in progress was rolled back).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..domain.errors import UserError
from ..imports.history import import_history, parse_columns
from ..imports.pipeline import ImportOptions
from ..imports.report import ImportSummary, default_error_report
from ..imports.zoho import import_invoices
from .common import add_db_option, cli_task, signed_in


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import Zoho Books invoice exports or sales history")
    kinds = p.add_subparsers(dest="import_kind", metavar="KIND", required=True)

    inv = kinds.add_parser("invoices", help="Zoho Books invoice exports (CSV, CSV.gz, XLSX)")
    _common(inv)
    inv.set_defaults(func=run_invoices)

    hist = kinds.add_parser("history", help="sales history with named columns (CSV, CSV.gz, XLSX)")
    _common(hist)
    hist.add_argument(
        "--columns",
        required=True,
        metavar="ROLE=COLUMN,...",
        help="store=,product=,date=,quantity= (required) and price=,invoice=,product_name=,"
        "store_name=,region= (optional), e.g. store=CustomerID,product=StockCode,"
        "date=InvoiceDate,quantity=Quantity,price=UnitPrice,invoice=InvoiceNo",
    )
    hist.set_defaults(func=run_history)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument(
        "--date-format", metavar="F", help="strftime format of the dates, e.g. %%d/%%m/%%Y"
    )
    p.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="import a file even if some rows are rejected (they are listed in the error report)",
    )
    p.add_argument(
        "--error-report", type=Path, metavar="PATH", help="where to write rejected rows (CSV)"
    )
    p.add_argument("--encoding", default="utf-8", help="text encoding of CSV files (default utf-8)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    add_db_option(p)


def _options(args: argparse.Namespace) -> ImportOptions:
    report = args.error_report or default_error_report()
    return ImportOptions(
        skip_bad_rows=args.skip_bad_rows,
        date_format=args.date_format,
        encoding=args.encoding,
        error_report=report,
    )


def _finish(summary: ImportSummary) -> int:
    for line in summary.lines():
        print(line)
    if summary.file_errors:
        for err in summary.file_errors:
            print(f"error: {err}", file=sys.stderr)
        return 2
    if summary.rejected:
        where = summary.error_report
        print(f"{summary.rejected:,} row(s) rejected; see {where}", file=sys.stderr)
        return 1
    return 0


def run_invoices(args: argparse.Namespace) -> int:
    options = _options(args)
    with signed_in(args) as (engine, identity):
        return _finish(
            import_invoices(engine, args.files, options, cli_task(args.quiet), identity=identity)
        )


def run_history(args: argparse.Namespace) -> int:
    columns = parse_columns(args.columns)
    if not columns:
        raise UserError("--columns is empty")
    options = _options(args)
    with signed_in(args) as (engine, identity):
        return _finish(
            import_history(
                engine, args.files, columns, options, cli_task(args.quiet), identity=identity
            )
        )
