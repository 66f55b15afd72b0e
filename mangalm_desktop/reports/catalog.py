"""The list of reports: name → function, title, column formats, chart and drill-down.

The CLI, the exporters and the GUI all work from this one table, so a report added here shows
up everywhere with the same column labels, number formats and chart.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import pandas as pd
from sqlalchemy import Engine

from ..domain.date_window import window_text
from ..domain.errors import UserError
from ..domain.formatting import Kind
from ..security.roles import Identity, Permission, require
from . import accuracy, agents, beats, collections, sales, schemes, stores
from .filters import ReportFilters, implausible_lines, validate

log = logging.getLogger(__name__)

ColumnKind = Kind

_MONEY = {
    "sales",
    "prev_sales",
    "last_year_sales",
    "current_sales",
    "previous_sales",
    "change",
    "order_value",
    "drop_size",
    "invoiced",
    "credit_limit",
    "not_due",
    "d0_30",
    "d31_60",
    "d61_90",
    "d90_plus",
    "total",
    "collected",
    "approved",
    "pending",
    "rejected",
    "amount",
    "discount_given",
    "free_goods_value",
    "cost",
}
_PCT = {
    "growth_prev",
    "growth_last_year",
    "growth",
    "share",
    "strike_rate",
    "coverage",
    "suggestion_acceptance",
    "quantity_match",
    "wape",
    "bias",
    "cost_share",
}
_DATE = {"period_start", "last_purchase", "received_on", "day"}
_FLOAT = {"forecast", "abs_error", "lines_per_call"}
_INT = {
    "quantity",
    "invoices",
    "lines",
    "rank",
    "cadence_days",
    "days_since",
    "allowed_days",
    "days_overdue",
    "assigned_stores",
    "scheduled_calls",
    "calls_made",
    "unscheduled_calls",
    "productive_calls",
    "orders",
    "stores_covered",
    "suggested_lines",
    "predictions",
    "actual",
    "oldest_days",
    "payments",
    "days_waiting",
    "free_quantity",
    "scheduled",
    "visited",
    "visited_on_plan",
    "off_plan",
    "productive",
}
_BOOL = {"over_limit"}

LABELS: dict[str, str] = {
    "period_start": "Period start",
    "sales": "Sales",
    "prev_sales": "Previous period",
    "growth_prev": "Growth vs prev.",
    "last_year_sales": "Same period last year",
    "growth_last_year": "Growth vs last year",
    "store_code": "Store code",
    "sku": "SKU",
    "agent_code": "Agent code",
    "current_sales": "Current sales",
    "previous_sales": "Previous sales",
    "cadence_days": "Cadence (days)",
    "last_purchase": "Last purchase",
    "days_since": "Days since",
    "allowed_days": "Allowed (days)",
    "days_overdue": "Days overdue",
    "assigned_stores": "Assigned stores",
    "scheduled_calls": "Scheduled calls",
    "calls_made": "Calls made",
    "unscheduled_calls": "Unscheduled calls",
    "productive_calls": "Productive calls",
    "strike_rate": "Strike rate",
    "order_value": "Order value",
    "drop_size": "Drop size",
    "lines_per_call": "Lines / productive call",
    "stores_covered": "Stores covered",
    "suggested_lines": "Suggested lines",
    "suggestion_acceptance": "Suggestion acceptance",
    "quantity_match": "Quantity match",
    "credit_limit": "Credit limit",
    "not_due": "Not yet due",
    "d0_30": "0–30 days",
    "d31_60": "31–60 days",
    "d61_90": "61–90 days",
    "d90_plus": "90+ days",
    "oldest_days": "Most overdue (days)",
    "over_limit": "Over limit",
    "received_on": "Received on",
    "collected": "Collected",
    "approved": "Approved",
    "pending": "Awaiting approval",
    "rejected": "Rejected",
    "days_waiting": "Days waiting",
    "abs_error": "Abs. error",
    "wape": "WAPE",
    "bias": "Bias",
    "scheme_code": "Scheme code",
    "free_quantity": "Free quantity",
    "discount_given": "Discount given",
    "free_goods_value": "Free goods value",
    "cost_share": "Cost / order value",
    "agent_day": "Agent, day",
    "day": "Day",
    "visited_on_plan": "Visited on plan",
    "off_plan": "Off plan",
    "productive": "Productive",
}


def column_kind(name: str) -> ColumnKind:
    if name in _MONEY:
        return "money"
    if name in _PCT:
        return "pct"
    if name in _DATE:
        return "date"
    if name in _FLOAT:
        return "float"
    if name in _INT:
        return "int"
    if name in _BOOL:
        return "bool"
    return "text"


def column_label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


@dataclass(frozen=True)
class ChartSpec:
    """What to plot: one label column on x and one or more numeric series."""

    x: str
    y: tuple[str, ...]
    kind: Literal["bar", "line"] = "bar"
    max_points: int = 20
    stacked: bool = False


@dataclass(frozen=True)
class Drill:
    """Double-clicking a row opens ``report`` with filter ``field`` set to the row's ``column``."""

    report: str
    field: str
    column: str


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str
    run: Callable[..., pd.DataFrame]
    chart: ChartSpec | None = None
    drill: Drill | None = None
    uses: tuple[str, ...] = ("dates", "region", "agent", "store", "brand", "category", "product")
    description: str = ""
    as_of_only: bool = False  # the end date is an "as of" date; a start date means nothing
    empty_reason: str = "No invoice in these dates matches the filters."
    """Shown instead of an empty table: why this report can have no rows."""


