"""The store-access check of every read or write that concerns one store.

The queries in this package and the services above take the signed-in
:class:`~..domain.identity.Identity` as a required argument (None only on a standalone laptop,
see :func:`~..domain.identity.require`) and call :func:`require_store` with the store's id
before they read or change anything of it: an agent gets only their own stores, managers and
admins any. The check reads the store's agent on the caller's own connection or session, so a
write checks inside its own transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ..domain.identity import Identity, Permission, require, require_store_access
from .models import Invoice, Store


def require_store(db: Connection | Session, identity: Identity | None, store_id: uuid.UUID) -> None:
    """Refuse ``identity`` the store ``store_id`` unless it is theirs (agents) or they see all.

    An unknown store passes (the caller says "not found" in its own words)."""
    require(identity, Permission.VIEW_OWN_STORES)
    if identity is None or identity.can(Permission.VIEW_ALL_STORES):
        return
    row = db.execute(select(Store.agent_id).where(Store.id == store_id)).first()
    if row is not None:
        require_store_access(identity, row[0])


def require_invoice(
    db: Connection | Session, identity: Identity | None, invoice_id: uuid.UUID
) -> None:
    """:func:`require_store` for the store an invoice belongs to."""
    require(identity, Permission.VIEW_OWN_STORES)
    if identity is None or identity.can(Permission.VIEW_ALL_STORES):
        return
    store_id = db.execute(select(Invoice.store_id).where(Invoice.id == invoice_id)).scalar()
    if store_id is not None:
        require_store(db, identity, store_id)
