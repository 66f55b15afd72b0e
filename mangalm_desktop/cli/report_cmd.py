"""``mangalm report NAME ... --format csv|xlsx|pdf --out FILE``: reports for scripts and schedulers.

``mangalm report list`` prints the available reports. Without ``--out`` the report is printed as
a text table, handy for a quick look over SSH.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from ..demo import demo_today
from ..domain.errors import UserError
from ..domain.formatting import cell, number
from ..reports.catalog import REPORTS, column_label, run_report
from ..reports.export import FORMATS, format_from_path
from ..reports.filters import PERIODS, ReportFilters
from .common import add_db_option, add_today_option, cli_task, signed_in


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (use YYYY-MM-DD): {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="run a manager report and export it (csv, xlsx, pdf)",
        description="Reports: " + ", ".join(REPORTS) + ". Use 'list' to see descriptions.",
    )
    p.add_argument("name", metavar="NAME", help="report name, or 'list'")
    p.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="first day")
    p.add_argument("--to", dest="date_to", type=_date, metavar="DATE", help="last day (inclusive)")
    p.add_argument("--region")
    p.add_argument("--agent", help="agent code or name")
    p.add_argument("--brand")
    p.add_argument("--category")
    p.add_argument("--store", help="store code or name")
    p.add_argument("--product", help="SKU or product name")
    p.add_argument("--period", choices=PERIODS, default="month")
    p.add_argument("--top", dest="top_n", type=int, default=10, help="rows per direction (movers)")
    p.add_argument("--format", choices=FORMATS, help="default: from the --out file's extension")
    p.add_argument("--out", type=Path, metavar="FILE", help="write here (else print a table)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    add_db_option(p)
    add_today_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.name == "list":
        for name, spec in REPORTS.items():
            print(f"{name:30} {spec.description}")
        return 0
    if args.name not in REPORTS:
        raise UserError(f"no report called {args.name!r}", hint="see: mangalm report list")
    filters = ReportFilters(
        date_from=args.date_from,
        date_to=args.date_to,
        region=args.region,
        agent=args.agent,
        brand=args.brand,
        category=args.category,
        store=args.store,
        product=args.product,
        period=args.period,
        top_n=args.top_n,
    )
    fmt = args.format
    if args.out is not None and fmt is None:
        fmt = format_from_path(args.out)
    if fmt is not None and args.out is None:
        raise UserError("--format needs --out FILE")
    with signed_in(args) as (engine, identity):
        if filters.date_to is None:  # reports "as of" a day: --today, or a demo's own today
            day = args.today or demo_today(engine)
            if day is not None:
                filters = filters.with_(date_to=day)
        result = run_report(engine, args.name, filters, identity=identity)
        if result.note:
            print(f"note: {result.note}", file=sys.stderr)
        if args.out is None:
            _print_table(result)
            return 0
        from ..reports.export import export_audited
        from .orders_cmd import _cli_actor

        # Data leaving the app is audited (and the entry is pushed with the next sync).
        export_audited(
            cli_task(args.quiet),
            engine,
            result,
            fmt,
            args.out,
            identity=identity,
            actor=_cli_actor(),
        )
    if not args.quiet:
        print(f"{result.title}: {number(len(result.frame))} rows written to {args.out}")
    return 0


def _print_table(result) -> None:  # noqa: ANN001
    df = result.frame
    kinds = result.kinds()
    head = [column_label(c) for c in df.columns]
    body = [
        [cell(v, kinds[c]) for v, c in zip(row, df.columns, strict=True)]
        for row in df.itertuples(index=False, name=None)
    ]
    widths = [max([len(h)] + [len(r[j]) for r in body]) for j, h in enumerate(head)]
    print(result.title)
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    right = [kinds[c] in ("money", "int", "pct", "float") for c in df.columns]
    for r in body:
        cells = zip(r, widths, right, strict=True)
        print("  ".join(v.rjust(w) if rj else v.ljust(w) for v, w, rj in cells).rstrip())
    if not body:
        print("(no rows match these filters)")