@dataclass
class ReportResult:
    """A computed report, ready to show or export."""

    spec: ReportSpec
    filters: ReportFilters
    frame: pd.DataFrame
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().astimezone())
    ignored_lines: int = 0
    """Invoice lines left out for a date outside the plausible window (domain.date_window)."""

    @property
    def note(self) -> str:
        """A line saying what was left out and why, or "" when nothing was."""
        if not self.ignored_lines:
            return ""
        return (
            f"{self.ignored_lines:,} invoice lines dated outside {window_text()} were left out "
            "(a typo such as 0001-01-01 or 9999-12-31; correct them in Zoho or re-import)"
        )

    @property
    def title(self) -> str:
        return self.spec.title

    def kinds(self) -> dict[str, ColumnKind]:
        return {c: column_kind(c) for c in self.frame.columns}

    def labels(self) -> list[str]:
        return [column_label(c) for c in self.frame.columns]

    def filter_lines(self) -> list[tuple[str, str]]:
        out = self.filters.describe()
        if "period" in self.frame.columns:
            out.append(("Period", self.filters.period))
        return out


def _sales(by: str) -> ReportSpec:
    key = {"store": "store", "product": "product", "agent": "agent"}.get(by, by)
    drill = {
        "region": Drill("sales-by-store", "region", "region"),
        "store": Drill("sales-by-product", "store", "store_code"),
        "product": Drill("sales-by-store", "product", "sku"),
        "brand": Drill("sales-by-product", "brand", "brand"),
        "category": Drill("sales-by-product", "category", "category"),
        "agent": Drill("sales-by-store", "agent", "agent_code"),
    }[by]
    return ReportSpec(
        name=f"sales-by-{by}",
        title=f"Sales by {by}",
        run=partial(sales.sales_by, by=by),
        chart=ChartSpec(key, ("sales",), "bar"),
        drill=drill,
        description=f"Invoiced sales per {by}, largest first, with share of total.",
    )


