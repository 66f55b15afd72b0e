"""Order life cycle: save draft, submit, amend, cancel, duplicate (docs/orders.md "States").

Each function is one SQLite transaction (``session_scope``): the order, its lines, its number,
its suggestion feedback and its ONE ``upsert_order`` outbox record are committed together or
not at all, so a crash can never leave half an order or an order the sync would not push.

Versions: the central trigger gives a new order version 1 and bumps it on each update, and
pushes apply in outbox order, so locally ``order.version`` is kept equal to the version the
central row will have once every pending op is applied. A new submission is sent with
``base_version=None``; each later change is sent against the current ``version`` and bumps it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from ..db import outbox
from ..db.access import require_store
from ..db.engine import session_scope
from ..db.models import Agent, Order, OrderLine, Prediction, SuggestionFeedback, new_id
from ..db.types import utcnow
from ..domain.enums import OrderKind, OrderState
from ..domain.errors import UserError
from ..security.roles import Identity
from .access import authorise_order
from .errors import CreditLimitExceeded, OrderInvalid, OrderStateError
from .model import Checked, LineInput, OrderDraft, OrderResult, PricedLine, Suggestion
from .numbering import allocate
from .validation import validate

OnWrite = Callable[[Session, str, Order], None]
"""Called inside the write's transaction with ("order_submit" | "order_amend" | "order_cancel",
the order). The CLI and GUI pass :func:`.access.order_audit`, so the audit entry commits or
rolls back with the order.

