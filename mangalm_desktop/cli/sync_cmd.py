"""``mangalm sync ...``: connect this laptop to the central database, sync, see and settle conflicts."""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import threading

from ..domain.errors import UserError
from ..security.secrets import KeyringUnavailable, get_secret, set_secret
from ..sync.conflicts import list_conflicts, resolve
from ..sync.connection import CentralConfig, check_connection, connect, load_config, save_config
from ..sync.handover import can_hand_over, hand_over
from ..sync.pull import build_deferred_indexes
from ..sync.scheduler import SyncScheduler, run_forever
from ..sync.service import SyncReport, local_counts, sync_once
from ..sync.state import history
from .common import add_db_option, cli_task, local_db, password_source, signed_in


def register(sub: argparse._SubParsersAction) -> None:
    sync = sub.add_parser("sync", help="sync this computer with the central database")
    ssub = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)

    p = ssub.add_parser("connect", help="save the central server settings (password to keyring)")
    p.add_argument(
        "url", help="postgresql://USER@HOST:PORT/DB[?sslmode=verify-full&sslrootcert=CA]"
    )
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--minutes", type=int, default=5, help="sync every N minutes (default 5)")
    p.add_argument(
        "--insecure",
        action="store_true",
        help="accept sslmode=disable/prefer/require (no server check: anyone on the network "
        "can read or change the data and capture the password); default: verify-full",
    )
    p.set_defaults(func=run_connect)

    p = ssub.add_parser("run", help="send local changes, then receive central changes")
    add_db_option(p)
    p.add_argument("--pull-only", action="store_true")
    p.add_argument("--push-only", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument(
        "--every",
        type=float,
        metavar="MINUTES",
        help="keep running: sync every MINUTES (after a failure sooner, with growing pauses) "
        "until Ctrl+C; a run missed while the computer slept runs when it wakes",
    )
    p.set_defaults(func=run_sync)

    p = ssub.add_parser("status", help="pending changes, conflicts and recent sync runs")
    add_db_option(p)
    p.set_defaults(func=run_status)

    p = ssub.add_parser("conflicts", help="list parked changes with both versions")
    add_db_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_conflicts)

    p = ssub.add_parser(
        "resolve", help="settle a parked change: keep yours or take the central one"
    )
    add_db_option(p)
    p.add_argument("seq", type=int, help="the number shown by `mangalm sync conflicts`")
    p.add_argument("--keep", choices=("mine", "theirs"), required=True)
    p.set_defaults(func=run_resolve)

    p = ssub.add_parser(
        "hand-over",
        help="give an order kept for a store moved to another agent to that agent",
    )
    add_db_option(p)
    p.add_argument("seq", type=int, help="the number shown by `mangalm sync conflicts`")
    p.set_defaults(func=run_hand_over)


def _config() -> CentralConfig:
    cfg = load_config()
    if not cfg.configured:
        raise UserError(
            "No central server is set up on this computer.",
            hint="Run `mangalm sync connect postgresql://USER@HOST/DB` first.",
        )
    return cfg


def run_connect(args: argparse.Namespace) -> int:
    cfg = CentralConfig.from_url(args.url)
    cfg.sync_minutes = args.minutes
    cfg.insecure = args.insecure
    cfg.validate()  # an insecure TLS mode without --insecure stops here: nothing asked or saved
    if cfg.insecure and cfg.insecure_warning:
        print(cfg.insecure_warning, file=sys.stderr)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {cfg.user}@{cfg.host}: ")
    result = check_connection(cfg, password)
    print(result.message)
    if not result.ok:
        return 1
    save_config(cfg)
    try:
        set_secret(cfg.secret_key, password)
    except KeyringUnavailable as exc:
        print(
            f"saved the settings, but NOT the password: {exc.message}\n"
            "  `mangalm sync run` asks for it when run in a terminal; for scripts give it to\n"
            "  the command only: PGPASSWORD=... mangalm sync run"
        )
        return 0
    print("saved; the password is in the OS keyring")
    return 0


def _connector(cfg: CentralConfig):  # noqa: ANN202 - a Connector
    """Connections with the keyring's password; without a keyring the password comes from
    ``PGPASSWORD`` or a terminal prompt (asked once per command), else the error says how."""
    try:
        get_secret(cfg.secret_key)
    except KeyringUnavailable as exc:
        ask = password_source()
        if ask is None:
            raise UserError(
                f"{exc.message} The password of {cfg.user} is therefore not stored here.",
                hint="Run the command in a terminal (it asks for the password), or give it to "
                "this command only: PGPASSWORD=... mangalm sync run",
            ) from None
        password = ask(f"Password for {cfg.user}@{cfg.host} (not stored: no OS keyring): ")
        return lambda: connect(cfg, password=password)
    return lambda: connect(cfg)


def _central(connector):  # noqa: ANN001, ANN202 - a Connector; a psycopg connection
    """One connection for a command that needs the server now: an unreachable server is said
    in words (it was a psycopg traceback)."""
    import psycopg

    try:
        return connector()
    except psycopg.OperationalError as exc:
        raise UserError(
            f"The central server did not answer: {str(exc).strip()}",
            hint="Check the network (or `mangalm sync status`) and try again; nothing changed.",
        ) from None


