"""The Zoho HTTP client: auth header, rate limit, retries, pagination, timeouts.

Every request goes through :meth:`ZohoClient.call`, which
- waits for the rate limiter (per-minute window + daily budget),
- sends ``Authorization: Zoho-oauthtoken <token>`` and, for Books, ``organization_id``,
- on 401 (or Books' 400 with code 57) drops the token, refreshes it and sends the same request
  again (nothing is lost),
- on 429 waits ``Retry-After`` (or a configured pause when Zoho sends none) and retries,
- on 5xx, timeouts and dropped connections backs off exponentially with jitter (tenacity),
- raises :class:`ZohoRejected` with Zoho's message for any other 4xx or a non-zero Books code.

Creates are not idempotent at Zoho, so a create whose outcome is unknown (timeout after the
request went out, connection dropped, 5xx) is *not* resent here: :class:`ZohoUncertain` goes
back to the caller, which looks the record up by its reference first (see ``push.push_orders``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from .auth import TokenManager
from .clock import Clock
from .config import ZohoConfig
from .errors import ZohoAuthError, ZohoRejected, ZohoRetryable, ZohoUncertain
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)

Json = dict[str, Any]


@dataclass
class Reply:
    status: int
    body: Json | None  # None for 204 No Content / 304 Not Modified


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from Zoho; fall back to the configured pause


BOOKS_NOT_AUTHORIZED = 57  # "You are not authorized to perform this operation"


def _dead_token_400(api: str, resp: httpx.Response) -> bool:
    """Books reports a dead token as code 57, usually with HTTP 401 but by several live reports
    with 400 (ZOHO_API.md §2.4): both get one token refresh. A second 57 right after a fresh
    token means a missing scope, an auth error for a person."""
    if api != "books" or resp.status_code != 400:
        return False
    code, _ = _error_of(resp)
    return code == BOOKS_NOT_AUTHORIZED


def _error_of(resp: httpx.Response) -> tuple[object, str]:
    try:
        body = resp.json()
    except ValueError:
        return None, resp.text[:300] or resp.reason_phrase
    if isinstance(body, dict):
        return body.get("code"), str(body.get("message") or body.get("error") or body)
    return None, str(body)[:300]


class ZohoClient:
    def __init__(
        self,
        config: ZohoConfig,
        clock: Clock,
        *,
        http: httpx.Client | None = None,
        limiter: RateLimiter | None = None,
        tokens: TokenManager | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.http = http or httpx.Client(timeout=config.timeout_s)
        self.limiter = limiter or RateLimiter(clock, per_minute=config.per_minute)
        self.tokens = tokens or TokenManager(config, self.http, clock)
        self.on_request = on_request
        self.requests = 0
        self.retries = 0

    def close(self) -> None:
        self.http.close()

    # ---- one request, with retries -------------------------------------------------------

    def call(
        self,
        method: str,
        api: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Json | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Reply:
        """One logical request; ``api`` is ``books`` or ``crm``."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        cfg = self.config
        backoff = wait_exponential_jitter(multiplier=cfg.backoff_base_s, max=cfg.backoff_max_s)

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, ZohoRetryable) and exc.retry_after is not None:
                return exc.retry_after
            return backoff(state)

        def before_sleep(state: Any) -> None:
            self.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.info("zoho %s %s: %s; retrying", method, path, exc)

        retrying = Retrying(
            sleep=self.clock.sleep,
            wait=wait,
            stop=stop_after_attempt(cfg.max_attempts),
            retry=retry_if_exception_type(ZohoRetryable),
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(self._attempt, method, api, path, params, json, headers, idempotent)

    def _url(self, api: str, path: str) -> str:
        base = self.tokens.api_domain
        if api == "books":
            return f"{base}/books/v3{path}"
        return f"{base}/crm/{self.config.crm_version}{path}"

    def _attempt(
        self,
        method: str,
        api: str,
        path: str,
        params: dict[str, Any] | None,
        json: Json | None,
        headers: dict[str, str] | None,
        idempotent: bool,
    ) -> Reply:
        query = dict(params or {})
        if api == "books":
            query["organization_id"] = self.config.organization_id
        for auth_try in range(2):
            # The token first: a refresh may wait (Zoho throttles minting), and the rate-limit
            # slot must be stamped when the request really goes out.
            token = self.tokens.access_token()
            self.limiter.acquire()
            hdrs = {"Authorization": f"Zoho-oauthtoken {token}", **(headers or {})}
            self.requests += 1
            if self.on_request is not None:
                self.on_request()
            try:
                resp = self.http.request(
                    method,
                    self._url(api, path),
                    params=query,
                    json=json,
                    headers=hdrs,
                    timeout=self.config.timeout_s,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise ZohoRetryable(f"cannot connect: {type(exc).__name__}") from exc
            except httpx.TransportError as exc:
                if idempotent:
                    raise ZohoRetryable(f"network: {type(exc).__name__}") from exc
                raise ZohoUncertain(f"{method} {path}: {type(exc).__name__}") from exc
            status = resp.status_code
            if status == 401 or _dead_token_400(api, resp):
                self.tokens.invalidate(token)
                if auth_try == 0:
                    log.info("zoho said 401 (%s); refreshing the token", _error_of(resp)[1])
                    continue
                code, message = _error_of(resp)
                raise ZohoAuthError(
                    f"Zoho refused a fresh access token ({code}: {message}).",
                    hint="The token may lack a scope; generate a new grant code with the "
                    "scopes listed in docs/zoho.md and run `mangalm zoho auth`.",
                )
            return self._interpret(resp, method, path, idempotent)
        raise AssertionError("unreachable")

    def _interpret(self, resp: httpx.Response, method: str, path: str, idempotent: bool) -> Reply:
        status = resp.status_code
        if status == 429:
            wait = _retry_after(resp)
            raise ZohoRetryable(
                "429 rate limited",
                retry_after=wait if wait is not None else self.config.rate_limit_wait_s,
            )
        if status >= 500:
            if idempotent:
                raise ZohoRetryable(f"HTTP {status}")
            raise ZohoUncertain(f"{method} {path}: HTTP {status}")
        if status in (204, 304):
            return Reply(status, None)
        if status >= 400:
            code, message = _error_of(resp)
            raise ZohoRejected(status, code, message)
        try:
            body = resp.json()
        except ValueError as exc:
            if idempotent:
                raise ZohoRetryable(f"unparseable body (HTTP {status})") from exc
            raise ZohoUncertain(f"{method} {path}: unparseable body") from exc
        # Books: a non-zero integer code is an error even on HTTP 200.
        if isinstance(body, dict) and isinstance(body.get("code"), int) and body["code"] != 0:
            raise ZohoRejected(status, body["code"], str(body.get("message", "")))
        return Reply(status, body if isinstance(body, dict) else {"data": body})

    # ---- pagination ----------------------------------------------------------------------

    def books_pages(
        self, path: str, key: str, params: dict[str, Any] | None = None
    ) -> Iterator[list[Json]]:
        """Every page of a Books list, following ``page_context.has_more_page`` to the end."""
        page = 1
        while True:
            query = {**(params or {}), "page": page, "per_page": self.config.page_size}
            reply = self.call("GET", "books", path, params=query)
            body = reply.body or {}
            yield list(body.get(key) or [])
            ctx = body.get("page_context") or {}
            if not ctx.get("has_more_page"):
                return
            page += 1

    def crm_pages(
        self, module: str, fields: list[str], modified_since: str | None = None
    ) -> Iterator[list[Json]]:
        """Every page of CRM records: first page plain, then ``info.next_page_token`` (which,
        unlike ``page``, also goes past the 2,000-record limit of discrete pages)."""
        headers = {"If-Modified-Since": modified_since} if modified_since else None
        token: str | None = None
        while True:
            query: dict[str, Any] = {
                "fields": ",".join(fields),
                "per_page": min(self.config.page_size, 200),
                "sort_by": "Modified_Time",
                "sort_order": "asc",
            }
            if token:
                query["page_token"] = token
            reply = self.call("GET", "crm", f"/{module}", params=query, headers=headers)
            if reply.body is None:  # 204 nothing / 304 not modified
                return
            yield list(reply.body.get("data") or [])
            info = reply.body.get("info") or {}
            token = info.get("next_page_token")
            if not info.get("more_records") or not token:
                return
