"""``mangalm orders``: every order feature of the GUI from the command line.

create / submit / amend / cancel / duplicate / list / show / pdf, plus ``call`` (call log) and
``stock`` (store shelf capture). Lines are ``SKU=QTY`` or ``SKU=QTY@DISCOUNT%``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..db.engine import session_scope
from ..domain import formatting as fmt
from ..domain.enums import CallOutcome, OrderKind, OrderState
from ..domain.errors import UserError
from ..orders import calls, pdf, queries, service
from ..orders.access import order_audit
from ..orders.model import LineInput, OrderDraft, OrderResult
from ..orders.prefill import prefill
from .common import add_db_option, add_today_option, as_of, signed_in


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name on this system
        return "cli"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _pct(text: str) -> Decimal:
    try:
        return Decimal(text.rstrip("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None


def parse_line(text: str) -> LineInput:
    """``SKU=QTY`` or ``SKU=QTY@PCT``; the quantity is checked by the order validation."""
    sku, sep, rest = text.partition("=")
    if not sep or not sku.strip() or not rest.strip():
        raise UserError(f"Line {text!r} is not SKU=QTY (e.g. ATTA-5=12 or ATTA-5=12@5).")
    qty, _, disc = rest.partition("@")
    try:
        discount = Decimal(disc.rstrip("%")) if disc else Decimal(0)
    except InvalidOperation:
        raise UserError(f"Discount in {text!r} is not a number.") from None
    return LineInput(sku.strip(), qty.strip(), discount)  # type: ignore[arg-type]


def _line_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--line", "-l", action="append", default=[], metavar="SKU=QTY[@PCT]")
    p.add_argument("--discount", type=_pct, help="order discount %% (amend: default unchanged)")
    p.add_argument("--notes")
    p.add_argument("--deliver", type=_date, metavar="YYYY-MM-DD", help="requested delivery")
    p.add_argument(
        "--accept-credit-warning",
        action="store_true",
        help="submit even if the store's credit limit is exceeded",
    )


def register(sub: argparse._SubParsersAction) -> None:
    top = sub.add_parser("orders", help="take, change and print orders; log calls and stock")
    add_db_option(top)
    add_today_option(top)
    osub = top.add_subparsers(dest="orders_cmd", metavar="ACTION", required=True)

    p = osub.add_parser("create", help="create a draft or submit a new order")
    p.add_argument("--store", required=True, help="store code")
    p.add_argument("--agent", required=True, help="agent code, e.g. A07")
    p.add_argument("--return", dest="is_return", action="store_true", help="a return of goods")
    p.add_argument("--draft", action="store_true", help="save as a local draft, do not submit")
    p.add_argument(
        "--prefill",
        action="store_true",
        help="start from the suggestions (or the last order) before --line",
    )
    _line_args(p)
    p.set_defaults(func=cmd_create)

    p = osub.add_parser("submit", help="submit a saved draft")
    p.add_argument("order", help="order number")
    p.add_argument("--accept-credit-warning", action="store_true")
    p.set_defaults(func=cmd_submit)

    p = osub.add_parser("amend", help="replace the lines of a submitted/synced order")
    p.add_argument("order")
    _line_args(p)
    p.set_defaults(func=cmd_amend)

    p = osub.add_parser("cancel", help="cancel a submitted order or discard a draft")
    p.add_argument("order")
    p.add_argument("--reason")
    p.set_defaults(func=cmd_cancel)

    p = osub.add_parser("duplicate", help="copy an order into a new draft")
    p.add_argument("order")
    p.add_argument("--agent", required=True)
    p.set_defaults(func=cmd_duplicate)

    p = osub.add_parser("list", help="list orders, newest first")
    p.add_argument("--state", action="append", choices=[s.value for s in OrderState])
    p.add_argument("--store", help="store code")
    p.add_argument("--agent", help="agent code")
    p.add_argument("--from", dest="date_from", type=_date)
    p.add_argument("--to", dest="date_to", type=_date)
    p.add_argument("--search", help="text in the number or store name")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_list)

    p = osub.add_parser("show", help="show one order with its lines")
    p.add_argument("order")
    p.set_defaults(func=cmd_show)

    p = osub.add_parser("pdf", help="write the order confirmation PDF")
    p.add_argument("order")
    p.add_argument("-o", "--output", type=Path, help="file (default: <number>.pdf)")
    p.set_defaults(func=cmd_pdf)

    p = osub.add_parser("call", help="log a call to a store")
    p.add_argument("--store", required=True)
    p.add_argument("--agent", required=True)
    p.add_argument("--outcome", required=True, choices=[c.value for c in CallOutcome])
    p.add_argument("--notes")
    p.add_argument("--next", dest="next_call", type=_date, metavar="YYYY-MM-DD")
    p.add_argument("--order", help="the order taken on this call")
    p.set_defaults(func=cmd_call)

    p = osub.add_parser("stock", help="record what a store has on the shelf")
    p.add_argument("--store", required=True)
    p.add_argument("--agent", required=True)
    p.add_argument("--date", type=_date, help="day reported (default: --today)")
    p.add_argument("items", nargs="+", metavar="SKU=QTY")
    p.set_defaults(func=cmd_stock)


def _print_result(res: OrderResult) -> None:
    for issue in res.notices:
        print(f"note: {issue}")
    for issue in res.warnings:
        print(f"warning: {issue}")
    print(f"{res.number}  {res.state}  total {fmt.money(res.total)}  (version {res.version})")


def cmd_create(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as s:
            agent_id = queries.find_agent(s, args.agent)
            lines: list[LineInput] = []
            suggestions = []
            if args.prefill:
                store_id = queries.find_store(s, args.store)
                pf = prefill(s, store_id, identity=identity)
                lines, suggestions = list(pf.lines), list(pf.suggestions)
                print(f"prefilled {len(lines)} lines from {pf.source.replace('_', ' ')}")
        lines += [parse_line(x) for x in args.line]
        draft = OrderDraft(
            store=args.store,
            agent_id=agent_id,
            lines=lines,
            kind=OrderKind.RETURN if args.is_return else OrderKind.ORDER,
            discount_pct=args.discount or Decimal(0),
            notes=args.notes,
            requested_delivery_date=args.deliver,
            suggestions=suggestions,
        )
        today = as_of(args, engine)
        if args.draft:
            res = service.save_draft(engine, draft, today=today, identity=identity)
        else:
            res = service.submit(
                engine,
                draft,
                today=today,
                identity=identity,
                accept_credit_warning=args.accept_credit_warning,
                on_write=order_audit(f"{_cli_actor()} as {args.agent.upper()}"),
            )
        _print_result(res)
    return 0


def _order_id(engine, ref: str):  # noqa: ANN001, ANN202
    with session_scope(engine) as s:
        return queries.find_order(s, ref)


def cmd_submit(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        oid = _order_id(engine, args.order)
        _print_result(
            service.submit_saved(
                engine,
                oid,
                today=as_of(args, engine),
                identity=identity,
                accept_credit_warning=args.accept_credit_warning,
                on_write=order_audit(_cli_actor()),
            )
        )
    return 0


def cmd_amend(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        oid = _order_id(engine, args.order)
        with session_scope(engine) as s:
            current = service.draft_from_order(s, oid, identity=identity)
        current.lines = [parse_line(x) for x in args.line]
        if args.discount is not None:
            current.discount_pct = args.discount
        if args.notes is not None:
            current.notes = args.notes
        if args.deliver is not None:
            current.requested_delivery_date = args.deliver
        _print_result(
            service.amend(
                engine,
                oid,
                current,
                today=as_of(args, engine),
                identity=identity,
                accept_credit_warning=args.accept_credit_warning,
                on_write=order_audit(_cli_actor()),
            )
        )
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        _print_result(
            service.cancel(
                engine,
                _order_id(engine, args.order),
                identity=identity,
                reason=args.reason,
                on_write=order_audit(_cli_actor()),
            )
        )
    return 0


def cmd_duplicate(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        oid = _order_id(engine, args.order)
        with session_scope(engine) as s:
            agent_id = queries.find_agent(s, args.agent)
        _print_result(service.duplicate(engine, oid, agent_id=agent_id, identity=identity))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as s:
            f = queries.OrderFilter(
                states=tuple(args.state) if args.state else None,
                store_id=queries.find_store(s, args.store) if args.store else None,
                agent_id=queries.find_agent(s, args.agent) if args.agent else None,
                date_from=args.date_from,
                date_to=args.date_to,
                text=args.search,
            )
            total = queries.count_orders(s, f, identity=identity)
            rows = queries.list_orders(s, f, identity=identity, limit=args.limit)
        for r in rows:
            print(
                f"{r.number:<18} {fmt.day(r.order_date)}  {r.state:<12} {r.agent_code:<5} "
                f"{r.store_name[:32]:<32} {fmt.money(r.total):>15}"
            )
        print(f"{len(rows)} of {total} orders")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as s:
            o = queries.get_order(s, queries.find_order(s, args.order), identity=identity)
        print(f"{o.number}  {o.kind}  {o.state}  version {o.version}")
        print(f"store {o.store_code} {o.store_name}; agent {o.agent_code} {o.agent_name}")
        delivery = fmt.day(o.requested_delivery_date) or "-"
        print(f"date {fmt.day(o.order_date)}; delivery {delivery}")
        for ln in o.lines:
            disc = f" less {fmt.percent_points(ln.discount_pct)}" if ln.discount_pct else ""
            print(
                f"  {ln.line_no:>3} {ln.sku or '':<12} {ln.name[:36]:<36} "
                f"{fmt.quantity(ln.quantity):>6} × {fmt.price(ln.unit_price)}{disc} = "
                f"{fmt.money(ln.line_total)}"
            )
            if ln.scheme_reason:
                worth = f" (worth {fmt.money(ln.scheme_value)})" if ln.free_goods else ""
                print(
                    f"        {'free: ' if ln.free_goods else 'scheme: '}{ln.scheme_reason}{worth}"
                )
        print(
            f"subtotal {fmt.money(o.subtotal)}  discounts {fmt.money(o.discount_total)}  "
            f"total {fmt.money(o.total)}"
        )
        if o.notes:
            print(f"notes: {o.notes}")
    return 0


def cmd_pdf(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        oid = _order_id(engine, args.order)
        with session_scope(engine) as s:
            number = queries.get_order(s, oid, identity=identity).number
        out = args.output or Path(f"{number}.pdf")
        pdf.write_order_pdf(engine, oid, out, identity=identity)
        print(f"wrote {out}")
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as s:
            agent_id = queries.find_agent(s, args.agent)
        order_id = _order_id(engine, args.order) if args.order else None
        calls.log_call(
            engine,
            identity=identity,
            store=args.store,
            agent_id=agent_id,
            outcome=args.outcome,
            notes=args.notes,
            next_call_date=args.next_call,
            order_id=order_id,
            today=as_of(args, engine),
        )
        print(
            f"call logged: {args.outcome}"
            + (f", next call {args.next_call}" if args.next_call else "")
        )
    return 0


def cmd_stock(args: argparse.Namespace) -> int:
    quantities: dict = {}
    for item in args.items:
        sku, sep, qty = item.partition("=")
        try:
            quantities[sku.strip()] = int(qty)
        except ValueError:
            raise UserError(f"{item!r} is not SKU=QTY with a whole quantity.") from None
        if not sep:
            raise UserError(f"{item!r} is not SKU=QTY.")
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as s:
            agent_id = queries.find_agent(s, args.agent)
        n = calls.record_stock(
            engine,
            identity=identity,
            store=args.store,
            agent_id=agent_id,
            quantities=quantities,
            reported_on=args.date or as_of(args, engine),
        )
        print(f"recorded shelf stock for {n} products")
    return 0
