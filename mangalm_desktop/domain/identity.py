"""Who may do what, enforced in the service layer (buttons are only hidden as a courtesy).

Here in ``domain`` (pure, below ``db``) so that every layer can check an identity: the store
queries of ``db`` as much as the services. ``security.roles`` re-exports these names.

Agents work on their own stores and orders; managers see everything, run reports and the Zoho
bridge; admins also manage connections, users and settings. Central PostgreSQL Row-Level
Security enforces the same rules again on the server, so a modified client gains nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from .enums import Role
from .errors import UserError


class Permission(StrEnum):
    VIEW_OWN_STORES = "view_own_stores"
    VIEW_ALL_STORES = "view_all_stores"
    TAKE_ORDERS = "take_orders"
    EDIT_STORE_PROFILE = "edit_store_profile"
    RUN_REPORTS = "run_reports"
    MANAGE_SCHEMES = "manage_schemes"
    EXPORT_DATA = "export_data"
    IMPORT_DATA = "import_data"
    RUN_ZOHO = "run_zoho"
    VIEW_AUDIT = "view_audit"
    MANAGE_BEATS = "manage_beats"
    MANAGE_CONNECTIONS = "manage_connections"
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_REASONS = "manage_reasons"  # the no-order reasons list (visits)
    COLLECT_PAYMENTS = "collect_payments"
    APPROVE_PAYMENTS = "approve_payments"


_AGENT = {
    Permission.VIEW_OWN_STORES,
    Permission.TAKE_ORDERS,
    Permission.EDIT_STORE_PROFILE,
    Permission.COLLECT_PAYMENTS,
}
_MANAGER = _AGENT | {
    Permission.APPROVE_PAYMENTS,
    Permission.VIEW_ALL_STORES,
    Permission.RUN_REPORTS,
    Permission.MANAGE_SCHEMES,
    Permission.EXPORT_DATA,
    Permission.IMPORT_DATA,
    Permission.RUN_ZOHO,
    Permission.VIEW_AUDIT,
    Permission.MANAGE_REASONS,
    Permission.MANAGE_BEATS,
}
_ADMIN = _MANAGER | {
    Permission.MANAGE_CONNECTIONS,
    Permission.MANAGE_USERS,
    Permission.MANAGE_SETTINGS,
}
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_AGENT),
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(_ADMIN),
}


class PermissionDenied(UserError):
    """The signed-in user's role does not allow the action."""


@dataclass(frozen=True)
class Identity:
    """The signed-in user as the services see it."""

    username: str
    role: Role
    agent_id: uuid.UUID | None = None
    agent_code: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                f"{self.username} ({self.role.value}) may not {permission.value.replace('_', ' ')}.",
                hint="Ask a manager or an administrator.",
            )

    def require_store_access(self, store_agent_id: uuid.UUID | None) -> None:
        """Agents may act only on stores assigned to them; managers and admins on any."""
        if self.can(Permission.VIEW_ALL_STORES):
            return
        if store_agent_id is None or store_agent_id != self.agent_id:
            raise PermissionDenied(
                f"{self.username} is not the agent of this store.",
                hint="Stores are changed by their assigned agent or a manager.",
            )


def require(identity: Identity | None, permission: Permission) -> None:
    """Refuse ``permission`` to ``identity``; ``None`` means nobody signed in on a standalone
    laptop (no central server, so no accounts): unrestricted, protected by the OS login and the
    encrypted database instead (docs/security.md)."""
    if identity is not None:
        identity.require(permission)


def require_store_access(identity: Identity | None, store_agent_id: uuid.UUID | None) -> None:
    """Refuse a store that is not ``identity``'s (``None``: standalone, unrestricted)."""
    if identity is not None:
        identity.require_store_access(store_agent_id)


NOBODY = uuid.UUID(int=0)
"""The agent id no store has: an agent identity without its agent row sees no store."""


def store_scope(identity: Identity | None) -> uuid.UUID | None:
    """Whose stores ``identity`` may read: None = every store (a manager, an admin, or nobody
    signed in on a standalone laptop), else the agent's own id (:data:`NOBODY` if unknown)."""
    if identity is None or identity.can(Permission.VIEW_ALL_STORES):
        return None
    return identity.agent_id or NOBODY
