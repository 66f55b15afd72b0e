"""``mangalm visit`` (one visit: outcome, order, shelf stock, next call — one transaction) and
``mangalm reasons`` (the no-order reasons managers keep). The CLI twin of the call screen."""

from __future__ import annotations

import argparse

from ..db.engine import session_scope
from ..domain import formatting as fmt
from ..domain.enums import CallOutcome
from ..domain.errors import UserError
from ..orders import queries
from ..orders.access import order_audit
from ..orders.prefill import prefill
from ..payments.model import PaymentInput
from ..visits import reasons as reason_list
from ..visits.model import OUTCOME_WORDS, VisitInput
from ..visits.service import save_visit
from .common import add_db_option, add_today_option, as_of, iso_date, signed_in
from .orders_cmd import _cli_actor, parse_line
from .payments_cmd import _allocations, _amount


def _stock_item(text: str) -> tuple[str, int]:
    sku, sep, qty = text.partition("=")
    try:
        if not sep or not sku.strip():
            raise ValueError
        return sku.strip(), int(qty)
    except ValueError:
        raise UserError(f"{text!r} is not SKU=QTY with a whole quantity (e.g. ATTA-5=3).") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "visit", help="record a visit or call: outcome, order, shelf stock, next call"
    )
    add_db_option(p)
    add_today_option(p)
    p.add_argument("--store", required=True, help="store code")
    p.add_argument("--agent", help="agent code (default: the signed-in agent)")
    p.add_argument(
        "--outcome",
        required=True,
        choices=[o.value for o in OUTCOME_WORDS],
        help="ordered | no_order (needs --reason) | call_back (needs --next) | no_answer",
    )
    p.add_argument("--line", "-l", action="append", default=[], metavar="SKU=QTY[@PCT]")
    p.add_argument(
        "--prefill", action="store_true", help="start from the suggestions (or last order)"
    )
    p.add_argument("--reason", help="no-order reason code (mangalm reasons list)")
    p.add_argument("--next", dest="next_call", type=iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--notes")
    p.add_argument("--stock", action="append", default=[], metavar="SKU=QTY", help="shelf")
    p.add_argument("--accept-credit-warning", action="store_true")
    pay = p.add_argument_group("a payment collected on the visit (as `mangalm payments record`)")
    pay.add_argument("--pay", type=_amount, metavar="AMOUNT", help="amount collected")
    pay.add_argument("--mode", help="cash, cheque, upi or bank_transfer")
    pay.add_argument("--reference", help="cheque number, UPI transaction id or bank UTR")
    pay.add_argument("--cheque-date", type=iso_date, metavar="YYYY-MM-DD")
    pay.add_argument("--settle", action="append", default=[], metavar="INVOICE=AMOUNT")
    p.set_defaults(func=cmd_visit)

    r = sub.add_parser("reasons", help="the list of no-order reasons (managers change it)")
    add_db_option(r)
    rsub = r.add_subparsers(dest="reasons_cmd", metavar="ACTION", required=True)
    q = rsub.add_parser("list", help="show the reasons")
    q.add_argument("--all", action="store_true", help="also retired ones")
    q.set_defaults(func=cmd_reasons_list)
    q = rsub.add_parser("add", help="add a reason (managers)")
    q.add_argument("label", help="the words agents choose, e.g. 'Enough stock on the shelf'")
    q.add_argument("--code", help="short code (default: from the words)")
    q.set_defaults(func=cmd_reasons_add)
    q = rsub.add_parser("retire", help="take a reason off the list (managers)")
    q.add_argument("code")
    q.set_defaults(func=cmd_reasons_retire)


def cmd_visit(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        today = as_of(args, engine)
        with session_scope(engine) as s:
            store_id = queries.find_store(s, args.store)
            agent_id = queries.find_agent(s, args.agent) if args.agent else None
            lines = prefill(s, store_id, identity=identity).lines if args.prefill else []
            payment = None
            if args.pay is not None:
                payment = PaymentInput(
                    store_id,
                    args.pay,
                    args.mode or "cash",
                    reference=args.reference,
                    cheque_date=args.cheque_date,
                    allocations=_allocations(s, store_id, args.settle),
                )
            reason_id = None
            if args.reason:
                found = [x for x in reason_list.list_reasons(s, identity) if x.code == args.reason]
                if not found:
                    raise UserError(
                        f"No active no-order reason has the code {args.reason!r}.",
                        hint="mangalm reasons list",
                    )
                reason_id = found[0].id
        typed = [parse_line(x) for x in args.line]
        by_product = {str(x.product): x for x in lines}
        for line in typed:  # a typed line replaces the prefilled one of that product
            by_product[str(line.product)] = line
        visit = VisitInput(
            store_id=store_id,
            agent_id=agent_id,
            outcome=CallOutcome(args.outcome),
            lines=list(by_product.values()) if args.prefill else typed,
            reason_id=reason_id,
            notes=args.notes,
            next_call_date=args.next_call,
            stock=dict(_stock_item(x) for x in args.stock),
            payment=payment,
            accept_credit_warning=args.accept_credit_warning,
        )
        result = save_visit(
            engine, identity, visit, today=today, on_write=order_audit(_cli_actor())
        )
        words = OUTCOME_WORDS[visit.outcome]
        if result.order is not None:
            for issue in result.order.notices:
                print(f"note: {issue}")
            print(
                f"{words}: {result.order.number}  {result.order.state}  "
                f"total {fmt.money(result.order.total)}"
            )
        else:
            print(words)
        if result.stock_rows:
            print(f"shelf stock recorded for {result.stock_rows} products")
        if result.payment is not None:
            print(
                f"receipt {result.payment.number}: {fmt.money(result.payment.amount)} "
                "(collected, awaiting approval)"
            )
        if visit.next_call_date:
            print(f"next call {fmt.day(visit.next_call_date)}")
    return 0


def cmd_reasons_list(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        with session_scope(engine) as s:
            rows = reason_list.list_reasons(s, identity, include_retired=args.all)
        if not rows:
            print("no reasons yet (a manager adds them: mangalm reasons add 'WORDS')")
        for r in rows:
            print(f"{r.code:<20} {r.label}{'' if r.active else '  (retired)'}")
    return 0


def cmd_reasons_add(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        r = reason_list.add_reason(engine, identity, args.label, code=args.code)
        print(f"added {r.code}: {r.label}")
    return 0


def cmd_reasons_retire(args: argparse.Namespace) -> int:
    with signed_in(args) as (engine, identity):
        r = reason_list.retire_reason(engine, identity, args.code)
        print(f"retired {r.code}: {r.label}")
    return 0
