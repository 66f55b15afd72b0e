"""``mangalm demo``: fill a database with the demo company (refuses one that holds data).

Without ``--db`` it writes the demo database in the user data folder, the file
``mangalm-desktop --demo`` opens, so orders taken on the CLI show in the app (docs/demo.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging

from ..db.migrate import backup_sqlite
from ..db.paths import demo_db_path
from ..demo import DEFAULT_TODAY, SMALL, create_demo_company, existing_data
from ..demo.company import check_sizes
from ..domain import formatting as fmt
from .common import add_db_option, cli_identity, cli_task, db_path, local_db

log = logging.getLogger(__name__)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="create a demo company (stores, products, two years of invoices)",
        description="Create a realistic demo company, the same for the same seed.",
    )
    add_db_option(p, demo=False)  # always the demo database unless --db names another file
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--stores", type=int, default=None, help="number of stores (default 250)")
    p.add_argument("--products", type=int, default=None, help="number of products (default 400)")
    p.add_argument("--agents", type=int, default=5, help="number of agents (default 5)")
    p.add_argument("--years", type=int, default=2, help="years of history (default 2)")
    p.add_argument(
        "--today",
        type=_date,
        default=None,
        help=f"the day the history ends before (default {DEFAULT_TODAY.isoformat()})",
    )
    p.add_argument("--small", action="store_true", help="a small company (30 stores, 60 products)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace all data in a database that is not empty (a backup copy is made first)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    sizes = dict(SMALL) if args.small else {"stores": 250, "products": 400}
    if args.stores is not None:
        sizes["stores"] = args.stores
    if args.products is not None:
        sizes["products"] = args.products
    check_sizes(agents=args.agents, years=args.years, **sizes)  # before touching any file
    args.demo = True  # --db, else the demo database (the app's --demo file)
    path = db_path(args)
    with local_db(args, encrypt_new=False) as engine:  # a demo company is made-up data: plain
        if path.resolve() != demo_db_path(None).resolve():
            # --db names another database (a laptop's own, --force would replace its data):
            # configured for a central server, that needs a sign-in like any other command
            cli_identity(engine)
        if args.force and existing_data(engine):
            backup = backup_sqlite(path, "before-demo")
            print(f"backup of the previous data: {backup}")
        summary = create_demo_company(
            engine,
            args.seed,
            agents=args.agents,
            years=args.years,
            today=args.today,
            replace=args.force,
            ctx=cli_task(args.quiet),
            **sizes,
        )
    print(
        f"demo company (seed {summary.seed}) written to {path}:\n"
        f"  {summary.agents} agents, {summary.stores} stores, {summary.products} products\n"
        f"  {fmt.number(summary.invoices)} invoices and {fmt.number(summary.credit_notes)} credit notes with "
        f"{fmt.number(summary.invoice_lines)} lines, {summary.start} to {summary.today - dt.timedelta(days=1)}\n"
        f"  {fmt.number(summary.orders)} orders taken in the app (last weeks), {fmt.number(summary.calls)} calls "
        f"in the call log; took {summary.seconds:.1f} s"
    )
    return 0
