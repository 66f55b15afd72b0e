"""Audit log: who did what, written locally in the same transaction and pushed centrally.

Recorded: sign-ins (success and failure), order submit/cancel/amend, exports, settings and
connection changes. Centrally, Row-Level Security lets agents insert their own entries but never
update or delete any, and lets managers read all.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from ..db import outbox
from ..db.models import Agent, AuditLog
from .roles import Identity

SIGN_IN_OK = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
ORDER_SUBMIT = "order_submit"
ORDER_CANCEL = "order_cancel"
ORDER_AMEND = "order_amend"
EXPORT = "export"
SETTINGS_CHANGE = "settings_change"
CONNECTION_CHANGE = "connection_change"


def local_agent_id(session: Session, identity: Identity | None) -> uuid.UUID | None:
    """The agent id to link an entry to, only if that row exists here (before the first pull it
    does not, and the foreign key would refuse the entry); None for nobody signed in."""
    if identity is None or identity.agent_id is None:
        return None
    return identity.agent_id if session.get(Agent, identity.agent_id) is not None else None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    agent_id: uuid.UUID | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    details: dict[str, Any] | None = None,
    device_id: str | None = None,
) -> AuditLog:
    """Add an audit entry and its outbox op to ``session`` (the caller's transaction)."""
    entry = AuditLog(
        actor=actor,
        action=action,
        agent_id=agent_id,
        entity=entity,
        entity_id=entity_id,
        details=json.dumps(details, sort_keys=True, default=str) if details else None,
        device_id=device_id,
    )
    session.add(entry)
    outbox.enqueue_row(session, entry)
    return entry