def run_sync(args: argparse.Namespace) -> int:
    cfg = _config()
    # No person's sign-in: a scheduled `sync run --every` must keep running unattended. It
    # logs in as this laptop's PostgreSQL role (password in the keyring), prints only counts,
    # and the central server's RLS limits it to the agent's rows (docs/security.md).
    with local_db(args) as engine:
        if args.every is not None:
            return _run_loop(args, cfg, engine)
        report = sync_once(
            engine,
            _connector(cfg),
            cli_task(args.quiet),
            do_push=not args.pull_only,
            do_pull=not args.push_only,
        )
        if not report.ok:
            raise UserError(report.error)
        print(
            f"sent {report.pushed} change(s), {report.parked} parked, "
            f"received {report.pulled:,} row(s) in {report.seconds:.1f}s"
        )
        deferred = build_deferred_indexes(engine, cli_task(args.quiet))
    if deferred.built:
        print(f"prepared {len(deferred.built)} report index(es) in {deferred.seconds:.1f}s")
    return 0


def _run_loop(args: argparse.Namespace, cfg: CentralConfig, engine) -> int:  # noqa: ANN001
    """``sync run --every``: the plain loop of :func:`run_forever`, one line per run."""
    if args.every <= 0:
        raise UserError("--every needs a number of minutes greater than 0.")
    connector = _connector(cfg)  # asks for a password (no keyring) once, not every run

    def report_line(report: SyncReport) -> None:
        if report.ok:
            line = (
                f"sent {report.pushed} change(s), {report.parked} parked, "
                f"received {report.pulled:,} row(s) in {report.seconds:.1f}s"
            )
        else:
            line = f"sync failed: {report.error}"
        print(f"{report.started_at} {line}", flush=True)

    scheduler = SyncScheduler(
        engine,
        lambda: connector,
        interval_minutes=args.every,
        on_report=report_line,
        on_progress=None if args.quiet else cli_task(args.quiet).on_progress,
    )
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_forever(scheduler, stop)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        scheduler.shutdown()
    print("stopped")
    return 0


def run_status(args: argparse.Namespace) -> int:
    with local_db(args) as engine:
        counts = local_counts(engine)
        runs = history(engine)[-10:]
    cfg = load_config()
    print(
        f"central server: {cfg.user}@{cfg.host}/{cfg.database}"
        if cfg.configured
        else "central server: not set up (working standalone)"
    )
    print(f"pending changes: {counts.pending}, conflicts: {counts.parked}")
    for entry in runs:
        mark = "ok " if entry.get("ok") else ("off" if entry.get("offline") else "ERR")
        print(
            f"  {entry.get('started_at')} {mark} sent {entry.get('pushed')} "
            f"received {entry.get('pulled')} {entry.get('error', '')}".rstrip()
        )
    return 0


def run_conflicts(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, _identity):
        items = list_conflicts(engine)
    if args.json:
        shown = [
            {k: v for k, v in item.__dict__.items() if k != "products"}
            | {"line_differences": [d.__dict__ for d in item.line_differences()]}
            for item in items
        ]
        print(json.dumps(shown, default=str, indent=2))
        return 0
    if not items:
        print("no conflicts")
    for item in items:
        print(f"#{item.seq} {item.table_name} {item.row_id}: {item.message}")
        for field, mine, theirs in item.differences():
            was = f" (before both: {item.fields[field]['base']!r})" if item.fields else ""
            print(f"    {field}: yours={mine!r} central={theirs!r}{was}")
        if item.fields:
            print("    (only these fields differ; your other changes are sent either way)")
        lines = item.line_differences()
        if lines:
            print("    lines:")
        for d in lines:
            mine_q = "-" if d.mine_qty is None else d.mine_qty
            theirs_q = "-" if d.theirs_qty is None else d.theirs_qty
            print(f"      {d.product}: yours={mine_q} central={theirs_q} ({d.name})")
        if not item.can_keep_mine:
            print("    (only the central version can be kept)")
        if can_hand_over(item):
            print(f"    (or give it to the store's agent: mangalm sync hand-over {item.seq})")
    return 0


def run_resolve(args: argparse.Namespace) -> int:
    cfg = _config()
    with signed_in(args) as (engine, _identity), _central(_connector(cfg)) as pg:
        resolve(engine, pg, args.seq, args.keep)
    print(f"#{args.seq}: kept {'your' if args.keep == 'mine' else 'the central'} version")
    return 0


def run_hand_over(args: argparse.Namespace) -> int:
    cfg = _config()
    with signed_in(args) as (engine, _identity), _central(_connector(cfg)) as pg:
        done = hand_over(engine, pg, args.seq)
    print(
        f"#{args.seq}: order {done.old_number} handed over to the store's agent as "
        f"{done.number}; it is no longer on this computer"
    )
    return 0
