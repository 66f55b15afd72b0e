"""Issue 22, replayed against the strict local Zoho server and a real PostgreSQL: collisions on
re-read, creates that commit late, one token shared by runs, limits held across runs, partial
counts of a failed job, 400 + code 57, invoices deleted in Books."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mangalm_desktop.db.engine import session_scope
from mangalm_desktop.db.models import Invoice, InvoiceLine, Order, Product, Store
from mangalm_desktop.zoho import bridge
from tests.zoho_server import Fault
from tests.zoho_server.support import (
    T0,
    bridge_config,
    connect,
    make_orders,
    seed_zoho,
)

pytestmark = pytest.mark.pg


def _job(report: bridge.RunReport, name: str):
    return next(r for r in report.results if r.job == name)


def test_sku_moved_and_shared_account_number_do_not_stop_the_run(server, central, clock):
    seeded = seed_zoho(server, stores=3, items=4, invoices=0)
    client = connect(server, clock)
    bridge.run_once(central, client, ["accounts", "contacts", "items"])
    numbers = make_orders(central, 3)

    # Books moves SKU0003 from the last item to the first (which is listed first), and a second
    # CRM account is given the account number of the first store.
    first, last = seeded["items"][0], seeded["items"][3]
    first["sku"], last["sku"] = "SKU0003", "SKU0003-OLD"
    server.add_account(
        "Store 000 (branch)",
        T0 + dt.timedelta(hours=1),
        Account_Number="S0000",
    )
    twin = server.add_item("Item 001 twin", "11.50", sku="SKU0001")  # Books lets two share it
    shared = seeded["accounts"][1]
    shared["Account_Number"] = "S0002"  # an existing account now shares a number too
    shared["Modified_Time"] = (T0 + dt.timedelta(hours=1)).isoformat()

    report = bridge.run_once(central, client)
    assert report.stopped is None and not report.failed, report.as_dict()
    assert _job(report, "orders").sent == 3
    assert sorted(server.by_reference()) == sorted(numbers)
    warnings = " ".join(_job(report, "accounts").warnings + _job(report, "items").warnings)
    assert "'S0000' is also store 'Store 000'" in warnings
    assert "'S0002' is also store 'Store 002'" in warnings
    assert "SKU 'SKU0003' moved in Books" in warnings
    assert "SKU 'SKU0001' is also product 'Item 001'" in warnings
    with session_scope(central) as s:
        skus = dict(s.execute(select(Product.zoho_item_id, Product.sku)).all())
        assert skus[first["item_id"]] == "SKU0003" and skus[last["item_id"]] == "SKU0003-OLD"
        assert skus[seeded["items"][1]["item_id"]] == "SKU0001" and skus[twin["item_id"]] is None
        codes = dict(s.execute(select(Store.zoho_account_id, Store.code)).all())
        assert codes[shared["id"]] == "S0001"  # kept its code; S0002 stays Store 002's
        assert sorted(codes.values()).count("S0000") == 1
    # The run record (central) says what happened.
    run = bridge.status(central).runs[0]
    assert any("is also store" in w for j in run["jobs"] for w in j["warnings"])

    # The next run reads the same records again: same outcome, nothing changes, no error.
    report = bridge.run_once(central, client, ["accounts", "items"])
    assert not report.failed and _job(report, "items").updated == 0


def test_create_that_commits_after_the_timeout_is_not_duplicated(server, central, clock):
    seed_zoho(server, invoices=0)
    client = connect(server, clock, timeout_s=1.0)
    bridge.run_once(central, client, ["accounts", "contacts", "items"])
    numbers = make_orders(central, 3)
    # Zoho takes the first create, the client times out, and the sales order shows up in
    # lookups only 10 minutes later (well after the bridge's lookups a few seconds on).
    server.inject(
        Fault(
            "late_commit",
            path="/books/v3/salesorders",
            method="POST",
            delay=2.0,
            commit_after=600,
        )
    )
    report = bridge.run_once(central, client, ["orders"])
    res = report.results[0]
    assert max(server.by_reference().values()) == 1, server.by_reference()  # no duplicate
    assert (res.sent, res.waiting, res.error) == (2, 1, None), report.as_dict()
    assert "maybe created" in " ".join(res.warnings)

    clock.advance(300)  # a later run, the create has still not committed: nothing created
    res = bridge.run_once(central, client, ["orders"]).results[0]
    assert (res.sent, res.waiting) == (0, 1)
    clock.advance(600)  # now Zoho shows it: adopted, not created
    posts = len([e for e in server.api_log() if e.method == "POST"])
    res = bridge.run_once(central, client, ["orders"]).results[0]
    assert (res.sent, res.waiting) == (1, 0), res
    assert len([e for e in server.api_log() if e.method == "POST"]) == posts == 3
    counts = server.by_reference()
    assert [counts[n] for n in numbers] == [1, 1, 1], counts
    with session_scope(central) as s:
        assert set(s.scalars(select(Order.state)).all()) == {"sent_to_zoho"}
    assert bridge.status(central).counts["orders_maybe_created"] == 0


def test_ten_runs_in_ten_minutes_mint_one_access_token(server, central, clock):
    seed_zoho(server, invoices=0)
    connect(server, clock)  # keyring: refresh token and client secret
    minted = server.tokens_minted()
    for _ in range(10):
        # A new client each time, as a new process has: nothing shared but the keyring and
        # the central database.
        client = bridge.make_client(bridge_config(server), clock)
        report = bridge.run_once(central, client, ["items"])
        client.close()
        if report.results[0].error:
            break
        clock.advance(60)
    assert server.tokens_minted() - minted == 1, server.tokens_minted() - minted
    assert report.results[0].error is None
    assert all(e.status != 400 for e in server.log if e.path.startswith("/oauth"))


def test_runs_one_after_another_share_the_per_minute_limit(server, central, clock):
    seeded = seed_zoho(server, stores=2, items=2, invoices=30)
    connect(server, clock)
    server.per_minute = 1000  # the server counts; the bridges must keep to their own limit
    first = bridge.make_client(bridge_config(server, per_minute=20, page_size=10), clock)
    second = bridge.make_client(bridge_config(server, per_minute=20, page_size=10), clock)
    report = bridge.run_once(central, first, ["contacts", "items", "invoices"])
    assert report.requests > 20 and report.results[-1].error is None
    clock.advance(5)
    # A second process in the same minute: new limiter, new token manager, same organization.
    for k in range(15):
        server.add_invoice(
            f"INV-B{k:03d}",
            seeded["contacts"][0],
            T0.date(),
            [(seeded["items"][0], 1, "10.50")],
            T0 + dt.timedelta(days=1, minutes=k),
        )
    report = bridge.run_once(central, second, ["contacts", "items", "invoices"])
    assert report.requests > 15 and report.results[-1].error is None
    assert server.max_per_minute() <= 20, server.max_per_minute()  # server's arrival times


def test_failed_job_keeps_partial_counts(server, central, clock):
    seed_zoho(server, invoices=0)
    client = connect(server, clock, max_attempts=2)
    bridge.run_once(central, client, ["accounts", "contacts", "items"])
    make_orders(central, 8)
    sent_before_failure = 5
    # After five orders Zoho's sales-order lookups fail for good (5xx on every try).
    server.inject(
        Fault("503", path="/books/v3/salesorders", method="GET", skip=5, count=99),
    )
    report = bridge.run_once(central, client, ["orders"])
    res = report.results[0]
    assert res.error and "503" in res.error, report.as_dict()
    assert res.sent == sent_before_failure and report.failed
    assert bridge.status(central).runs[0]["jobs"][0]["sent"] == sent_before_failure


def test_http_400_code_57_refreshes_the_token_once_then_succeeds(server, central, clock):
    seed_zoho(server, invoices=5)
    client = connect(server, clock)
    bridge.run_once(central, client, ["contacts", "items"])
    server.books_auth_status = 400  # Zoho says "not authorized" as 400 + code 57
    server.expire_tokens()
    report = bridge.run_once(central, client, ["invoices"])
    assert report.stopped is None and report.results[0].error is None, report.as_dict()
    assert report.token_refreshes == 1 and report.results[0].created == 5
    statuses = [e.status for e in server.log if e.path.startswith("/books/")]
    assert statuses.count(400) == 1


def test_invoice_deleted_in_books_is_tombstoned(server, central, clock):
    seeded = seed_zoho(server, invoices=12)
    client = connect(server, clock)
    bridge.run_once(central, client, ["contacts", "items", "invoices"])
    gone = seeded["invoices"][4]
    server.delete_invoice(gone["invoice_id"])
    clock.advance(24 * 3600 + 1)  # deletion_sweep_hours: 24 by default
    report = bridge.run_once(central, client, ["invoices"])
    assert report.results[0].error is None, report.as_dict()
    with session_scope(central) as s:
        inv = s.scalar(select(Invoice).where(Invoice.zoho_invoice_id == gone["invoice_id"]))
        assert inv.deleted
        assert (
            s.scalar(
                select(func.count()).where(InvoiceLine.invoice_id == inv.id, ~InvoiceLine.deleted)
            )
            == 0
        )
        live = s.scalar(select(func.count()).select_from(Invoice).where(~Invoice.deleted))
        assert live == 11
    assert report.results[0].deleted == 1
    # Within the sweep interval no full listing is made again.
    before = len(server.log)
    bridge.run_once(central, client, ["invoices"])
    assert len(server.log) - before == 1


def test_invoice_detail_answering_does_not_exist_is_tombstoned(server, central, clock):
    seeded = seed_zoho(server, invoices=6)
    client = connect(server, clock)  # within the sweep interval: no sweep
    bridge.run_once(central, client, ["contacts", "items", "invoices"])
    inv = seeded["invoices"][2]
    inv["last_modified_time"] = (T0 + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    server.deleted_after_listing.add(inv["invoice_id"])
    res = bridge.run_once(central, client, ["invoices"]).results[0]
    with session_scope(central) as s:
        assert s.scalar(select(Invoice.deleted).where(Invoice.zoho_invoice_id == inv["invoice_id"]))
    assert res.deleted == 1


def test_keyring_token_is_not_used_with_another_refresh_token(server, central, clock):
    seed_zoho(server, invoices=0)
    connect(server, clock)
    client = bridge.make_client(bridge_config(server), clock)
    bridge.run_once(central, client, ["items"])
    minted = server.tokens_minted()
    connect(server, clock)  # a new `zoho auth`: another refresh token
    client = bridge.make_client(bridge_config(server), clock)
    bridge.run_once(central, client, ["items"])
    assert server.tokens_minted() == minted + 1


def test_status_says_when_the_daily_budget_is_below_what_a_first_pull_needs(
    server, central, clock, pg_migrated_url, tmp_path, monkeypatch, capsys
):
    from decimal import Decimal

    from mangalm_desktop.cli.main import main
    from mangalm_desktop.zoho.config import save_config

    seed_zoho(server, invoices=0)
    bridge.run_once(central, connect(server, clock), ["accounts", "contacts"])
    with session_scope(central) as s:  # a CSV-imported history, not yet linked to Zoho
        store = s.scalars(select(Store).order_by(Store.code)).first()
        for k in range(130):
            s.add(
                Invoice(
                    number=f"INV-{k:06d}",
                    store_id=store.id,
                    invoice_date=T0.date(),
                    total=Decimal("1.00"),
                    source="import",
                )
            )
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    save_config(bridge_config(server, daily_budget=100))
    assert main(["zoho", "status", "--central", pg_migrated_url]) == 0
    out = capsys.readouterr().out
    assert "The daily budget (100 requests) is below what the first pull needs" in out
    assert "about 2 days" in out
    save_config(bridge_config(server, daily_budget=5000))
    assert main(["zoho", "status", "--central", pg_migrated_url]) == 0
    assert "below what the first pull needs" not in capsys.readouterr().out


def test_a_slow_token_refresh_does_not_push_requests_over_the_limit(server, central, clock):
    """The slot is stamped when the request goes out, after the token is at hand: a refresh
    that takes seconds must not let a stamp sit in the window while its request is sent later."""
    seed_zoho(server, stores=2, items=2, invoices=60)
    server.per_minute = 1000
    server.token_ttl = 150  # a refresh every ~90 s of the run (60 s early refresh)
    server.on_mint = lambda: clock.advance(5)  # minting takes 5 s
    client = connect(server, clock, per_minute=10, page_size=20)
    report = bridge.run_once(central, client, ["contacts", "items", "invoices"])
    assert report.results[-1].error is None and report.token_refreshes > 3, report.as_dict()
    assert server.max_per_minute() <= 10, server.max_per_minute()


def test_a_duplicate_already_in_zoho_is_named_in_the_run_record(server, central, clock):
    seed_zoho(server, invoices=0)
    client = connect(server, clock)
    bridge.run_once(central, client, ["accounts", "contacts", "items"])
    (number,) = make_orders(central, 1)
    for so_number in ("SO-90001", "SO-90002"):  # made by hand in Books, say
        server.salesorders.append(
            {
                "salesorder_id": server.next_id(),
                "salesorder_number": so_number,
                "reference_number": number,
                "customer_id": server.contacts[0]["contact_id"],
                "status": "draft",
                "created_time": f"2026-01-0{so_number[-1]}T10:00:00+0000",
                "last_modified_time": "2026-01-05T10:00:00+0000",
            }
        )
    report = bridge.run_once(central, client, ["orders"])
    assert report.results[0].sent == 1 and len(server.salesorders) == 2
    run = bridge.status(central).runs[0]
    warning = " ".join(run["jobs"][0]["warnings"])
    assert "2 sales orders in Zoho carry this reference (SO-90001, SO-90002)" in warning
    with session_scope(central) as s:
        assert s.scalar(select(Order.zoho_salesorder_number)) == "SO-90001"  # the oldest
