"""``mangalm zoho``: connect to Zoho, run the bridge (once or on a schedule), show its status.

The bridge works on the central PostgreSQL: ``--central URL`` (or ``$MANGALM_CENTRAL_URL``),
else the saved central connection with its password from the keyring.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import logging
import os
import sys
from dataclasses import fields
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ..db.engine import disposing
from ..domain.errors import UserError
from ..security.secrets import set_secret
from ..zoho import bridge, panel
from ..zoho.auth import exchange_grant_code
from ..zoho.config import (
    DATA_CENTRES,
    SCOPES,
    SECRET_CENTRAL,
    ZohoConfig,
    load_config,
    save_config,
)
from .common import cli_task

log = logging.getLogger(__name__)

_TUNABLE = {
    f.name: f.type
    for f in fields(ZohoConfig)
    if f.name
    not in ("client_id", "organization_id", "dc", "accounts_url", "api_domain", "central_url")
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("zoho", help="Zoho CRM/Books bridge: auth, run, status")
    zsub = p.add_subparsers(dest="zoho_command", metavar="ACTION", required=True)

    a = zsub.add_parser("auth", help="connect with a Self Client grant code (token → keyring)")
    a.add_argument("--client-id", help="Self Client id from the API console")
    a.add_argument("--org-id", help="Zoho Books organization id")
    a.add_argument("--dc", choices=sorted(DATA_CENTRES), help="data centre of the Zoho account")
    a.add_argument("--accounts-url", help="accounts server (only for a DC not listed)")
    a.add_argument("--api-domain", help="API domain override (normally from the token reply)")
    a.add_argument("--code", help="grant code (asked for if omitted; it expires in minutes)")
    a.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"other settings: {', '.join(_TUNABLE)}",
    )
    a.set_defaults(func=run_auth)

    r = zsub.add_parser("run", help="run the bridge (scheduled; --once for one run)")
    _central_option(r)
    r.add_argument("--once", action="store_true", help="one run, then exit")
    r.add_argument(
        "--runs",
        type=int,
        default=0,
        metavar="N",
        help="scheduled mode: stop after N runs (default: until Ctrl+C)",
    )
    r.add_argument(
        "--jobs",
        default=",".join(bridge.ALL_JOBS),
        help=f"comma-separated jobs (default all: {','.join(bridge.ALL_JOBS)})",
    )
    r.set_defaults(func=run_bridge)

    c = zsub.add_parser(
        "central", help="the bridge's own central login (from `mangalm central add-bridge`)"
    )
    c.add_argument("url", help="postgresql://mangalm_zoho_bridge@host:5432/mangalm (no password)")
    c.set_defaults(func=run_central)

    s = zsub.add_parser("status", help="last runs, counts, parked orders")
    _central_option(s)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=run_status)

    t = zsub.add_parser(
        "retry", help="release parked orders and payments (after fixing them) for the next run"
    )
    _central_option(t)
    t.add_argument("orders", nargs="*", help="order numbers (default: all parked)")
    t.set_defaults(func=run_retry)


def _central_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--central",
        metavar="URL",
        help="central PostgreSQL URL (default: $MANGALM_CENTRAL_URL, else the saved connection)",
    )


def central_engine(args: argparse.Namespace) -> Engine:
    return panel.central_engine(getattr(args, "central", None))


def _apply_settings(cfg: ZohoConfig, pairs: list[str]) -> None:
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in _TUNABLE:
            raise UserError(f"Unknown setting {key!r}.", hint=f"Known: {', '.join(_TUNABLE)}")
        kind = str(_TUNABLE[key])
        try:
            if "bool" in kind:
                setattr(cfg, key, value.lower() in ("1", "true", "yes", "on"))
            elif "int" in kind:
                setattr(cfg, key, int(value))
            elif "float" in kind:
                setattr(cfg, key, float(value))
            else:
                setattr(cfg, key, value)
        except ValueError as exc:
            raise UserError(f"Bad value for {key}: {value!r}") from exc


def run_auth(args: argparse.Namespace) -> int:
    cfg = load_config()
    for attr, value in (
        ("client_id", args.client_id),
        ("organization_id", args.org_id),
        ("dc", args.dc),
        ("accounts_url", args.accounts_url),
        ("api_domain", args.api_domain),
    ):
        if value:
            setattr(cfg, attr, value)
    _apply_settings(cfg, args.set)
    cfg.validate()
    secret = os.environ.get("MANGALM_ZOHO_CLIENT_SECRET") or getpass.getpass(
        "Client secret (not shown): "
    )
    code = args.code
    if not code:
        print("In the API console: Self Client > Generate Code, with the scopes:")
        print("  " + ",".join(SCOPES))
        code = input("Grant code: ").strip()
    with httpx.Client() as http:
        tok = exchange_grant_code(http, cfg, secret, code)
    if tok.api_domain and not cfg.api_domain:
        log.info("Zoho api_domain is %s", tok.api_domain)
    save_config(cfg)
    print(f"Connected to Zoho ({cfg.dc}); the refresh token is in the system keyring.")
    return 0


def run_central(args: argparse.Namespace) -> int:
    """Keep the bridge's central login: the URL in zoho.json, the password in the keyring."""
    parts = urlsplit(args.url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg") or parts.password:
        raise UserError(
            "Give the central URL as postgresql://LOGIN@HOST:PORT/DATABASE, without a password.",
            hint="The password is asked for next (or taken from $MANGALM_ZOHO_CENTRAL_PASSWORD) "
            "and goes only to the keyring.",
        )
    password = os.environ.get("MANGALM_ZOHO_CENTRAL_PASSWORD") or getpass.getpass(
        f"Password of {parts.username or 'the bridge login'} (not shown): "
    )
    cfg = load_config()
    cfg.central_url = args.url
    set_secret(SECRET_CENTRAL, password)
    save_config(cfg)
    print(f"The bridge uses {args.url} (password in the system keyring).")
    return 0


def _print_report(report: bridge.RunReport) -> None:
    for r in report.results:
        line = (
            f"{r.job:9} fetched {r.fetched:6} created {r.created:5} updated {r.updated:5} "
            f"unchanged {r.unchanged:6} sent {r.sent:4} parked {r.parked:3} "
            f"requests {r.requests:5}"
        )
        extra = [f"{n} {v}" for n, v in (("waiting", r.waiting), ("deleted", r.deleted)) if v]
        print(line + "".join(f" {e}" for e in extra) + (f"  ERROR {r.error}" if r.error else ""))
        for w in r.warnings[:10]:
            print(f"    {w}")
        if len(r.warnings) > 10:
            print(f"    ... {len(r.warnings) - 10} more (see `mangalm zoho status --json`)")
    print(
        f"requests {report.requests}, retries {report.retries}, token refreshes "
        f"{report.token_refreshes}, waited {report.rate_wait_s:.0f}s for the rate limit"
        + (f"; stopped: {report.stopped}" if report.stopped else "")
    )


def _exit_code(report: bridge.RunReport | None) -> int:
    """3 = another bridge held the lock, 1 = stopped early, 4 = a job failed, 0 = all ran."""
    if report is None:
        return 3
    if report.stopped:
        return 1
    return 4 if report.failed else 0


def run_bridge(args: argparse.Namespace) -> int:
    cfg = load_config()
    cfg.validate()
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    engine = central_engine(args)
    client = bridge.make_client(cfg)
    last: list[int] = []

    def once() -> bridge.RunReport | None:
        try:
            report = bridge.run_once(engine, client, jobs, cli_task(quiet=not args.once))
        except bridge.BridgeBusy as exc:
            print(f"skipped: {exc.message}", file=sys.stderr)
            report = None
        except (UserError, DBAPIError) as exc:
            if args.once:
                raise
            # Scheduled: one bad run (central down, a login without grants) is reported in
            # words and the schedule goes on.
            message = exc.message if isinstance(exc, UserError) else str(exc.orig or exc)
            print(f"run failed: {message.splitlines()[0]}", file=sys.stderr)
            last.append(4)
            return None
        else:
            if report is not None:
                _print_report(report)
        last.append(_exit_code(report))
        return report

    try:
        if args.once:
            return _exit_code(once())
        from apscheduler.schedulers.blocking import BlockingScheduler

        scheduler = BlockingScheduler(timezone="UTC")

        def scheduled() -> None:
            once()
            if args.runs and len(last) >= args.runs:
                scheduler.shutdown(wait=False)

        scheduler.add_job(
            scheduled,
            "interval",
            seconds=cfg.interval_minutes * 60,
            next_run_time=dt.datetime.now(dt.UTC),
            max_instances=1,
            coalesce=True,
        )
        print(f"Zoho bridge: every {cfg.interval_minutes:g} min; Ctrl+C to stop.", file=sys.stderr)
        scheduler.start()
        return last[-1] if args.runs and last else 0
    finally:
        client.close()
        engine.dispose()


def run_status(args: argparse.Namespace) -> int:
    with disposing(central_engine(args)) as engine:
        st = bridge.status(engine)
    cfg = load_config()
    if args.json:
        print(
            json.dumps(
                {
                    "runs": st.runs[:5],
                    "budget_used_today": st.budget_used_today,
                    "daily_budget": cfg.daily_budget,
                    "first_pull_needs": st.first_pull_needs,
                    "cursors": st.cursors,
                    "counts": st.counts,
                    "parked": [p.__dict__ for p in st.parked],
                },
                indent=2,
            )
        )
        return 0
    print(f"Zoho: {cfg.dc}, organization {cfg.organization_id or '(not set)'}")
    print(f"requests today: {st.budget_used_today} of {cfg.daily_budget}")
    if st.first_pull_needs and st.first_pull_needs > cfg.daily_budget:
        print(bridge.budget_warning(st.first_pull_needs, cfg.daily_budget))
    for key, value in st.counts.items():
        print(f"{key:20} {value}")
    for job, cursor in st.cursors.items():
        print(f"cursor {job:13} {cursor}")
    for run in st.runs[:5]:
        jobs = ", ".join(f"{j['job']}{' ERROR' if j['error'] else ''}" for j in run.get("jobs", []))
        print(
            f"run {run['started_at']}: {run['requests']} requests; {jobs}"
            + (f"; stopped: {run['stopped']}" if run.get("stopped") else "")
        )
    if st.parked:
        print("parked orders (fix, then `mangalm zoho retry`):")
        for p in st.parked:
            print(f"  {p.number}  {p.store}: {p.error}")
    return 0


def run_retry(args: argparse.Namespace) -> int:
    with disposing(central_engine(args)) as engine:
        n = bridge.retry_parked(engine, args.orders or None)
    print(f"{n} parked order(s) and payment(s) released; the next run sends them.")
    return 0
