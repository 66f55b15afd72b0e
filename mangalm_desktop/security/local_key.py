"""The key that encrypts the laptop's database, created once and kept in the OS keyring."""

from __future__ import annotations

import secrets as pysecrets

from .secrets import get_secret, set_secret

KEY_NAME = "local-db-key"


def get_or_create_db_key() -> str:
    """Return the 256-bit database key as hex, creating it on first use."""
    key = get_secret(KEY_NAME)
    if key is None:
        key = pysecrets.token_hex(32)
        set_secret(KEY_NAME, key)
    return key