_SPECS: list[ReportSpec] = [
    ReportSpec(
        "sales-by-period",
        "Sales by period",
        sales.sales_by_period,
        ChartSpec("period", ("sales", "last_year_sales"), "line", max_points=400),
        description="Sales per day/week/month/quarter/year, growth vs previous and last year.",
    ),
    *(_sales(by) for by in sales.SALES_DIMENSIONS),
    ReportSpec(
        "top-movers",
        "Top movers (products)",
        partial(sales.top_movers, by="product"),
        ChartSpec("product", ("change",), "bar", max_points=40),
        Drill("sales-by-store", "product", "sku"),
        description="Products with the biggest rise and fall vs the previous equal period.",
    ),
    ReportSpec(
        "top-movers-stores",
        "Top movers (stores)",
        partial(sales.top_movers, by="store"),
        ChartSpec("store", ("change",), "bar", max_points=40),
        Drill("sales-by-product", "store", "store_code"),
        description="Stores with the biggest rise and fall vs the previous equal period.",
    ),
    ReportSpec(
        "dormant-stores",
        "Dormant stores",
        stores.dormant_stores,
        ChartSpec("store", ("days_overdue",), "bar"),
        Drill("sales-by-product", "store", "store_code"),
        uses=("dates", "region", "agent", "store"),
        description="Stores with no purchase for longer than 1.5× their call cadence.",
        as_of_only=True,
    ),
    ReportSpec(
        "agent-performance",
        "Agent performance",
        agents.agent_performance,
        ChartSpec("agent", ("calls_made", "productive_calls"), "bar"),
        Drill("sales-by-store", "agent", "agent_code"),
        uses=("dates", "region", "agent", "store"),
        description="Calls, strike rate, drop size, coverage and suggestion acceptance per agent.",
    ),
    ReportSpec(
        "plan-vs-actual",
        "Plan vs actual (beats)",
        beats.plan_vs_actual,
        ChartSpec("agent_day", ("scheduled", "visited", "productive"), "bar"),
        Drill("sales-by-store", "agent", "agent_code"),
        uses=("dates", "region", "agent", "store"),
        description=(
            "Per agent and day: beat stores scheduled, visited, productive, strike rate, "
            "drop size, lines per call and beat coverage."
        ),
        empty_reason=(
            "No agent had a beat scheduled or made a call or an order on these days. Beats "
            "are made in Stores ▸ Beats… (or mangalm beats create)."
        ),
    ),
    *(
        ReportSpec(
            "forecast-accuracy" + ("" if by == "agent" else f"-by-{by}"),
            f"Forecast accuracy by {by}",
            partial(accuracy.forecast_accuracy, by=by),
            ChartSpec(
                {"agent": "agent", "store": "store", "product": "product", "period": "period"}[by],
                ("wape",),
                "line" if by == "period" else "bar",
            ),
            uses=("dates", "region", "agent", "store", "brand", "category", "product"),
            description="WAPE and bias of stored predictions against invoiced quantities.",
            empty_reason=(
                "A prediction is scored only once its whole horizon has passed by the end "
                "date; no stored prediction has finished its horizon in these dates (the "
                "suggested orders are for the coming weeks). Widen the dates or wait."
            ),
        )
        for by in accuracy.ACCURACY_DIMENSIONS
    ),
    ReportSpec(
        "scheme-uptake",
        "Scheme uptake and cost",
        schemes.scheme_uptake,
        ChartSpec("scheme_code", ("discount_given", "free_goods_value"), stacked=True),
        description="Orders and lines using each scheme, discount given, free goods value.",
        empty_reason="No scheme was valid in these dates.",
    ),
    ReportSpec(
        "ageing",
        "Outstanding balances and ageing",
        stores.outstanding_ageing,
        ChartSpec("store", ("not_due", "d0_30", "d31_60", "d61_90", "d90_plus"), stacked=True),
        Drill("sales-by-product", "store", "store_code"),
        uses=("dates", "region", "agent", "store"),
        description="Unpaid balances per store in 0–30 / 31–60 / 61–90 / 90+ days past due, "
        "after the payments collected.",
        as_of_only=True,
    ),
    ReportSpec(
        "collections",
        "Collections by agent, day and mode",
        collections.collections_by_agent_day,
        ChartSpec("agent", ("approved", "pending", "rejected"), stacked=True),
        Drill("collections-pending", "agent", "agent_code"),
        uses=("dates", "region", "agent", "store"),
        description="Payments collected per day, agent and mode; approved, awaiting, rejected.",
        empty_reason="No payment was collected in these dates for these filters.",
    ),
    ReportSpec(
        "collections-pending",
        "Payments awaiting approval",
        collections.pending_approval,
        ChartSpec("store", ("amount",)),
        uses=("dates", "region", "agent", "store"),
        description="Collected payments a manager has not approved or rejected, oldest first.",
        as_of_only=True,
        empty_reason="No payment is waiting for approval.",
    ),
]

REPORTS: dict[str, ReportSpec] = {s.name: s for s in _SPECS}


def get_spec(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise UserError(
            f"no report called {name!r}", hint="reports: " + ", ".join(REPORTS)
        ) from None


def run_report(
    engine: Engine, name: str, filters: ReportFilters, *, identity: Identity | None
) -> ReportResult:
    """Validate the filters and compute one report in a single read transaction.

    ``identity``: the signed-in user, who needs the run-reports permission (managers and
    admins); None = standalone laptop, unrestricted (docs/security.md).
    """
    require(identity, Permission.RUN_REPORTS)
    spec = get_spec(name)
    if spec.as_of_only and filters.date_from is not None:
        filters = filters.with_(date_from=None)  # not shown on exports as if it applied
    with engine.connect() as conn:
        validate(conn, filters)
        frame = spec.run(conn, filters)
        ignored = implausible_lines(conn)
    result = ReportResult(spec, filters, frame, ignored_lines=ignored)
    if ignored:
        log.warning("report %s: %s", name, result.note)
    return result
