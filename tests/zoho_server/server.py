"""A strict local stand-in for Zoho Accounts, Books v3 and CRM v8, written from ZOHO_API.md.

It runs a real HTTP server on 127.0.0.1 (``ThreadingHTTPServer``, HTTP/1.1 keep-alive) and
keeps state: organizations, OAuth clients, grant codes, refresh and access tokens, CRM
accounts, Books contacts, items, invoices and sales orders. It is strict where Zoho is
documented to be: the ``Zoho-oauthtoken`` header, ``organization_id`` on every Books call,
``page``/``per_page`` limits, CRM ``fields``/``page_token``/2,000-record rules, the 100
requests per minute per organization, 10 access tokens per 10 minutes per refresh token, and
the payload of a sales-order create. OAuth errors come back as HTTP 200 with ``error`` as
Zoho does. Faults can be queued: 401 (tokens expire), 429 with or without ``Retry-After``,
5xx, slow answers, a connection dropped before or after the request was processed.

Where ZOHO_API.md marks a code or status UNCONFIRMED (missing organization_id, unknown
customer on create), the answer here is a plausible Zoho-shaped guess, noted at the spot.
Time comes from an injectable ``clock`` (a callable returning seconds) so rate-limit tests can
run on simulated time shared with the client.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Json = dict[str, Any]


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next ``count`` matching requests.

    kind: ``401`` (all access tokens expire now), ``429``, ``500``, ``503``, ``slow``
    (answer after ``delay`` s), ``drop`` (close without answering, nothing done),
    ``drop_after`` (do the work, then close without answering) or ``late_commit`` (a create
    is accepted, the answer is lost after ``delay`` real seconds, and the record becomes
    visible to lists only ``commit_after`` seconds later on the server's clock: Zoho
    committing after the client gave up).
    """

    kind: str
    path: str = ""  # prefix of the URL path to match ("" = any API path)
    method: str | None = None
    count: int = 1
    retry_after: int | None = None
    delay: float = 0.0
    commit_after: float = 0.0
    skip: int = 0  # let this many matching requests through untouched first


@dataclass
class Logged:
    at: float
    method: str
    path: str
    org: str | None
    status: int  # 0 = connection dropped


@dataclass
class _Refresh:
    client_id: str
    minted: deque[float] = field(default_factory=deque)


# What a sales-order line may carry (Books' create-sales-order line item, ZOHO_API.md §2.3;
# ``discount`` as Books' invoice line has it): anything else is refused, as Books refuses an
# unknown field.
SALESORDER_LINE_FIELDS = frozenset({"item_id", "quantity", "rate", "description", "discount"})
_PCT = re.compile(r"^(\d{1,3}(?:\.\d+)?)%$")


def _line_discount_pct(value: object, gross: float) -> float | None:
    """A line ``discount`` as a percentage of the line: ``"12.5%"`` (0-100) or an amount in
    the currency (0 up to the line's gross); None when it is neither."""
    if isinstance(value, str):
        m = _PCT.match(value)
        if m is None or float(m.group(1)) > 100:
            return None
        return float(m.group(1))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value < 0 or value > gross:
        return None
    return 100 * value / gross if gross else 0.0


