"""The signed-in identity and its permissions, as the services import them.

Defined in :mod:`..domain.identity` (so ``db`` queries can check them too); re-exported here,
where the rest of the security package (sign-in, audit, keys) lives.
"""

from __future__ import annotations

from ..domain.identity import (
    GRANTS,
    Identity,
    Permission,
    PermissionDenied,
    require,
    require_store_access,
)

__all__ = [
    "GRANTS",
    "Identity",
    "Permission",
    "PermissionDenied",
    "require",
    "require_store_access",
]
