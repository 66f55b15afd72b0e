"""Forecast accuracy on a random company, against the rules of reports/accuracy.py summed in
Python, on SQLite and PostgreSQL; and the SQLite plan that makes it fast on a million lines."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import event

from mangalm_desktop.db import migrate
from mangalm_desktop.domain.date_window import EARLIEST_DATE
from mangalm_desktop.reports.accuracy import forecast_accuracy
from mangalm_desktop.reports.filters import ReportFilters
from tests.integration import reports_random
from tests.integration.test_report_periods import _expected_start

COMPANY = reports_random.make()


@pytest.fixture
def rengine(report_db):
    reports_random.build(report_db, COMPANY)
    return report_db


def expected(f: ReportFilters, by: str) -> list[dict]:
    """The report's rows worked out from the plain rows, as the module docstring says."""
    c = COMPANY
    stores = {s["id"]: s for s in c.stores}
    agents = {a["id"]: a for a in c.agents}
    products = {p["id"]: p for p in c.products}
    excluded = {
        i["id"]
        for i in c.invoices
        if i["deleted"] or i["status"] in ("void", "draft") or i["invoice_date"] < EARLIEST_DATE
    }
    as_of = f.date_to or max(ln["invoice_date"] for ln in c.lines)
    latest: dict[tuple, dict] = {}
    for p in c.predictions:
        if p["deleted"]:
            continue
        key = (p["store_id"], p["product_id"], p["horizon_start"], p["horizon_weeks"])
        if key not in latest or p["generated_at"] > latest[key]["generated_at"]:
            latest[key] = p

    def allowed(p: dict) -> bool:
        s, prod = stores[p["store_id"]], products[p["product_id"]]
        end = p["horizon_start"] + dt.timedelta(weeks=p["horizon_weeks"])
        agent = agents.get(s["agent_id"])
        return (
            end <= as_of + dt.timedelta(days=1)
            and (f.date_from is None or p["horizon_start"] >= f.date_from)
            and (f.date_to is None or p["horizon_start"] <= f.date_to)
            and f.region in (None, s["region"])
            and f.store in (None, s["code"], s["name"])
            and f.brand in (None, prod["brand"])
            and f.category in (None, prod["category"])
            and f.product in (None, prod["sku"], prod["name"])
            and (
                f.agent is None or (agent is not None and f.agent in (agent["code"], agent["name"]))
            )
        )

    groups: dict[tuple, dict] = {}
    for p in latest.values():
        if not allowed(p):
            continue
        end = p["horizon_start"] + dt.timedelta(weeks=p["horizon_weeks"])
        actual = sum(
            ln["quantity"]
            for ln in c.lines
            if ln["store_id"] == p["store_id"]
            and ln["product_id"] == p["product_id"]
            and p["horizon_start"] <= ln["invoice_date"] < end
            and not ln["deleted"]
            and ln["invoice_id"] not in excluded
        )
        s = stores[p["store_id"]]
        if by == "agent":
            a = agents.get(s["agent_id"])
            key = (a["code"], a["name"]) if a else ("(none)", "(unassigned)")
        elif by == "store":
            key = (s["code"], s["name"])
        elif by == "product":
            key = (products[p["product_id"]]["sku"], products[p["product_id"]]["name"])
        else:
            key = (_expected_start(p["horizon_start"], f.period),)
        g = groups.setdefault(key, {"predictions": 0, "forecast": 0.0, "actual": 0, "abs": 0.0})
        g["predictions"] += 1
        g["forecast"] += p["point"]
        g["actual"] += actual
        g["abs"] += abs(p["point"] - actual)
    return [
        {
            "key": key,
            "predictions": g["predictions"],
            "forecast": g["forecast"],
            "actual": g["actual"],
            "abs_error": g["abs"],
            "wape": g["abs"] / g["actual"] if g["actual"] else None,
            "bias": (g["forecast"] - g["actual"]) / g["actual"] if g["actual"] else None,
        }
        for key, g in sorted(groups.items())
    ]


KEYS = {
    "agent": ["agent_code", "agent"],
    "store": ["store_code", "store"],
    "product": ["sku", "product"],
    "period": ["period_start"],
}

FILTERS = [
    ReportFilters(),  # as of the last sale
    ReportFilters(date_to=dt.date(2023, 11, 30)),
    ReportFilters(date_from=dt.date(2023, 3, 1), date_to=dt.date(2024, 2, 29), period="quarter"),
    ReportFilters(region="North", date_to=reports_random.LAST),
    ReportFilters(agent="A1", brand="Brand 0"),
    ReportFilters(store="S6", category="Cat 2", period="week"),
    ReportFilters(product="P3"),
]


@pytest.mark.parametrize("by", ["agent", "store", "product", "period"])
def test_accuracy_matches_the_rules_summed_by_hand(rengine, by):
    for f in FILTERS:
        _check(rengine, by, f)


def _check(rengine, by: str, f: ReportFilters) -> None:
    with rengine.connect() as conn:
        frame = forecast_accuracy(conn, f, by)
    got = []
    for r in frame.to_dict("records"):
        key = tuple(r[k] for k in KEYS[by])
        nan_to_none = {
            k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()
        }
        got.append(
            {"key": key, **{k: nan_to_none[k] for k in ("predictions", "forecast", "actual")}}
        )
        got[-1].update({k: nan_to_none[k] for k in ("abs_error", "wape", "bias")})
    want = expected(f, by)
    assert want, f"{f} should leave some predictions to check"
    assert got == want, f


def test_the_million_line_plan_sums_each_window_once_from_the_store_index(tmp_path):
    """SQLite: each prediction's actual is looked up once (not once per use in the outer sums)
    through the (store, date) index, whose pages consecutive windows of a store share; left to
    itself SQLite chose the product index. Twice the time on 1,000,000 lines otherwise
    (benchmarks/reports_bench.py, docs/performance.md)."""
    eng = migrate.open_local_database(tmp_path / "plan.sqlite")
    reports_random.build(eng, COMPANY)
    with eng.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    statements: list[tuple[str, object]] = []

    @event.listens_for(eng, "before_cursor_execute")
    def keep(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append((statement, parameters))

    with eng.connect() as conn:
        forecast_accuracy(conn, ReportFilters(date_to=reports_random.LAST), "agent")
        sql, params = next(s for s in statements if "prediction" in s[0])
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
    eng.dispose()
    lookups = [p for p in plan if p.startswith("CORRELATED SCALAR SUBQUERY")]
    assert len(lookups) == 1, plan
    assert any(
        "invoice_line USING COVERING INDEX ix_invoice_line_store_id_invoice_date" in p for p in plan
    ), plan
