"""Secrets live only in the OS keyring (Windows Credential Locker, macOS Keychain, Secret Service).

One service name for the whole app; each secret has a stable key such as ``db:<profile>`` or
``zoho:refresh_token``. Callers never write a secret anywhere else. When no keyring backend is
available (a headless Linux box without Secret Service) the error says so in words, and the
caller decides: the CLI asks for the secret each time rather than storing it in a file.
"""

from __future__ import annotations

import keyring
import keyring.errors

from ..domain.errors import UserError

SERVICE = "mangalm-sales-desktop"


class KeyringUnavailable(UserError):
    """No usable OS keyring: secrets cannot be stored on this machine."""


def _unavailable(exc: Exception) -> KeyringUnavailable:
    return KeyringUnavailable(
        f"The system keyring is not available ({type(exc).__name__}).",
        hint="Secrets are never written to files. Install/unlock the OS keyring "
        "(Secret Service on Linux) or enter the secret when asked.",
    )


def set_secret(key: str, value: str) -> None:
    try:
        keyring.set_password(SERVICE, key, value)
    except keyring.errors.KeyringError as exc:
        raise _unavailable(exc) from exc


def get_secret(key: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, key)
    except keyring.errors.KeyringError as exc:
        raise _unavailable(exc) from exc


def delete_secret(key: str) -> None:
    try:
        keyring.delete_password(SERVICE, key)
    except keyring.errors.PasswordDeleteError:
        return
    except keyring.errors.KeyringError as exc:
        raise _unavailable(exc) from exc
