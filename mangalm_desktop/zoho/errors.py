"""What can go wrong talking to Zoho, split by what the caller should do about it."""

from __future__ import annotations

from ..domain.errors import UserError


class ZohoError(Exception):
    """Base class of the bridge's HTTP-level errors."""


class ZohoAuthError(UserError):
    """OAuth failed (bad/revoked refresh token, wrong client or data centre): a person must act."""


class ZohoNotConfigured(UserError):
    """No Zoho settings or no refresh token yet: run ``mangalm zoho auth``."""


class BudgetExhausted(UserError):
    """Today's request budget is used up; the run stops cleanly and resumes tomorrow."""


class BridgeBusy(UserError):
    """Another bridge process holds the advisory lock on the central database."""


class ZohoRejected(ZohoError):
    """Zoho refused the request itself (a 4xx other than auth/rate limit): fix the data."""

    def __init__(self, status: int, code: object, message: str) -> None:
        super().__init__(f"HTTP {status}, code {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ZohoRetryable(ZohoError):
    """A failure that may pass: 429, 5xx, timeout, dropped connection."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ZohoUncertain(ZohoError):
    """A non-idempotent request (create) whose outcome is unknown: it may or may not have
    happened. The caller must look the record up before trying again, never just resend."""
