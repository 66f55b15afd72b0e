"""OAuth 2.0 refresh-token flow against the data centre's Zoho Accounts server.

Zoho answers most OAuth failures with HTTP 200 and an ``error`` field (ZOHO_API.md §1.3), so
success is decided by the presence of ``access_token``, never by the status code. Access
tokens live an hour; one refresh token may mint only 10 per 10 minutes, so the token is cached
and refreshed only when it is about to expire or Zoho said 401. Every token response may carry
a new ``api_domain`` (the account's data centre), which the client follows as the SDK does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass

import httpx

from ..security.secrets import delete_secret, get_secret, set_secret
from .clock import Clock
from .config import SECRET_ACCESS, SECRET_CLIENT, SECRET_REFRESH, ZohoConfig
from .errors import ZohoAuthError, ZohoNotConfigured, ZohoRetryable

log = logging.getLogger(__name__)

EARLY_REFRESH_S = 60.0  # refresh a minute before expiry; the SDK uses 5 s
THROTTLED_WAIT_S = 60.0

_AUTH_HINTS = {
    "invalid_code": "The grant code or refresh token is invalid, used, expired or revoked. "
    "Generate a new grant code (Self Client) and run `mangalm zoho auth` again.",
    "invalid_client": "Zoho does not know this client id in this data centre. Check the "
    "client id and the data centre (--dc).",
    "invalid_client_secret": "The client secret is wrong. Copy it again from the API console.",
}


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_in: float
    api_domain: str | None
    refresh_token: str | None = None


def _token_url(config: ZohoConfig) -> str:
    return f"{config.accounts}/oauth/v2/token"


def request_token(http: httpx.Client, config: ZohoConfig, form: dict[str, str]) -> TokenResponse:
    """POST the form to the token endpoint and interpret Zoho's answer."""
    try:
        resp = http.post(_token_url(config), data=form, timeout=config.timeout_s)
    except httpx.TransportError as exc:
        raise ZohoRetryable(f"token endpoint unreachable: {type(exc).__name__}") from exc
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.status_code >= 500:
        raise ZohoRetryable(f"token endpoint HTTP {resp.status_code}")
    if not isinstance(body, dict) or "access_token" not in body:
        error = str(body.get("error", f"HTTP {resp.status_code}")) if isinstance(body, dict) else ""
        desc = body.get("error_description", "") if isinstance(body, dict) else ""
        if error == "Access Denied" or "too many requests" in str(desc).lower():
            raise ZohoRetryable(f"token endpoint throttled: {desc}", retry_after=THROTTLED_WAIT_S)
        raise ZohoAuthError(
            f"Zoho refused the token request: {error}",
            hint=_AUTH_HINTS.get(error, "Check the client id, secret and data centre."),
        )
    # Older responses gave expires_in in ms plus expires_in_sec (ZOHO_API.md §1.2).
    expires = body.get("expires_in_sec", body.get("expires_in"))
    return TokenResponse(
        access_token=str(body["access_token"]),
        expires_in=3600.0 if expires is None else float(expires),
        api_domain=body.get("api_domain"),
        refresh_token=body.get("refresh_token"),
    )


def _fingerprint(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]


