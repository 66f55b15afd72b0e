"""Who may write which order, checked by the orders service itself (issue 23 finding 1).

Why here and not in a face: the CLI and the GUI are two faces over the same services, and a
check that lives in one face (it lived in ``cli/orders_cmd.py``, and ``save_draft`` and
``duplicate`` skipped it) is a check the other face, a script or a future face can miss. Every
order write takes the signed-in :class:`~..security.roles.Identity` and calls
:func:`authorise_order` inside the write's own transaction, so a refusal leaves no order, no
number and no outbox op. ``None`` means a standalone laptop with nobody signed in (no central
server, so no accounts): unrestricted, as docs/security.md says.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from ..db.models import Order, Store
from ..domain.enums import Role
from ..security import audit
from ..security.roles import Identity, Permission, PermissionDenied
from . import numbering


def authorise_order(
    session: Session,
    identity: Identity | None,
    *,
    store_id: uuid.UUID | None,
    agent_id: uuid.UUID | None,
) -> None:
    """Refuse unless ``identity`` may take orders for ``store_id`` in ``agent_id``'s name.

    An agent: only for its own stores and only in its own name (an order "by A08" typed on
    A07's laptop is refused); managers and admins: any store, any agent.
    """
    if identity is None:
        return
    identity.require(Permission.TAKE_ORDERS)
    store = session.get(Store, store_id) if store_id is not None else None
    identity.require_store_access(store.agent_id if store is not None else None)
    if identity.role is Role.AGENT and agent_id != identity.agent_id:
        raise PermissionDenied(
            f"{identity.username} may take orders only in their own name.",
            hint="Sign in as that agent, or ask a manager.",
        )


def order_audit(actor: str) -> Callable[[Session, str, Order], None]:
    """The audit entry for a submit/amend/cancel, written in the order's own transaction."""

    def write(session: Session, action: str, order: Order) -> None:
        audit.record(
            session,
            actor=actor,
            action=action,
            agent_id=order.agent_id,
            entity="orders",
            entity_id=str(order.id),
            details={
                "number": order.number,
                "state": order.state,
                "total": order.total,
                "version": order.version,
            },
            device_id=numbering.device_code(session),
        )

    return write
