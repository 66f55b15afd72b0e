"""One bridge run under a PostgreSQL advisory lock, plus status and parked-record handling.

Only one process may talk to Zoho for the company at a time (two would double the request
rate and race on the push), so a run first takes a session-level advisory lock on a dedicated
connection to the central database. ``pg_try_advisory_lock`` does not wait: a second bridge
reports :class:`BridgeBusy` at once. If the holder dies, even by SIGKILL, PostgreSQL ends its
session and the lock goes with it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, CursorResult, Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from ..db.engine import session_scope
from ..db.models import Invoice, Order, Payment, Product, Store
from ..db.types import utcnow
from ..domain.enums import OrderState, PaymentStatus
from ..domain.errors import Cancelled, UserError
from ..domain.tasks import NULL_TASK, TaskContext
from . import jobs as J
from . import state
from .central_limits import CentralLimits
from .client import ZohoClient
from .clock import Clock, SystemClock
from .config import ZohoConfig
from .errors import BridgeBusy, BudgetExhausted, ZohoAuthError, ZohoError
from .payments_push import payment_counts, push_payments
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)

LOCK_KEY = 0x5A4F484F  # "ZOHO"
JOBS: dict[str, Callable[..., J.JobResult]] = {
    "accounts": J.pull_accounts,
    "contacts": J.pull_contacts,
    "items": J.pull_items,
    "invoices": J.pull_invoices,
    "orders": J.push_orders,
    "payments": push_payments,
}
ALL_JOBS: tuple[str, ...] = tuple(JOBS)


@dataclass
class RunReport:
    started_at: str
    finished_at: str = ""
    results: list[J.JobResult] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    token_refreshes: int = 0
    rate_wait_s: float = 0.0
    stopped: str | None = None  # why the run stopped early (budget, auth, cancel)

    @property
    def failed(self) -> bool:
        """A job ended with an error (its partial counts are in ``results``)."""
        return any(r.error for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "requests": self.requests,
            "retries": self.retries,
            "token_refreshes": self.token_refreshes,
            "rate_wait_s": round(self.rate_wait_s, 1),
            "stopped": self.stopped,
            "jobs": [r.as_dict() for r in self.results],
        }


class BridgeLock:
    """The advisory lock, held on its own connection for the length of a run."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise UserError("The Zoho bridge runs against the central PostgreSQL database.")
        self.engine = engine
        self.conn: Connection | None = None

    def __enter__(self) -> BridgeLock:
        conn = self.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        conn.commit()
        if not got:
            conn.close()
            raise BridgeBusy(
                "Another Zoho bridge is running against this central database.",
                hint="Only one may run at a time; this one did nothing. Try again later.",
            )
        self.conn = conn
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self.conn.commit()
            finally:
                self.conn.close()


def make_client(config: ZohoConfig, clock: Clock | None = None, **kwargs: Any) -> ZohoClient:
    """A client for ``config`` on ``clock`` (real time by default). Its rate limiter counts in
    the central database while a run holds it (:func:`run_once`), so runs in other processes
    share one window and one daily count."""
    clock = clock or SystemClock()
    limiter = RateLimiter(clock, per_minute=config.per_minute, daily_budget=config.daily_budget)
    return ZohoClient(config, clock, limiter=limiter, **kwargs)


def _permission_error(exc: DBAPIError) -> UserError | None:
    """A clear message for a login that lacks the bridge's grants (no traceback)."""
    if not isinstance(getattr(exc, "orig", None), psycopg.errors.InsufficientPrivilege):
        return None
    detail = str(exc.orig).splitlines()[0]
    return UserError(
        f"The central database login cannot do what the Zoho bridge needs ({detail}).",
        hint="Create the bridge's own login with `mangalm central add-bridge` (docs/admin.md) "
        "and run the bridge with it (--central, $MANGALM_CENTRAL_URL or `mangalm zoho "
        "central`).",
    )


