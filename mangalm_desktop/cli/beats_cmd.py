"""``mangalm beats``: the Beats dialog from the command line (issue 19 item 2).

Managers: ``create``, ``rename``, ``days``, ``assign``, ``remove``, ``delete``; everyone: ``list``,
``show``; agents: ``today`` (their beat of the day in visit order). The services check who may
do what (``beats.service``); this face only parses and prints.
"""

from __future__ import annotations

import argparse

from ..beats import service
from ..beats.service import BeatDetail, BeatStop
from .common import add_db_option, add_today_option, as_of, signed_in


def register(sub: argparse._SubParsersAction) -> None:
    top = sub.add_parser("beats", help="beats (routes): which stores an agent visits on which days")
    add_db_option(top)
    bsub = top.add_subparsers(dest="beats_cmd", metavar="ACTION", required=True)

    p = bsub.add_parser("list", help="beats with their agent, days and number of stores")
    p.add_argument("--agent", help="only this agent's (code or name)")
    p.set_defaults(func=_list)

    p = bsub.add_parser("create", help="a new beat (managers)")
    p.add_argument("name")
    p.add_argument("--agent", required=True, help="agent code, e.g. A07")
    p.add_argument("--days", default="", help="visit days, e.g. Mon,Thu or Mon-Fri")
    p.add_argument("--region")
    p.add_argument("--notes")
    p.set_defaults(func=_create)

    p = bsub.add_parser("rename", help="rename a beat (managers)")
    p.add_argument("beat", help="beat name or id")
    p.add_argument("new_name")
    p.set_defaults(func=_rename)

    p = bsub.add_parser("days", help="set a beat's visit days (managers)")
    p.add_argument("beat", help="beat name or id")
    p.add_argument("days", help="e.g. Mon,Thu or Mon-Fri or daily ('' for none)")
    p.set_defaults(func=_days)

    p = bsub.add_parser("assign", help="put stores on a beat in visit order (managers)")
    p.add_argument("beat", help="beat name or id")
    p.add_argument("stores", nargs="+", metavar="STORE", help="store codes, in visit order")
    p.add_argument(
        "--replace",
        action="store_true",
        help="these stores become the whole visit order (others leave the beat)",
    )
    p.set_defaults(func=_assign)

    p = bsub.add_parser("remove", help="take stores off their beat (managers)")
    p.add_argument("stores", nargs="+", metavar="STORE", help="store codes")
    p.set_defaults(func=_remove)

    p = bsub.add_parser("delete", help="delete a beat; its stores are left on no beat (managers)")
    p.add_argument("beat", help="beat name or id")
    p.set_defaults(func=_delete)

    p = bsub.add_parser("show", help="a beat's stores in visit order")
    p.add_argument("beat", help="beat name or id")
    p.set_defaults(func=_show)

    p = bsub.add_parser("today", help="today's beat in visit order (--today for another day)")
    p.add_argument("--agent", help="whose (managers; agents always see their own)")
    add_today_option(p)
    p.set_defaults(func=_today)


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        beats = service.list_beats(engine, who, agent=args.agent)
        if not beats:
            print("No beats yet (mangalm beats create NAME --agent CODE --days Mon,Thu).")
            return 0
        width = max(len(b.name) for b in beats)
        for b in beats:
            print(
                f"{b.name.ljust(width)}  {b.agent_code:6}  {b.days_text:24}  {b.stores:>4} store{'s' if b.stores != 1 else ''}"
            )
        return 0


def _print_detail(detail: BeatDetail) -> None:
    b = detail.beat
    print(f"{b.name} — {b.agent_code} {b.agent_name}; visits {b.days_text}; {b.stores} stores")
    if b.region:
        print(f"region: {b.region}")
    if b.notes:
        print(f"notes: {b.notes}")
    for stop in detail.stops:
        print(_stop_line(stop))


def _stop_line(stop: BeatStop, marks: bool = False) -> str:
    mark = ""
    if marks:
        mark = "ordered  " if stop.ordered else ("visited  " if stop.visited else "to visit ")
    where = f"  {stop.locality}" if stop.locality else ""
    phone = f"  {stop.phone}" if stop.phone else ""
    return f"{stop.position:>3}. {mark}{stop.store_code}  {stop.store_name}{where}{phone}"


def _create(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        detail = service.create_beat(
            engine,
            who,
            name=args.name,
            agent=args.agent,
            days=args.days,
            region=args.region,
            notes=args.notes,
        )
        b = detail.beat
        print(f"Beat {b.name!r} created for {b.agent_code}, visited {b.days_text}.")
        return 0


def _rename(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        detail = service.rename_beat(engine, who, args.beat, args.new_name)
        print(f"Beat renamed to {detail.beat.name!r}.")
        return 0


def _days(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        detail = service.set_visit_days(engine, who, args.beat, args.days)
        print(f"{detail.beat.name} is visited {detail.beat.days_text}.")
        return 0


def _assign(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        detail = service.assign_stores(engine, who, args.beat, args.stores, replace=args.replace)
        _print_detail(detail)
        return 0


def _remove(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        service.remove_stores(engine, who, args.stores)
        print(f"{len(args.stores)} store(s) taken off their beat.")
        return 0


def _delete(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        service.delete_beat(engine, who, args.beat)
        print(f"Beat {args.beat!r} deleted; its stores are on no beat now.")
        return 0


def _show(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        _print_detail(service.show_beat(engine, who, args.beat))
        return 0


def _today(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, who):
        beat = service.todays_beat(engine, who, as_of(args, engine), agent=args.agent)
        print(f"{beat.day:%a %d %b %Y} — {beat.describe()}")
        for stop in beat.stops:
            print(_stop_line(stop, marks=True))
        return 0