Every write takes ``identity`` (required, keyword-only): the signed-in person, checked by
:func:`.access.authorise_order` in the write's transaction; ``None`` only on a standalone laptop
with nobody signed in (docs/security.md)."""

AMENDABLE = frozenset({OrderState.SUBMITTED.value, OrderState.SYNCED.value})
SERVER_AUTHORITATIVE = frozenset({OrderState.SENT_TO_ZOHO.value, OrderState.INVOICED.value})


def _agent(session: Session, agent_id: uuid.UUID) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or agent.deleted:
        raise UserError(
            "The signed-in user is not a known agent, so orders cannot be numbered.",
            hint="Sync once online so the agent list arrives, or sign in as an agent.",
        )
    return agent


def _get_order(session: Session, order_id: uuid.UUID) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.deleted:
        raise UserError(f"Order {order_id} was not found.")
    return order


def _checked(
    session: Session,
    draft: OrderDraft,
    *,
    order_id: uuid.UUID | None,
    today: dt.date | None,
    accept_credit_warning: bool,
) -> Checked:
    checked = validate(session, draft, today=today, order_id=order_id)
    if checked.errors:
        raise OrderInvalid(checked.errors)
    if checked.warnings and not accept_credit_warning:
        raise CreditLimitExceeded(checked.warnings[0])
    return checked


def _fill_header(order: Order, draft: OrderDraft, checked: Checked, today: dt.date | None) -> None:
    order.store_id = checked.store_id  # type: ignore[assignment]
    order.order_date = draft.order_date or order.order_date or today or dt.date.today()
    order.requested_delivery_date = draft.requested_delivery_date
    order.notes = (draft.notes or "").strip() or None
    order.discount_pct = Decimal(str(draft.discount_pct or 0))
    order.subtotal = checked.subtotal
    order.discount_total = checked.discount_total
    order.total = checked.total


def _new_line(order: Order, line_no: int, pl: PricedLine) -> OrderLine:
    return OrderLine(
        id=new_id(),
        order_id=order.id,
        line_no=line_no,
        store_id=order.store_id,
        product_id=pl.product_id,
        quantity=pl.quantity,
        unit_price=pl.unit_price,
        discount_pct=pl.discount_pct,
        line_total=pl.total,
        suggested_qty=pl.suggested_qty,
        **_scheme_fields(pl),
    )


def _scheme_fields(pl: PricedLine) -> dict[str, Any]:
    """The scheme columns of an order line (docs/orders.md "Schemes")."""
    return {
        "scheme_id": pl.scheme_id,
        "scheme_pct": pl.scheme_pct,
        "scheme_value": pl.scheme_value,
        "free_goods": pl.free_goods,
        "scheme_reason": pl.scheme_reason,
        "scheme_split": pl.scheme_split,
    }


def _replace_draft_lines(
    session: Session, order: Order, checked: Checked, *, new: bool
) -> list[dict[str, Any]]:
    """Drafts were never pushed: their lines are simply rewritten, numbered 1..n.

    Written with one Core ``executemany`` (no ORM instances: they are never read back in this
    transaction); the returned rows are also the outbox payload's lines.
    """
    if not new:
        session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "version": 1,
            "deleted": False,
            "updated_at": now,
            "order_id": order.id,
            "line_no": n,
            "store_id": order.store_id,
            "product_id": pl.product_id,
            "quantity": pl.quantity,
            "unit_price": pl.unit_price,
            "discount_pct": pl.discount_pct,
            "line_total": pl.total,
            "suggested_qty": pl.suggested_qty,
            **_scheme_fields(pl),
        }
        for n, pl in enumerate(checked.lines, start=1)
    ]
    if rows:
        session.flush()  # the order row first (foreign key)
        session.execute(insert(OrderLine), rows)
    return rows


def _amend_lines(session: Session, order: Order, checked: Checked) -> list[OrderLine]:
    """Pushed orders keep line ids and numbers; removed lines become tombstones.

    A line number is never reused within an order: the central upsert writes new lines before
    it tombstones removed ones, so reusing a number would break its (order_id, line_no) key.
    """
    existing = list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    # A product may be on the order twice: bought, and given free by a scheme.
    live = {(x.product_id, bool(x.free_goods)): x for x in existing if not x.deleted}
    next_no = max((x.line_no for x in existing), default=0) + 1
    kept: list[OrderLine] = []
    for pl in checked.lines:
        row = live.pop((pl.product_id, pl.free_goods), None)
        if row is None:
            row = _new_line(order, next_no, pl)
            next_no += 1
            session.add(row)
        else:
            row.quantity = pl.quantity
            row.unit_price = pl.unit_price
            row.discount_pct = pl.discount_pct
            row.line_total = pl.total
            for name, value in _scheme_fields(pl).items():
                setattr(row, name, value)
        kept.append(row)
    for gone in live.values():
        gone.deleted = True
    return kept


def _enqueue_order(
    session: Session,
    order: Order,
    lines: list[OrderLine] | list[dict[str, Any]],
    base_version: int | None,
) -> None:
    session.flush()
    rows = [x if isinstance(x, dict) else outbox.row_payload(x) for x in lines]
    outbox.enqueue(
        session,
        table_name="orders",
        row_id=order.id,
        op=outbox.OP_UPSERT_ORDER,
        base_version=base_version,
        payload={
            "order": outbox.row_payload(order),
            "lines": sorted(rows, key=lambda r: r["line_no"]),
        },
    )


def _live_lines(session: Session, order_id: uuid.UUID) -> list[OrderLine]:
    stmt = (
        select(OrderLine)
        .where(OrderLine.order_id == order_id, OrderLine.deleted.is_(False))
        .order_by(OrderLine.line_no)
    )
    return list(session.scalars(stmt))


def _feedback(session: Session, order: Order, draft: OrderDraft, checked: Checked) -> None:
    """Suggested vs ordered per suggested product, including suggestions the agent deleted."""
    suggestions = list(draft.suggestions)
    if not suggestions:
        suggestions = [
            Suggestion(x.product_id, x.suggested_qty, x.prediction_id)
            for x in checked.lines
            if x.suggested_qty is not None
        ]
    # what the store ordered, not what a scheme gave it free
    ordered = {x.product_id: x.quantity for x in checked.lines if not x.free_goods}
    # The row carries its suggestion's model and time: predictions stay on this laptop.
    pids = {s.prediction_id for s in suggestions if s.prediction_id is not None}
    made = {}
    if pids:
        stmt = select(Prediction.id, Prediction.model, Prediction.generated_at)
        made = {r.id: r for r in session.execute(stmt.where(Prediction.id.in_(pids)))}
    for s in suggestions:
        pred = made.get(s.prediction_id)
        row = SuggestionFeedback(
            id=new_id(),
            order_id=order.id,
            store_id=order.store_id,
            product_id=s.product_id,
            prediction_id=s.prediction_id,
            model=pred.model if pred else None,
            generated_at=pred.generated_at if pred else None,
            suggested_qty=s.quantity,
            ordered_qty=ordered.get(s.product_id, 0),
        )
        session.add(row)
        outbox.enqueue_row(session, row)


def _result(order: Order, checked: Checked | None = None) -> OrderResult:
    return OrderResult(
        order_id=order.id,
        number=order.number,
        state=order.state,
        version=order.version,
        total=order.total,
        warnings=list(checked.warnings) if checked else [],
        notices=list(checked.notices) if checked else [],
    )


def _store_draft(
    session: Session,
    draft: OrderDraft,
    order_id: uuid.UUID | None,
    checked: Checked,
    today: dt.date | None,
) -> tuple[Order, list[dict[str, Any]]]:
    if order_id is not None:
        order = _get_order(session, order_id)
        if order.state != OrderState.DRAFT.value:
            raise OrderStateError(
                f"Order {order.number} is {order.state}, not a draft.",
                hint="Use amend to change a submitted order.",
            )
        order.kind = OrderKind(draft.kind).value
    else:
        agent = _agent(session, draft.agent_id)
        order = Order(
            id=new_id(),
            number=allocate(session, agent.code),
            kind=OrderKind(draft.kind).value,
            state=OrderState.DRAFT.value,
            agent_id=agent.id,
            created_at=utcnow(),
        )
        session.add(order)
    _fill_header(order, draft, checked, today)
    lines = _replace_draft_lines(session, order, checked, new=order_id is None)
    return order, lines


def _authorise_draft(
    session: Session,
    identity: Identity | None,
    draft: OrderDraft,
    checked: Checked,
    order_id: uuid.UUID | None,
) -> None:
    """The person may write this draft: its store and agent, and the draft it overwrites."""
    if order_id is not None:
        existing = _get_order(session, order_id)
        authorise_order(session, identity, store_id=existing.store_id, agent_id=existing.agent_id)
    authorise_order(session, identity, store_id=checked.store_id, agent_id=draft.agent_id)


def save_draft(
    engine: Engine,
    draft: OrderDraft,
    *,
    identity: Identity | None,
    order_id: uuid.UUID | None = None,
    today: dt.date | None = None,
) -> OrderResult:
    """Create or overwrite a local draft (never pushed). Credit warnings do not block a draft."""
    with session_scope(engine) as session:
        checked = _checked(
            session, draft, order_id=order_id, today=today, accept_credit_warning=True
        )
        _authorise_draft(session, identity, draft, checked, order_id)
        order, _ = _store_draft(session, draft, order_id, checked, today)
        session.flush()
        return _result(order, checked)


def submit(
    engine: Engine,
    draft: OrderDraft,
    *,
    identity: Identity | None,
    order_id: uuid.UUID | None = None,
    accept_credit_warning: bool = False,
    today: dt.date | None = None,
    on_write: OnWrite | None = None,
) -> OrderResult:
    """Store ``draft`` as a submitted order with its lines and ONE outbox op, atomically.

    ``order_id`` submits an existing draft (its number is kept); otherwise a new number is
    allocated in this same transaction.
    """
    with session_scope(engine) as session:
        return submit_in_session(
            session,
            draft,
            identity=identity,
            order_id=order_id,
            accept_credit_warning=accept_credit_warning,
            today=today,
            on_write=on_write,
        )


def submit_in_session(
    session: Session,
    draft: OrderDraft,
    *,
    identity: Identity | None,
    order_id: uuid.UUID | None = None,
    accept_credit_warning: bool = False,
    today: dt.date | None = None,
    on_write: OnWrite | None = None,
) -> OrderResult:
    """:func:`submit` inside the caller's open session (no commit of its own).

    The call screen (``visits.service.save_visit``) stores the order together with the call's
    outcome, shelf stock and payment in ONE transaction; a refusal here raises before anything
    is flushed, and the caller's rollback takes the rest with it.
    """
    checked = _checked(
        session,
        draft,
        order_id=order_id,
        today=today,
        accept_credit_warning=accept_credit_warning,
    )
    _authorise_draft(session, identity, draft, checked, order_id)
    order, lines = _store_draft(session, draft, order_id, checked, today)
    order.state = OrderState.SUBMITTED.value
    order.submitted_at = utcnow()
    order.version = 1  # what the central insert will give it
    # The order's op first: the server applies ops in queue order and the feedback rows
    # reference the order.
    _enqueue_order(session, order, lines, base_version=None)
    _feedback(session, order, draft, checked)
    if on_write is not None:
        on_write(session, "order_submit", order)
    return _result(order, checked)


def draft_from_order(
    session: Session, order_id: uuid.UUID, *, identity: Identity | None
) -> OrderDraft:
    """The stored order as an editable draft (same store, lines, discounts, notes); an agent
    gets only their own stores' orders."""
    order = _get_order(session, order_id)
    require_store(session, identity, order.store_id)
    return OrderDraft(
        store=order.store_id,
        agent_id=order.agent_id,
        kind=OrderKind(order.kind),
        discount_pct=order.discount_pct,
        notes=order.notes,
        requested_delivery_date=order.requested_delivery_date,
        order_date=order.order_date,
        # The agent's own discount only, and no free-goods lines: pricing adds the schemes
        # again (as they stand on the day of the edit).
        lines=[
            LineInput(
                x.product_id,
                x.quantity if order.kind == "order" else abs(x.quantity),
                x.discount_pct - (x.scheme_pct or 0),
                x.suggested_qty,
            )
            for x in _live_lines(session, order.id)
            if not x.free_goods
        ],
    )