def run_once(
    engine: Engine,
    client: ZohoClient,
    jobs: Sequence[str] = ALL_JOBS,
    ctx: TaskContext = NULL_TASK,
    *,
    today: dt.date | None = None,
) -> RunReport:
    """Run the chosen jobs in order under the lock; record the run; return the report.

    A failing pull does not stop the push (and vice versa); an auth failure, an exhausted
    budget or a cancel stops the run, and what was done so far stays committed.
    """
    unknown = [j for j in jobs if j not in JOBS]
    if unknown:
        raise UserError(f"Unknown Zoho job(s): {', '.join(unknown)}; known: {', '.join(JOBS)}")
    client.config.validate()
    try:
        return _run_locked(engine, client, jobs, ctx, today)
    except DBAPIError as exc:
        problem = _permission_error(exc)
        if problem is None:
            raise
        raise problem from exc


def _run_locked(
    engine: Engine,
    client: ZohoClient,
    jobs: Sequence[str],
    ctx: TaskContext,
    today: dt.date | None,
) -> RunReport:
    report = RunReport(started_at=utcnow().isoformat(timespec="seconds"))
    with BridgeLock(engine):
        with session_scope(engine) as s:  # fails early, in words, on a login without grants
            state.budget_used(s, today or utcnow().date())
        limiter = client.limiter
        limits = CentralLimits(engine, today)
        previous_store, limiter.store = limiter.store, limits
        start_requests, start_retries = client.requests, client.retries
        start_refreshes, start_wait = client.tokens.refreshes, limiter.waited_s
        try:
            for name in jobs:
                before = client.requests
                # The job fills ``result`` as it goes, so a failure keeps its partial counts.
                result = J.JobResult(name)
                try:
                    JOBS[name](engine, client, ctx, res=result)
                except (BudgetExhausted, ZohoAuthError, Cancelled) as exc:
                    result.error = str(exc)
                    report.stopped = type(exc).__name__
                except (ZohoError, UserError) as exc:
                    log.warning("zoho job %s failed: %s", name, exc)
                    result.error = str(exc)
                except DBAPIError as exc:  # one job's database trouble must not stop the push
                    problem = _permission_error(exc)
                    result.error = (
                        problem.message
                        if problem
                        else f"central database: {str(exc.orig or exc).splitlines()[0]}"
                    )
                    log.warning("zoho job %s failed: %s", name, result.error)
                result.requests = client.requests - before
                report.results.append(result)
                if report.stopped:
                    break
        finally:
            limiter.store = previous_store
            limits.close()
            report.requests = client.requests - start_requests
            report.retries = client.retries - start_retries
            report.token_refreshes = client.tokens.refreshes - start_refreshes
            report.rate_wait_s = limiter.waited_s - start_wait
            report.finished_at = utcnow().isoformat(timespec="seconds")
            with session_scope(engine) as s:
                state.add_run(s, report.as_dict())
    return report


# ---- status and parked records (the manager's panel and `mangalm zoho status`) ------------


@dataclass(frozen=True)
class ParkedOrder:
    order_id: str
    number: str
    store: str
    error: str


@dataclass
class BridgeStatus:
    runs: list[dict[str, Any]]
    budget_used_today: int
    cursors: dict[str, str]
    counts: dict[str, int]
    parked: list[ParkedOrder]
    # Requests the first invoice pull still needs, estimated (None once it has finished, or
    # when nothing tells how many invoices Zoho has). See :func:`first_pull_needs`.
    first_pull_needs: int | None = None


PAGE = 200


