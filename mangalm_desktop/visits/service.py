"""Save a visit: the call's outcome, the order, shelf stock and a payment in ONE transaction.

Why one transaction: a visit is one fact in the agent's day ("Ganesh ordered 20 lines, had 3
atta on the shelf and paid ₹12,000 by cheque"). Saved piecewise, a crash or a refusal half way
leaves an order without its call (the call list would ring the store again) or a payment
without its visit. Each part is written by its own package's in-session function — the order
by :func:`..orders.service.submit_in_session` (validation, numbering, feedback, its one
``upsert_order`` op), the call and stock by :mod:`..orders.calls`, the payment by
``payments.service.record_payment`` — inside the one ``session_scope`` here, so the commit at its end keeps
all of them or none (``tests/integration/test_visit_durability.py`` kills a process mid-save).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ..db.engine import session_scope
from ..db.models import Store
from ..domain.enums import CallOutcome
from ..domain.errors import UserError
from ..orders.access import authorise_order
from ..orders.calls import add_call, add_stock
from ..orders.model import OrderDraft
from ..orders.service import OnWrite, submit_in_session
from ..payments.service import record_payment, record_promise
from ..security.roles import Identity
from .model import VisitInput, VisitResult
from .reasons import check_reason


def _store(session: Session, store_id: uuid.UUID) -> Store:
    store = session.get(Store, store_id)
    if store is None or store.deleted:
        raise UserError("The store of this visit is not known on this laptop.")
    return store


def _outcome(value: CallOutcome | str) -> CallOutcome:
    try:
        return CallOutcome(value)
    except ValueError:
        raise UserError(f"Unknown visit outcome {value!r}.") from None


def save_visit(
    engine: Engine,
    identity: Identity | None,
    visit: VisitInput,
    *,
    today: dt.date | None = None,
    on_write: OnWrite | None = None,
) -> VisitResult:
    """Write the visit atomically; any refusal (authorisation, validation, credit limit not
    accepted, a retired reason) raises a :class:`UserError` and keeps nothing.

    ``on_write`` is the order's audit hook (:func:`..orders.access.order_audit`).
    """
    outcome = _outcome(visit.outcome)
    today = today or dt.date.today()
    with session_scope(engine) as session:
        store = _store(session, visit.store_id)
        agent_id = visit.agent_id
        if agent_id is None and identity is not None:
            agent_id = identity.agent_id
        # the same rule as an order: own stores only, in one's own name (managers: any)
        authorise_order(session, identity, store_id=store.id, agent_id=agent_id)
        order = None
        if outcome is CallOutcome.ORDERED:
            if not visit.lines:
                raise UserError(
                    "An order needs at least one line.",
                    hint="Add the lines, or choose another outcome (no order, call back).",
                )
            if agent_id is None:
                raise UserError("Choose the agent the order is taken for.")
            draft = OrderDraft(
                store=store.id,
                agent_id=agent_id,
                lines=list(visit.lines),
                suggestions=list(visit.suggestions),
                notes=visit.notes,
                order_date=today,
            )
            order = submit_in_session(
                session,
                draft,
                identity=identity,
                accept_credit_warning=visit.accept_credit_warning,
                today=today,
                on_write=on_write,
            )
        reason_id = visit.reason_id if outcome is CallOutcome.NO_ORDER else None
        if reason_id is not None:
            check_reason(session, reason_id)
        call_id = add_call(
            session,
            store_id=store.id,
            agent_id=agent_id,
            outcome=outcome,
            notes=visit.notes,
            next_call_date=visit.next_call_date,
            order_id=order.order_id if order else None,
            reason_id=reason_id,
            today=today,
        )
        stock_rows = 0
        if visit.stock:
            stock_rows = add_stock(
                session,
                store_id=store.id,
                agent_id=agent_id,
                quantities=visit.stock,
                reported_on=today,
            )
        payment = None
        if visit.payment is not None:
            data = replace(visit.payment, store_id=store.id, agent_id=agent_id)
            payment = record_payment(session, identity, data, today=today)
        if visit.promise is not None:
            promise = replace(visit.promise, store_id=store.id, agent_id=agent_id)
            record_promise(session, identity, promise, today=today)
        return VisitResult(call_id, order, stock_rows, payment)