def submit_saved(
    engine: Engine,
    order_id: uuid.UUID,
    *,
    identity: Identity | None,
    accept_credit_warning: bool = False,
    today: dt.date | None = None,
    on_write: OnWrite | None = None,
) -> OrderResult:
    """Submit a saved draft as it is (re-validated: a product may have been withdrawn)."""
    with session_scope(engine) as session:
        draft = draft_from_order(session, order_id, identity=identity)
    return submit(
        engine,
        draft,
        identity=identity,
        order_id=order_id,
        accept_credit_warning=accept_credit_warning,
        today=today,
        on_write=on_write,
    )


def _refuse_server_owned(order: Order, action: str) -> None:
    if order.state in SERVER_AUTHORITATIVE:
        ref = (
            f" (Zoho sales order {order.zoho_salesorder_number})"
            if order.zoho_salesorder_number
            else ""
        )
        raise OrderStateError(
            f"Order {order.number} is already {order.state.replace('_', ' ')}{ref}; it can no "
            f"longer be {action} from this app.",
            hint="Ask the office to change or cancel the sales order in Zoho Books.",
        )
    if order.state == OrderState.CANCELLED.value:
        raise OrderStateError(f"Order {order.number} is cancelled; it cannot be {action}.")


def amend(
    engine: Engine,
    order_id: uuid.UUID,
    draft: OrderDraft,
    *,
    identity: Identity | None,
    accept_credit_warning: bool = False,
    today: dt.date | None = None,
    on_write: OnWrite | None = None,
) -> OrderResult:
    """Change a submitted or synced order: one new outbox op against its current version."""
    with session_scope(engine) as session:
        order = _get_order(session, order_id)
        authorise_order(session, identity, store_id=order.store_id, agent_id=order.agent_id)
        if order.state == OrderState.DRAFT.value:
            raise OrderStateError(
                f"Order {order.number} is a draft; save or submit it instead of amending."
            )
        _refuse_server_owned(order, "amended")
        draft.kind = OrderKind(order.kind)
        checked = _checked(
            session,
            draft,
            order_id=order_id,
            today=today,
            accept_credit_warning=accept_credit_warning,
        )
        if checked.store_id != order.store_id:
            raise OrderStateError(
                f"The store of order {order.number} cannot be changed.",
                hint="Cancel it and take a new order for the other store.",
            )
        draft.order_date = order.order_date
        _fill_header(order, draft, checked, today)
        lines = _amend_lines(session, order, checked)
        base = order.version
        order.version = base + 1
        order.state = OrderState.SUBMITTED.value  # has unsent changes again
        _enqueue_order(session, order, lines, base_version=base)
        if on_write is not None:
            on_write(session, "order_amend", order)
        return _result(order, checked)