def first_pull_needs(s: Any) -> int | None:
    """An estimate of the requests a first pull needs, while it has not finished.

    Books' invoice list has no line items, so a first pull costs one request per invoice plus
    one per 200 list entries (ZOHO_API.md §2.2). Before the first pull the number of invoices
    in Zoho is unknown; the invoices already here (a CSV-imported history, adopted by number)
    are the best guide, and each of them still needs its detail request once.
    """
    if state.get_cursor(s, "invoices") is not None:
        return None
    pending = (
        s.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.zoho_modified_at.is_(None))
        )
        or 0
    )
    if not pending:
        return None
    stores = s.scalar(select(func.count()).select_from(Store)) or 0
    products = s.scalar(select(func.count()).select_from(Product)) or 0
    pages = sum(-(-n // PAGE) for n in (pending, stores, stores, products))
    return int(pending + pages)


def budget_warning(needs: int, daily_budget: int) -> str:
    days = -(-needs // max(daily_budget, 1))
    return (
        f"The daily budget ({daily_budget:,} requests) is below what the first pull needs "
        f"(about {needs:,}: one request per invoice). It will take about {days} days; raise "
        "daily_budget to your Zoho plan's figure (`mangalm zoho auth --set daily_budget=N`) "
        "or import the history by CSV first (docs/zoho.md)."
    )


def status(engine: Engine, *, today: dt.date | None = None) -> BridgeStatus:
    try:
        return _status(engine, today or utcnow().date())
    except DBAPIError as exc:
        problem = _permission_error(exc)
        if problem is None:
            raise
        raise problem from exc


def _status(engine: Engine, today: dt.date) -> BridgeStatus:
    with session_scope(engine) as s:
        synced = Order.state == OrderState.SYNCED.value
        counts = {
            "stores_linked": s.scalar(
                select(func.count()).where(Store.zoho_customer_id.is_not(None))
            )
            or 0,
            "products_linked": s.scalar(
                select(func.count()).where(Product.zoho_item_id.is_not(None))
            )
            or 0,
            "invoices_from_zoho": s.scalar(
                select(func.count()).where(Invoice.zoho_invoice_id.is_not(None))
            )
            or 0,
            "orders_waiting": s.scalar(
                select(func.count()).where(synced, Order.zoho_error.is_(None))
            )
            or 0,
            "orders_sent": s.scalar(
                select(func.count()).where(Order.state == OrderState.SENT_TO_ZOHO.value)
            )
            or 0,
            "orders_parked": s.scalar(
                select(func.count()).where(synced, Order.zoho_error.is_not(None))
            )
            or 0,
            "orders_maybe_created": len(state.maybe_created(s)),
            **payment_counts(s),
        }
        parked = [
            ParkedOrder(str(o.id), o.number, name, o.zoho_error or "")
            for o, name in s.execute(
                select(Order, Store.name)
                .join(Store, Store.id == Order.store_id)
                .where(synced, Order.zoho_error.is_not(None))
                .order_by(Order.number)
                .limit(500)
            ).all()
        ]
        cursors = {
            job: c.isoformat()
            for job in ("accounts", "contacts", "invoices")
            if (c := state.get_cursor(s, job)) is not None
        }
        return BridgeStatus(
            runs=state.runs(s),
            budget_used_today=state.budget_used(s, today),
            cursors=cursors,
            counts=counts,
            parked=parked,
            first_pull_needs=first_pull_needs(s),
        )


def retry_parked(engine: Engine, order_numbers: Sequence[str] | None = None) -> int:
    """Clear Zoho's message on parked orders and payments (all, or the given order and receipt
    numbers) so the next run pushes them again. Returns how many were released."""
    try:
        return _retry_parked(engine, order_numbers)
    except DBAPIError as exc:
        problem = _permission_error(exc)
        if problem is None:
            raise
        raise problem from exc


def _retry_parked(engine: Engine, order_numbers: Sequence[str] | None) -> int:
    with session_scope(engine) as s:
        stmt = update(Order).where(
            Order.state == OrderState.SYNCED.value, Order.zoho_error.is_not(None)
        )
        if order_numbers:
            stmt = stmt.where(Order.number.in_(list(order_numbers)))
        result = cast(
            "CursorResult[Any]", s.execute(stmt.values(zoho_error=None, version=Order.version + 1))
        )
        payments = update(Payment).where(
            Payment.status == PaymentStatus.APPROVED.value,
            Payment.zoho_payment_id.is_(None),
            Payment.zoho_error.is_not(None),
        )
        if order_numbers:
            payments = payments.where(Payment.number.in_(list(order_numbers)))
        released = cast(
            "CursorResult[Any]",
            s.execute(payments.values(zoho_error=None, version=Payment.version + 1)),
        )
        return int(result.rowcount or 0) + int(released.rowcount or 0)