class TokenManager:
    """Hands out a valid access token; refreshes it on expiry or when told it went bad.

    Zoho lets one refresh token mint only 10 access tokens per 10 minutes (ZOHO_API.md §1.4),
    and every ``--once``, "Run now" and restart is a new process. So the access token, with
    its expiry (wall-clock seconds) and API domain, is kept in the OS keyring
    (``zoho:access_token``) for its lifetime and every process on the machine uses it until
    it is near expiry or Zoho rejects it. It is tied to the refresh token it came from (a hash,
    not the token), so a new ``zoho auth`` never reuses an old access token.
    """

    def __init__(self, config: ZohoConfig, http: httpx.Client, clock: Clock) -> None:
        self.config = config
        self.http = http
        self.clock = clock
        self.api_domain = config.default_api_domain
        self.refreshes = 0
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def _secrets(self) -> tuple[str, str]:
        secret = get_secret(SECRET_CLIENT)
        refresh = get_secret(SECRET_REFRESH)
        if not secret or not refresh:
            raise ZohoNotConfigured(
                "Zoho is not connected on this machine (no refresh token in the keyring).",
                hint="Run `mangalm zoho auth` with a Self Client grant code.",
            )
        return secret, refresh

    def access_token(self) -> str:
        with self._lock:
            stale = self._token is None or self.clock.now() >= self._expires_at - EARLY_REFRESH_S
            if stale and not self._adopt_cached():
                self._refresh_locked()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Zoho rejected ``token`` (401): forget it, here and in the keyring, unless it was
        already replaced."""
        with self._lock:
            if self._token == token:
                self._token = None
            cached = self._cached()
            if cached is not None and cached.get("token") == token:
                delete_secret(SECRET_ACCESS)

    def _cached(self) -> dict[str, object] | None:
        raw = get_secret(SECRET_ACCESS)
        if not raw:
            return None
        try:
            cached = json.loads(raw)
        except ValueError:
            return None
        return cached if isinstance(cached, dict) else None

    def _adopt_cached(self) -> bool:
        """Use the token another run stored, if it is for this client and refresh token and not
        near expiry."""
        cached = self._cached()
        refresh = get_secret(SECRET_REFRESH)
        if cached is None or not refresh:
            return False
        try:
            expires_at = float(cached["expires_at"])  # type: ignore[arg-type]
            token = str(cached["token"])
        except (KeyError, TypeError, ValueError):
            return False
        if (
            cached.get("client_id") != self.config.client_id
            or cached.get("refresh") != _fingerprint(refresh)
            or self.clock.now() >= expires_at - EARLY_REFRESH_S
        ):
            return False
        self._token, self._expires_at = token, expires_at
        domain = cached.get("api_domain")
        if isinstance(domain, str) and domain and not self.config.api_domain:
            self.api_domain = domain
        return True

    def _refresh_locked(self) -> None:
        secret, refresh = self._secrets()
        tok = request_token(
            self.http,
            self.config,
            {
                "grant_type": "refresh_token",
                "client_id": self.config.client_id,
                "client_secret": secret,
                "refresh_token": refresh,
            },
        )
        self.refreshes += 1
        self._token = tok.access_token
        self._expires_at = self.clock.now() + tok.expires_in
        if tok.api_domain and not self.config.api_domain:
            self.api_domain = tok.api_domain.rstrip("/")
        cache = {
            "token": tok.access_token,
            "expires_at": self._expires_at,
            "api_domain": tok.api_domain.rstrip("/") if tok.api_domain else None,
            "client_id": self.config.client_id,
            "refresh": _fingerprint(refresh),
        }
        set_secret(SECRET_ACCESS, json.dumps(cache))
        log.info("zoho access token refreshed (expires in %.0f s)", tok.expires_in)


def exchange_grant_code(
    http: httpx.Client, config: ZohoConfig, client_secret: str, code: str
) -> TokenResponse:
    """Self-client flow: trade the one-use grant code for a refresh token and keep it.

    The installation keeps one refresh token: an older one is revoked at Zoho first (so this
    install never eats into the user's 20-token allowance), then replaced in the keyring.
    """
    config.validate()
    tok = request_token(
        http,
        config,
        {
            "grant_type": "authorization_code",
            "client_id": config.client_id,
            "client_secret": client_secret,
            "code": code.strip(),
        },
    )
    if not tok.refresh_token:
        raise ZohoAuthError(
            "Zoho returned no refresh token for this grant code.",
            hint="Generate a new code in the API console (Self Client) and try again.",
        )
    old = get_secret(SECRET_REFRESH)
    if old and old != tok.refresh_token:
        revoke(http, config, old)
    set_secret(SECRET_CLIENT, client_secret)
    set_secret(SECRET_REFRESH, tok.refresh_token)
    delete_secret(SECRET_ACCESS)
    return tok


def revoke(http: httpx.Client, config: ZohoConfig, refresh_token: str) -> bool:
    """Revoke a refresh token at Zoho (best effort: a failure is logged, not raised)."""
    try:
        resp = http.post(
            f"{config.accounts}/oauth/v2/token/revoke",
            data={"token": refresh_token},
            timeout=config.timeout_s,
        )
        return resp.status_code == 200
    except httpx.TransportError as exc:
        log.warning("could not revoke the old Zoho refresh token: %s", type(exc).__name__)
        return False


def disconnect(http: httpx.Client, config: ZohoConfig) -> None:
    """Revoke and forget this installation's refresh token."""
    old = get_secret(SECRET_REFRESH)
    if old:
        revoke(http, config, old)
    delete_secret(SECRET_REFRESH)
    delete_secret(SECRET_ACCESS)
