"""The ``mangalm`` command. Each command group lives in its own module with a ``register``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from ..applog import setup_logging
from ..db.errors import explain as explain_db_error
from ..db.files import private_umask
from ..db.paths import log_dir
from ..domain.errors import Cancelled, UserError

log = logging.getLogger(__name__)

# Command modules, in the order they appear in --help. A module is listed here once it exists.
COMMAND_MODULES: list[str] = [
    "mangalm_desktop.cli.db_cmd",
    "mangalm_desktop.cli.import_cmd",
    "mangalm_desktop.cli.demo_cmd",
    "mangalm_desktop.cli.forecast_cmd",
    "mangalm_desktop.cli.orders_cmd",
    "mangalm_desktop.cli.visit_cmd",
    "mangalm_desktop.cli.beats_cmd",
    "mangalm_desktop.cli.payments_cmd",
    "mangalm_desktop.cli.report_cmd",
    "mangalm_desktop.cli.schemes_cmd",
    "mangalm_desktop.cli.central_cmd",
    "mangalm_desktop.cli.sync_cmd",
    "mangalm_desktop.cli.zoho_cmd",
    "mangalm_desktop.cli.totp_cmd",
    "mangalm_desktop.cli.mail_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mangalm",
        description="Mangalm Sales: import, forecast, sync and report from the command line.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with private_umask():  # everything a command writes is 0600 / 0700 (docs/security.md)
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    setup_logging(log_dir(), verbose=args.verbose)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (DBAPIError, OSError) as exc:
        known = explain_db_error(exc)
        if known is None:
            raise
        log.warning("database failure shown to the user: %s", exc)
        print(f"error: {known}", file=sys.stderr)
        return 2
    except Cancelled:
        print("cancelled; nothing was changed", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