def cancel(
    engine: Engine,
    order_id: uuid.UUID,
    *,
    identity: Identity | None,
    reason: str | None = None,
    on_write: OnWrite | None = None,
) -> OrderResult:
    """Discard a draft, or cancel a submitted/synced order (one outbox op)."""
    with session_scope(engine) as session:
        order = _get_order(session, order_id)
        authorise_order(session, identity, store_id=order.store_id, agent_id=order.agent_id)
        if order.state == OrderState.DRAFT.value:
            # Drafts never left the laptop: delete them. The number is not reused, because
            # number_sequence keeps counting.
            session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
            session.delete(order)
            return OrderResult(order.id, order.number, "discarded", order.version, order.total)
        _refuse_server_owned(order, "cancelled")
        order.state = OrderState.CANCELLED.value
        order.cancelled_at = utcnow()
        if reason and reason.strip():
            order.notes = f"{order.notes}\n" if order.notes else ""
            order.notes += f"Cancelled: {reason.strip()}"
        base = order.version
        order.version = base + 1
        _enqueue_order(session, order, _live_lines(session, order.id), base_version=base)
        if on_write is not None:
            on_write(session, "order_cancel", order)
        return _result(order)


def duplicate(
    engine: Engine,
    order_id: uuid.UUID,
    *,
    agent_id: uuid.UUID,
    identity: Identity | None,
    today: dt.date | None = None,
) -> OrderResult:
    """A new draft with the same store, lines and discounts, priced at today's prices.

    The person must be allowed the source order (reading another agent's order through a
    duplicate is refused) and the new draft (checked again by :func:`save_draft`)."""
    with session_scope(engine) as session:
        source = _get_order(session, order_id)
        authorise_order(session, identity, store_id=source.store_id, agent_id=agent_id)
        draft = draft_from_order(session, order_id, identity=identity)
    draft.agent_id = agent_id
    draft.order_date = today
    draft.requested_delivery_date = None
    for line in draft.lines:
        line.suggested_qty = None
    return save_draft(engine, draft, identity=identity, today=today)


def order_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Order)) or 0