def _now_text(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _books_time(value: str) -> dt.datetime:
    """Books' documented filter format: ``yyyy-MM-ddTHH:mm:ss±hhmm``; anything else is 400."""
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


class ZohoServer:
    def __init__(
        self,
        *,
        clock: Any = None,
        org_id: str = "60012345678",
        client_id: str = "1000.TESTCLIENT",
        client_secret: str = "s3cret",
        per_minute: int = 100,
        token_ttl: int = 3600,
        latency: float = 0.0,
        rate_limit_retry_after: int | None = None,
    ) -> None:
        self.clock = clock or time.monotonic
        self.org_id = org_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.per_minute = per_minute
        self.token_ttl = token_ttl
        self.latency = latency
        self.rate_limit_retry_after = rate_limit_retry_after
        # Books answers a dead token with code 57 and usually HTTP 401; some live reports
        # say 400 (ZOHO_API.md §2.4), so the status is a switch.
        self.books_auth_status = 401
        # called when a token is minted: a test on simulated time makes minting take time
        self.on_mint: Any = None
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.grant_codes: dict[str, bool] = {}  # code -> used
        self.refresh_tokens: dict[str, _Refresh] = {}
        self.access_tokens: dict[str, float] = {}  # token -> expires at (clock)
        self.token_requests = 0
        self._minted = 0
        self.revoked: list[str] = []
        self.accounts: list[Json] = []
        self.contacts: list[Json] = []
        self.items: list[Json] = []
        self.invoices: list[Json] = []
        self.salesorders: list[Json] = []
        self.customerpayments: list[Json] = []
        # Books' payment modes are the organization's own list (Settings ▸ Payment modes);
        # these are the defaults the API examples use plus a custom "UPI" (docs/zoho.md).
        self.payment_modes: set[str] = {"cash", "check", "banktransfer", "UPI"}
        self._cp_number = 0
        self.page_tokens: dict[str, tuple[int, Json]] = {}
        # invoices still listed but gone when their detail is asked for (deleted meanwhile)
        self.deleted_after_listing: set[str] = set()
        self._org_window: dict[str, deque[float]] = {}
        self._seq = 460000000000000
        self._so_number = 0
        # sales order id -> server-clock time before which lists do not show it
        self.invisible_until: dict[str, float] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> ZohoServer:
        server = self

        class Handler(_Handler):
            zoho = server

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ZohoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # ---- test helpers --------------------------------------------------------------------

    def next_id(self) -> str:
        with self.lock:
            self._seq += 1
            return str(self._seq)

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def new_grant_code(self) -> str:
        code = f"1000.{secrets.token_hex(16)}"
        with self.lock:
            self.grant_codes[code] = False
        return code

    def new_refresh_token(self) -> str:
        token = f"1000.{secrets.token_hex(20)}"
        with self.lock:
            self.refresh_tokens[token] = _Refresh(self.client_id)
        return token

    def expire_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def add_account(self, name: str, modified: dt.datetime, **extra: Any) -> Json:
        rec = {"id": self.next_id(), "Account_Name": name, "Modified_Time": modified.isoformat()}
        rec.update(extra)
        with self.lock:
            self.accounts.append(rec)
        return rec

    def add_contact(self, name: str, crm_account_id: str | None = None, **extra: Any) -> Json:
        rec = {
            "contact_id": self.next_id(),
            "contact_name": name,
            "company_name": name,
            "contact_type": "customer",
            "status": "active",
            "last_modified_time": _now_text(dt.datetime.now(dt.UTC)),
        }
        if crm_account_id:
            rec["zcrm_account_id"] = crm_account_id
        rec.update(extra)
        with self.lock:
            self.contacts.append(rec)
        return rec

    def add_item(self, name: str, rate: str, sku: str | None = None, **extra: Any) -> Json:
        rec = {
            "item_id": self.next_id(),
            "name": name,
            "rate": float(rate),
            "status": "active",
            "unit": "pcs",
            "sku": sku,
            "product_type": "goods",
        }
        rec.update(extra)
        with self.lock:
            self.items.append(rec)
        return rec

    def add_invoice(
        self,
        number: str,
        customer: Json,
        date: dt.date,
        lines: list[tuple[Json, int, str]],
        modified: dt.datetime,
        status: str = "sent",
    ) -> Json:
        line_items = []
        total = 0.0
        for i, (item, qty, rate) in enumerate(lines, start=1):
            amount = round(qty * float(rate), 2)
            total += amount
            line_items.append(
                {
                    "line_item_id": self.next_id(),
                    "item_id": item["item_id"],
                    "name": item["name"],
                    "item_order": i,
                    "rate": float(rate),
                    "quantity": qty,
                    "unit": "pcs",
                    "discount": 0,
                    "item_total": amount,
                }
            )
        rec = {
            "invoice_id": self.next_id(),
            "invoice_number": number,
            "customer_id": customer["contact_id"],
            "customer_name": customer["contact_name"],
            "status": status,
            "date": date.isoformat(),
            "due_date": date.isoformat(),
            "sub_total": round(total, 2),
            "total": round(total, 2),
            "balance": round(total, 2),
            "reference_number": "",
            "created_time": _now_text(modified),
            "last_modified_time": _now_text(modified),
            "line_items": line_items,
        }
        with self.lock:
            self.invoices.append(rec)
        return rec

    def tokens_minted(self) -> int:
        """Access tokens minted so far, over every refresh token (grant exchanges included)."""
        with self.lock:
            return self._minted

    def delete_invoice(self, invoice_id: str) -> None:
        """Delete an invoice in "Books": gone from lists and details (code 1002 on a detail)."""
        with self.lock:
            self.invoices = [i for i in self.invoices if i["invoice_id"] != invoice_id]

    def by_reference(self) -> Counter[str]:
        with self.lock:
            return Counter(so["reference_number"] for so in self.salesorders)

    def payments_by_reference(self) -> Counter[str]:
        with self.lock:
            return Counter(p["reference_number"] for p in self.customerpayments)

    def api_log(self, prefix: str = "/books/") -> list[Logged]:
        with self.lock:
            return [e for e in self.log if e.path.startswith(prefix)]

    def max_per_minute(self, org: str | None = None) -> int:
        """The most Books requests of one organization in any 60-second window."""
        times = sorted(e.at for e in self.api_log() if e.org == (org or self.org_id))
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] <= t - 60.0:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    # ---- fault matching ------------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if path.startswith(f.path) and (f.method is None or f.method == method):
                    if f.skip > 0:
                        f.skip -= 1
                        return None
                    f.count -= 1
                    if f.count <= 0:
                        self.faults.remove(f)
                    return f
        return None


