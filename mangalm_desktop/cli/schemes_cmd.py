"""``mangalm schemes list|show|create|end``: trade promotions (docs/orders.md "Schemes").

``list`` and ``show`` read this laptop's replica (an agent's: the schemes meant for its
stores). ``create`` and ``end`` are for managers: with ``--url`` (an admin or manager URL of
the central database, like ``mangalm central ...``) they write there; without it, a laptop set
up for a central server writes there as its signed-in login, and a standalone laptop writes
its own database.

    mangalm schemes create DIWALI-ATTA --name "Diwali atta" --kind slab --product ATTA-5 \\
        --from 2026-10-20 --to 2026-11-10 --region Pune --class A --class B \\
        --rule 10:5 --rule 25:8
    mangalm schemes create DAL-10+1 --name "Dal: buy 10 get 1" --kind free_goods \\
        --product DAL-1 --from 2026-12-01 --rule 10:free=1
    mangalm schemes end DIWALI-ATTA --on 2026-11-01
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation

from sqlalchemy import Engine

from ..db.engine import disposing, make_engine
from ..schemes.pricing import SchemeKind
from ..schemes.service import (
    RuleInput,
    SchemeInfo,
    SchemeInput,
    create_scheme,
    end_scheme,
    list_schemes,
    show_scheme,
)
from ..security.roles import Identity
from ..sync.connection import sqlalchemy_url
from ..sync.online_signin import url_identity
from ..sync.targets import manager_target
from .common import add_db_option, add_today_option, as_of, iso_date, signed_in


def parse_rule(text: str) -> RuleInput:
    """``10:5`` (from 10 on, 5% off), ``1:2.5`` (2.5% off), ``10:free=1`` (buy 10 get 1 of
    the same), ``24:free=2@SALT-1`` (buy 24 get 2 SALT-1)."""
    qty, _, rest = text.partition(":")
    try:
        min_qty = int(qty)
        if rest.startswith("free="):
            count, _, sku = rest[5:].partition("@")
            return RuleInput(min_qty, Decimal(0), int(count), sku or None)
        return RuleInput(min_qty, Decimal(rest.rstrip("%")))
    except (ValueError, InvalidOperation):
        raise argparse.ArgumentTypeError(
            f"not a rule: {text!r} (use QTY:PCT, e.g. 10:5, or QTY:free=N[@SKU])"
        ) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schemes", help="trade promotions: list, show, create, end")
    ssub = p.add_subparsers(dest="schemes_command", metavar="ACTION", required=True)

    q = ssub.add_parser("list", help="schemes on this laptop (active and upcoming)")
    q.add_argument("--all", action="store_true", help="ended ones too")
    add_db_option(q)
    add_today_option(q)
    q.set_defaults(func=run_list)

    q = ssub.add_parser("show", help="one scheme with its rules")
    q.add_argument("code")
    add_db_option(q)
    add_today_option(q)
    q.set_defaults(func=run_show)

    q = ssub.add_parser("create", help="create a scheme (managers)")
    q.add_argument("code")
    q.add_argument("--name", required=True)
    q.add_argument("--kind", required=True, choices=[k.value for k in SchemeKind])
    scope = q.add_mutually_exclusive_group()
    scope.add_argument("--product", help="SKU (default: every product)")
    scope.add_argument("--brand")
    scope.add_argument("--category")
    q.add_argument("--from", dest="valid_from", type=iso_date, required=True, metavar="DATE")
    q.add_argument("--to", dest="valid_to", type=iso_date, metavar="DATE", help="last day")
    q.add_argument("--region", action="append", default=[], help="repeat; default all")
    q.add_argument("--class", dest="classes", action="append", default=[], help="store class")
    q.add_argument("--stackable", action="store_true", help="combines with other schemes")
    q.add_argument(
        "--rule",
        action="append",
        type=parse_rule,
        default=[],
        required=True,
        help="QTY:PCT (10:5) or QTY:free=N[@SKU] (10:free=1)",
    )
    q.add_argument("--notes")
    _add_url(q)
    q.set_defaults(func=run_create)

    q = ssub.add_parser("end", help="end a scheme (managers): its last day")
    q.add_argument("code")
    q.add_argument("--on", type=iso_date, metavar="DATE", help="last day (default today)")
    _add_url(q)
    q.set_defaults(func=run_end)


def _add_url(q: argparse.ArgumentParser) -> None:
    q.add_argument("--url", help="central database URL (default $MANGALM_CENTRAL_URL when set)")
    add_db_option(q)
    add_today_option(q)


def _print(info: SchemeInfo) -> None:
    print(f"{info.code}  {info.name}  [{info.status}]")
    print(f"  {info.kind} on {info.scope}; valid {info.validity}")
    print(
        f"  {info.regions} · {info.store_classes} · "
        f"{'stacks' if info.stackable else 'does not stack (the better scheme applies)'}"
    )
    for rule in info.rules:
        print(f"  - {rule}")
    if info.notes:
        print(f"  {info.notes}")


def run_list(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        rows = list_schemes(engine, identity, on=as_of(args, engine), include_ended=args.all)
    if not rows:
        print("no schemes")
    for info in rows:
        print(
            f"{info.code:16} {info.status:8} {info.validity:28} {info.scope:28} {info.rules_text}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        info = show_scheme(engine, identity, args.code, on=as_of(args, engine))
    _print(info)
    return 0


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[Engine, Identity | None, str]]:
    """(engine to write, identity, where in words)."""
    url = args.url or os.environ.get("MANGALM_CENTRAL_URL")
    if url:
        who = url_identity(url)  # the URL's login, as the server says; checked like a person
        with disposing(make_engine(sqlalchemy_url(url))) as engine:
            yield engine, who, "on the central database"
        return
    with signed_in(args) as (local, identity), manager_target(local) as (engine, central):
        yield engine, identity, "on the central database" if central else "on this laptop"


def run_create(args: argparse.Namespace) -> int:
    inp = SchemeInput(
        code=args.code,
        name=args.name,
        kind=args.kind,
        valid_from=args.valid_from,
        valid_to=args.valid_to,
        product=args.product,
        brand=args.brand,
        category=args.category,
        regions=args.region,
        store_classes=args.classes,
        stackable=args.stackable,
        rules=args.rule,
        notes=args.notes,
    )
    with _target(args) as (engine, identity, where):
        info = create_scheme(engine, identity, inp)
    print(f"created scheme {info.code} {where}; laptops receive it at their next sync")
    _print(info)
    return 0


def run_end(args: argparse.Namespace) -> int:
    with _target(args) as (engine, identity, where):
        last_day: dt.date = args.on or args.today or dt.date.today()
        info = end_scheme(engine, identity, args.code, last_day=last_day)
    print(f"scheme {info.code} now ends on {info.valid_to} {where}")
    return 0
