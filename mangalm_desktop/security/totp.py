"""Optional TOTP second factor for managers and admins (RFC 6238, any authenticator app).

The shared secret lives in the OS keyring. Enrolment shows a QR code of the provisioning URI;
verification accepts the current code and one step either side for clock drift.
"""

from __future__ import annotations

import io

import pyotp
import qrcode

from ..domain.errors import UserError
from .secrets import delete_secret, get_secret, set_secret

ISSUER = "Mangalm Sales"


def _key(username: str) -> str:
    return f"totp:{username.lower()}"


def enrol(username: str) -> tuple[str, bytes]:
    """Create and store a new secret; return its provisioning URI and a PNG QR code of it."""
    secret = pyotp.random_base32()
    set_secret(_key(username), secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    buf = io.BytesIO()
    qrcode.make(uri).save(buf)
    return uri, buf.getvalue()


def is_enrolled(username: str) -> bool:
    return get_secret(_key(username)) is not None


def verify(username: str, code: str, *, for_time: float | None = None) -> None:
    secret = get_secret(_key(username))
    if secret is None:
        raise UserError(f"{username} has no second factor set up.")
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        raise UserError("Enter the 6-digit code from your authenticator app.")
    totp = pyotp.TOTP(secret)
    ok = (
        totp.verify(code, valid_window=1)
        if for_time is None
        else totp.verify(code, for_time=for_time, valid_window=1)
    )
    if not ok:
        raise UserError("That code is not valid. Check your phone's clock and try again.")


def remove(username: str) -> None:
    delete_secret(_key(username))