class _QuietServer(ThreadingHTTPServer):
    """Clients killed mid-request (the SIGKILL trials) reset connections; that is expected."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    zoho: ZohoServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    _suppress = False
    _status = 0
    _late: Fault | None = None
    _entry: Logged | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    # ---- plumbing ------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Json | None, headers: dict[str, str] | None = None) -> None:
        if self._suppress:  # drop_after: the work is done, the answer is lost
            self._status = 0
            return
        data = b"" if body is None else json.dumps(body).encode()
        if self._entry is not None:
            self._entry.status = status  # before the client can see the answer
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)
        self._status = status

    def _drop(self) -> None:
        self.close_connection = True
        self._status = 0

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        z = self.zoho
        parts = urlsplit(self.path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = self._body()
        self._status = 0
        self._suppress = False
        self._late: Fault | None = None
        # Zoho counts a request when it arrives: it is logged then (its status when answered),
        # so a slow or late-committing answer does not reorder or delay the log.
        entry = self._entry = Logged(z.clock(), method, path, query.get("organization_id"), 0)
        with z.lock:
            z.log.append(entry)
        try:
            if z.latency:
                time.sleep(z.latency)
            if path.startswith("/oauth/"):
                self._oauth(path, query, body)
                return
            fault = z.take_fault(method, path)
            if fault is not None:
                if fault.kind == "slow":
                    time.sleep(fault.delay)
                elif fault.kind == "401":
                    z.expire_tokens()
                elif fault.kind == "drop":
                    self._drop()
                    return
                elif fault.kind == "drop_after":
                    self._suppress = True
                elif fault.kind == "late_commit":
                    self._suppress = True
                    self._late = fault
                elif fault.kind in ("429", "500", "503"):
                    self._fault_reply(fault, path)
                    return
            if path.startswith("/books/v3"):
                self._books(method, path[len("/books/v3") :], query, body)
            elif path.startswith("/crm/v8"):
                self._crm(method, path[len("/crm/v8") :], query)
            else:
                self._send(
                    404,
                    {
                        "code": "INVALID_URL_PATTERN",
                        "details": {},
                        "message": "Please check if the URL trying to access is a correct one",
                        "status": "error",
                    },
                )
            if self._suppress:
                if fault is not None and fault.kind == "late_commit" and fault.delay:
                    time.sleep(fault.delay)  # the client times out meanwhile
                self._drop()
        finally:
            entry.status = self._status  # 0 if the connection was dropped

    def _fault_reply(self, fault: Fault, path: str) -> None:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.kind == "429":
            if path.startswith("/crm/"):
                body = {
                    "code": "TOO_MANY_REQUESTS",
                    "details": {},
                    "message": "too many requests. please try again after some time",
                    "status": "error",
                }
            else:  # body and code on a Books 429: UNCONFIRMED (ZOHO_API.md §2.4)
                body = {"code": 44, "message": "Rate Limit Exceeded"}
            self._send(429, body, headers)
        else:
            self._send(int(fault.kind), {"code": 1000, "message": "Internal Error"}, headers)

    # ---- OAuth ---------------------------------------------------------------------------

    def _oauth(self, path: str, query: dict[str, str], body: bytes) -> None:
        z = self.zoho
        form = dict(query)
        ctype = self.headers.get("Content-Type") or ""
        if body and "application/x-www-form-urlencoded" in ctype:
            form.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
        if path == "/oauth/v2/token/revoke":
            with z.lock:
                if z.refresh_tokens.pop(form.get("token", ""), None) is not None:
                    z.revoked.append(form["token"])
            self._send(200, {"status": "success"})
            return
        if path != "/oauth/v2/token":
            self._send(404, {"error": "invalid_request"})
            return
        with z.lock:
            z.token_requests += 1
            if form.get("client_id") != z.client_id:
                self._send(200, {"error": "invalid_client"})
                return
            if form.get("client_secret") != z.client_secret:
                self._send(200, {"error": "invalid_client_secret"})
                return
            grant = form.get("grant_type")
            if grant == "authorization_code":
                code = form.get("code", "")
                if z.grant_codes.get(code, True):  # unknown or used
                    self._send(200, {"error": "invalid_code"})
                    return
                z.grant_codes[code] = True
                refresh = f"1000.{secrets.token_hex(20)}"
                z.refresh_tokens[refresh] = _Refresh(z.client_id)
                reply = self._mint(refresh)
                reply["refresh_token"] = refresh
                self._send(200, reply)
            elif grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                rt = z.refresh_tokens.get(refresh)
                if rt is None:
                    self._send(200, {"error": "invalid_code"})
                    return
                now = z.clock()
                while rt.minted and rt.minted[0] <= now - 600:
                    rt.minted.popleft()
                if len(rt.minted) >= 10:  # 10 access tokens per 10 minutes per refresh token
                    self._send(
                        400,
                        {
                            "error_description": "You have made too many requests "
                            "continuously. Please try again after some time.",
                            "error": "Access Denied",
                            "status": "failure",
                        },
                    )
                    return
                self._send(200, self._mint(refresh))
            else:
                self._send(200, {"error": "unsupported_grant_type"})

    def _mint(self, refresh: str) -> Json:
        z = self.zoho
        if z.on_mint is not None:
            z.on_mint()
        token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        now = z.clock()
        z.access_tokens[token] = now + z.token_ttl
        z._minted += 1
        z.refresh_tokens[refresh].minted.append(now)
        return {
            "access_token": token,
            "api_domain": z.url,
            "token_type": "Bearer",
            "expires_in": z.token_ttl,
        }

    def _authorized(self) -> bool:
        z = self.zoho
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Zoho-oauthtoken "):
            return False
        token = header[len("Zoho-oauthtoken ") :]
        with z.lock:
            expires = z.access_tokens.get(token)
            return expires is not None and z.clock() < expires

    # ---- Books ---------------------------------------------------------------------------

    def _books_error(self, status: int, code: int, message: str) -> None:
        self._send(status, {"code": code, "message": message})

    def _books(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        z = self.zoho
        if not self._authorized():
            self._books_error(
                z.books_auth_status, 57, "You are not authorized to perform this operation"
            )
            return
        if path == "/organizations" and method == "GET":
            self._send(
                200,
                {
                    "code": 0,
                    "message": "success",
                    "organizations": [
                        {
                            "organization_id": z.org_id,
                            "name": "Mangalm Test Co",
                            "is_default_org": True,
                        }
                    ],
                },
            )
            return
        org = query.get("organization_id")
        if not org:  # code and status UNCONFIRMED (ZOHO_API.md §2.4); a plausible guess
            self._books_error(400, 2, "Invalid value passed for organization_id")
            return
        if org != z.org_id:
            self._books_error(400, 6041, "This user is not associated with the organization")
            return
        with z.lock:
            window = z._org_window.setdefault(org, deque())
            now = z.clock()
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= z.per_minute:
                headers = {}
                if z.rate_limit_retry_after is not None:
                    headers["Retry-After"] = str(z.rate_limit_retry_after)
                self._send(429, {"code": 44, "message": "Rate Limit Exceeded"}, headers)
                return
            window.append(now)
        if method == "GET" and path in (
            "/contacts",
            "/items",
            "/invoices",
            "/salesorders",
            "/customerpayments",
        ):
            self._books_list(path, query)
        elif method == "GET" and path.startswith("/invoices/"):
            inv_id = path.rsplit("/", 1)[1]
            with z.lock:
                inv = next((i for i in z.invoices if i["invoice_id"] == inv_id), None)
                if inv_id in z.deleted_after_listing:
                    inv = None
            if inv is None:
                self._books_error(404, 1002, "Invoice does not exist.")
            else:
                self._send(200, {"code": 0, "message": "success", "invoice": inv})
        elif method == "POST" and path == "/salesorders":
            self._create_salesorder(body)
        elif method == "POST" and path == "/customerpayments":
            self._create_customerpayment(body)
        else:
            self._books_error(405, 37, "The HTTP method is not allowed for the resource")

    def _paging(self, query: dict[str, str]) -> tuple[int, int] | None:
        try:
            page = int(query.get("page", "1"))
            per_page = int(query.get("per_page", "200"))
        except ValueError:
            self._books_error(400, 2, "Invalid value passed for page or per_page")
            return None
        if page < 1 or per_page < 1:
            self._books_error(400, 2, "Invalid value passed for page or per_page")
            return None
        return page, min(per_page, 200)  # 200 is the documented maximum

    def _books_list(self, path: str, query: dict[str, str]) -> None:
        z = self.zoho
        paging = self._paging(query)
        if paging is None:
            return
        page, per_page = paging
        with z.lock:
            key, rows = {
                "/contacts": ("contacts", z.contacts),
                "/items": ("items", z.items),
                "/invoices": ("invoices", z.invoices),
                "/salesorders": ("salesorders", z.salesorders),
                "/customerpayments": ("customerpayments", z.customerpayments),
            }[path]
            rows = list(rows)
        if path == "/contacts" and query.get("contact_type"):
            if query["contact_type"] not in ("customer", "vendor"):
                self._books_error(400, 2, "Invalid value passed for contact_type")
                return
            rows = [r for r in rows if r.get("contact_type") == query["contact_type"]]
        if path in ("/invoices", "/salesorders") and query.get("last_modified_time"):
            try:
                since = _books_time(query["last_modified_time"])
            except ValueError:
                self._books_error(400, 2, "Invalid value passed for last_modified_time")
                return
            rows = [r for r in rows if _books_time(r["last_modified_time"]) >= since]
        if path in ("/salesorders", "/customerpayments"):  # a create not yet committed is unseen
            now = z.clock()
            with z.lock:
                hidden = {k for k, until in z.invisible_until.items() if now < until}
            id_key = "salesorder_id" if path == "/salesorders" else "payment_id"
            rows = [r for r in rows if r[id_key] not in hidden]
        if path in ("/salesorders", "/customerpayments") and "reference_number" in query:
            rows = [r for r in rows if r.get("reference_number") == query["reference_number"]]
        start = (page - 1) * per_page
        chunk = rows[start : start + per_page]
        if path == "/invoices":
            chunk = [{k: v for k, v in r.items() if k != "line_items"} for r in chunk]
        if path == "/salesorders":
            chunk = [{k: v for k, v in r.items() if k != "line_items"} for r in chunk]
        if path == "/customerpayments":
            chunk = [{k: v for k, v in r.items() if k != "invoices"} for r in chunk]
        self._send(
            200,
            {
                "code": 0,
                "message": "success",
                key: chunk,
                "page_context": {
                    "page": page,
                    "per_page": per_page,
                    "has_more_page": start + per_page < len(rows),
                    "report_name": key.capitalize(),
                    "applied_filter": "Status.All",
                    "sort_column": query.get("sort_column", "created_time"),
                    "sort_order": query.get("sort_order", "D"),
                },
            },
        )

    def _create_salesorder(self, body: bytes) -> None:
        z = self.zoho
        ctype = self.headers.get("Content-Type") or ""
        try:
            if "application/json" in ctype:
                payload = json.loads(body or b"{}")
            else:  # the older JSONString form field
                payload = json.loads(parse_qs(body.decode()).get("JSONString", ["{}"])[-1])
        except ValueError:
            self._books_error(400, 4, "Invalid value passed for JSONString")
            return
        if not isinstance(payload, dict):
            self._books_error(400, 4, "Invalid value passed for JSONString")
            return
        with z.lock:
            customers = {c["contact_id"] for c in z.contacts}
            items = {i["item_id"]: i for i in z.items}
        customer = payload.get("customer_id")
        if not customer:
            self._books_error(400, 4, "customer_id is required")  # field check: code a guess
            return
        if customer not in customers:
            self._books_error(400, 1002, "Customer does not exist.")
            return
        lines = payload.get("line_items")
        if not isinstance(lines, list) or not lines:
            self._books_error(400, 4, "Line items cannot be empty")
            return
        out_lines = []
        for ln in lines:
            item = items.get(str(ln.get("item_id")))
            if item is None:
                self._books_error(400, 1002, "Item does not exist.")
                return
            qty, rate = ln.get("quantity"), ln.get("rate", item["rate"])
            if not isinstance(qty, int | float) or qty <= 0:
                self._books_error(400, 4, "Quantity should be greater than zero")
                return
            if not isinstance(rate, int | float) or rate < 0:
                self._books_error(400, 4, "Invalid value passed for rate")
                return
            pct = _line_discount_pct(ln.get("discount", 0), qty * rate)
            if pct is None:
                self._books_error(400, 4, "Invalid value passed for discount")
                return
            described = ln.get("description", "")
            if not isinstance(described, str) or len(described) > 2000:
                self._books_error(400, 4, "Invalid value passed for description")
                return
            unknown = set(ln) - SALESORDER_LINE_FIELDS
            if unknown:
                self._books_error(400, 4, f"Invalid line item field {sorted(unknown)[0]}")
                return
            gross = qty * rate
            out_lines.append(
                {
                    "line_item_id": z.next_id(),
                    "item_id": item["item_id"],
                    "name": item["name"],
                    "description": described,
                    "quantity": qty,
                    "rate": rate,
                    "discount": ln.get("discount", 0),
                    "discount_amount": round(gross * pct / 100, 2),
                    "item_total": round(gross - round(gross * pct / 100, 2), 2),
                }
            )
        stamp = _now_text(dt.datetime.now(dt.UTC))
        with z.lock:
            z._so_number += 1
            so = {
                "salesorder_id": z.next_id(),
                "salesorder_number": f"SO-{z._so_number:05d}",
                "status": "draft",
                "reference_number": payload.get("reference_number", ""),
                "customer_id": customer,
                "date": payload.get("date"),
                "shipment_date": payload.get("shipment_date"),
                "line_items": out_lines,
                "sub_total": sum(x["item_total"] for x in out_lines),
                "total": sum(x["item_total"] for x in out_lines),
                "created_time": stamp,
                "last_modified_time": stamp,
            }
            z.salesorders.append(so)
            if self._late is not None:
                z.invisible_until[so["salesorder_id"]] = z.clock() + self._late.commit_after
        self._send(201, {"code": 0, "message": "Sales Order has been created.", "salesorder": so})

    def _json_payload(self, body: bytes) -> Json | None:
        ctype = self.headers.get("Content-Type") or ""
        try:
            if "application/json" in ctype:
                payload = json.loads(body or b"{}")
            else:  # the older JSONString form field
                payload = json.loads(parse_qs(body.decode()).get("JSONString", ["{}"])[-1])
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            self._books_error(400, 4, "Invalid value passed for JSONString")
            return None
        return payload

    def _create_customerpayment(self, body: bytes) -> None:
        """``POST /customerpayments`` (ZOHO_API.md §2.3b): required customer_id, payment_mode,
        amount, date and invoices [{invoice_id, amount_applied}]; applied to the customer's
        own invoices, never more than an invoice's balance or, together, the amount. Codes
        and messages of the refusals are plausible guesses (unconfirmed), the checks are not."""
        z = self.zoho
        payload = self._json_payload(body)
        if payload is None:
            return
        for name in ("customer_id", "payment_mode", "amount", "date"):
            if payload.get(name) in (None, ""):
                self._books_error(400, 4, f"{name} is required")
                return
        with z.lock:
            customers = {c["contact_id"] for c in z.contacts}
            invoices = {i["invoice_id"]: i for i in z.invoices}
        customer = payload["customer_id"]
        if customer not in customers:
            self._books_error(400, 1002, "Customer does not exist.")
            return
        if payload["payment_mode"] not in z.payment_modes:
            self._books_error(400, 4, "Invalid value passed for payment_mode")
            return
        amount = payload["amount"]
        if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
            self._books_error(400, 4, "Invalid value passed for amount")
            return
        try:
            dt.date.fromisoformat(str(payload["date"]))
        except ValueError:
            self._books_error(400, 4, "Invalid value passed for date")
            return
        if len(str(payload.get("reference_number") or "")) > 100:
            self._books_error(400, 4, "Reference number cannot exceed 100 characters")
            return
        applied = payload.get("invoices") or []
        if not isinstance(applied, list):
            self._books_error(400, 4, "Invalid value passed for invoices")
            return
        total = 0.0
        out = []
        for row in applied:
            inv = invoices.get(str(row.get("invoice_id")))
            if inv is None:
                self._books_error(400, 1002, "Invoice does not exist.")
                return
            if inv["customer_id"] != customer:
                self._books_error(400, 4, "The invoice does not belong to this customer")
                return
            part = row.get("amount_applied")
            if not isinstance(part, int | float) or part <= 0:
                self._books_error(400, 4, "Invalid value passed for amount_applied")
                return
            if part > inv["balance"] + 1e-9:
                self._books_error(400, 4, "Amount applied exceeds the invoice balance")
                return
            total += part
            out.append({"invoice_id": inv["invoice_id"], "amount_applied": part})
        if total > amount + 1e-9:
            self._books_error(400, 4, "Amount applied exceeds the payment amount")
            return
        stamp = _now_text(dt.datetime.now(dt.UTC))
        with z.lock:
            for row in out:
                inv = invoices[row["invoice_id"]]
                inv["balance"] = round(inv["balance"] - row["amount_applied"], 2)
                inv["status"] = "paid" if inv["balance"] <= 0 else "partially_paid"
                inv["last_modified_time"] = stamp
            z._cp_number += 1
            rec = {
                "payment_id": z.next_id(),
                "payment_number": str(z._cp_number),
                "customer_id": customer,
                "payment_mode": payload["payment_mode"],
                "amount": amount,
                "unused_amount": round(amount - total, 2),
                "date": payload["date"],
                "reference_number": payload.get("reference_number", ""),
                "description": payload.get("description", ""),
                "invoices": out,
                "created_time": stamp,
                "last_modified_time": stamp,
            }
            z.customerpayments.append(rec)
            if self._late is not None:
                z.invisible_until[rec["payment_id"]] = z.clock() + self._late.commit_after
        self._send(201, {"code": 0, "message": "The payment has been created.", "payment": rec})

    # ---- CRM -----------------------------------------------------------------------------

    def _crm_error(self, status: int, code: str, message: str, details: Json | None = None) -> None:
        self._send(
            status, {"code": code, "details": details or {}, "message": message, "status": "error"}
        )

    def _crm(self, method: str, path: str, query: dict[str, str]) -> None:
        z = self.zoho
        if not self._authorized():
            self._crm_error(401, "INVALID_TOKEN", "invalid oauth token")
            return
        if method != "GET" or path != "/Accounts":
            self._crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
            return
        if not query.get("fields"):
            self._crm_error(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param_name": "fields"},
            )
            return
        fields = query["fields"].split(",")
        if len(fields) > 50:
            self._crm_error(400, "LIMIT_EXCEEDED", "fields limit exceeded", {"limit": 50})
            return
        if "page" in query and "page_token" in query:
            self._crm_error(
                400,
                "AMBIGUITY_DURING_PROCESSING",
                "page and page_token cannot be used together",
                {"ambiguity_due_to": ["page", "page_token"]},
            )
            return
        try:
            per_page = int(query.get("per_page", "200"))
            page = int(query.get("page", "1"))
        except ValueError:
            self._crm_error(400, "INVALID_DATA", "invalid data", {"param_name": "per_page"})
            return
        if not 1 <= per_page <= 200 or page < 1:
            self._crm_error(400, "INVALID_DATA", "invalid data", {"param_name": "per_page"})
            return
        sort_by = query.get("sort_by", "id")
        if sort_by not in ("id", "Created_Time", "Modified_Time"):
            self._crm_error(400, "INVALID_DATA", "invalid data", {"param_name": "sort_by"})
            return
        if "page_token" in query:
            with z.lock:
                entry = z.page_tokens.get(query["page_token"])
            if entry is None:
                self._crm_error(
                    400, "INVALID_DATA", "invalid page token", {"param_name": "page_token"}
                )
                return
            offset, ctx = entry
            since_text = ctx["since"]
        else:
            if page * per_page > 2000:
                self._crm_error(
                    400,
                    "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "You can only get the first 2000 records without using page_token param",
                    {"limit": 2000},
                )
                return
            offset = (page - 1) * per_page
            since_text = self.headers.get("If-Modified-Since")
        with z.lock:
            rows = list(z.accounts)
        if since_text:
            try:
                since = dt.datetime.fromisoformat(since_text)
            except ValueError:
                self._crm_error(
                    400,
                    "INVALID_DATA",
                    "invalid If-Modified-Since",
                    {"header_name": "If-Modified-Since"},
                )
                return
            rows = [r for r in rows if dt.datetime.fromisoformat(r["Modified_Time"]) > since]
            if not rows:
                self._send(304, None)
                return
        if not rows:
            self._send(204, None)
            return
        key = (lambda r: int(r["id"])) if sort_by == "id" else (lambda r: r[sort_by])
        rows.sort(key=key, reverse=query.get("sort_order", "desc") == "desc")
        chunk = rows[offset : offset + per_page]
        more = offset + per_page < len(rows)
        if offset + len(chunk) > 100_000:
            self._crm_error(
                400,
                "PAGINATION_LIMIT_EXCEEDED",
                "You can only get upto 100000 records using page_token param",
                {"param_name": "page_token"},
            )
            return
        next_token = None
        if more:
            next_token = secrets.token_hex(8)
            with z.lock:
                z.page_tokens[next_token] = (offset + per_page, {"since": since_text})
        data = [{"id": r["id"], **{f: r.get(f) for f in fields if f != "id"}} for r in chunk]
        self._send(
            200,
            {
                "data": data,
                "info": {
                    "per_page": per_page,
                    "count": len(data),
                    "page": page,
                    "more_records": more,
                    "sort_by": sort_by,
                    "sort_order": query.get("sort_order", "desc"),
                    "next_page_token": next_token,
                    "previous_page_token": None,
                    "page_token_expiry": None,
                    "call": False,
                    "email": False,
                },
            },
        )
