"""OAuth, pagination, limits and the strict server's own rules, over real local HTTP."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import pytest

from mangalm_desktop.domain.errors import UserError
from mangalm_desktop.security.secrets import get_secret, set_secret
from mangalm_desktop.zoho import bridge
from mangalm_desktop.zoho.auth import exchange_grant_code
from mangalm_desktop.zoho.clock import ManualClock
from mangalm_desktop.zoho.config import DATA_CENTRES, SECRET_CLIENT, SECRET_REFRESH, ZohoConfig
from mangalm_desktop.zoho.errors import (
    BridgeBusy,
    ZohoAuthError,
    ZohoNotConfigured,
    ZohoRejected,
    ZohoRetryable,
)
from mangalm_desktop.zoho.mapping import CRM_ACCOUNT_FIELDS
from mangalm_desktop.zoho.ratelimit import RateLimiter
from tests.zoho_server import ZohoServer
from tests.zoho_server.support import T0, bridge_config, central_engine, connect, seed_zoho


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock):
    with ZohoServer(clock=clock.now) as srv:
        yield srv


def test_data_centres_use_the_documented_accounts_servers():
    assert ZohoConfig(dc="ca").accounts == "https://accounts.zohocloud.ca"
    assert ZohoConfig(dc="au").accounts == "https://accounts.zoho.com.au"
    assert len(DATA_CENTRES) == 8
    assert all(dc.api_domain.startswith("https://www.zohoapis.") for dc in DATA_CENTRES.values())
    with pytest.raises(UserError, match="Unknown Zoho data centre"):
        _ = ZohoConfig(dc="xx").accounts


def test_grant_code_exchange_keeps_one_refresh_token_per_installation(server):
    cfg = bridge_config(server)
    with httpx.Client() as http:
        first = exchange_grant_code(http, cfg, server.client_secret, server.new_grant_code())
        assert get_secret(SECRET_REFRESH) == first.refresh_token
        assert first.api_domain == server.url
        # A second auth replaces the token and revokes the old one at Zoho.
        second = exchange_grant_code(http, cfg, server.client_secret, server.new_grant_code())
        assert get_secret(SECRET_REFRESH) == second.refresh_token != first.refresh_token
        assert server.revoked == [first.refresh_token]
        assert first.refresh_token not in server.refresh_tokens


def test_oauth_errors_that_come_with_http_200_are_errors(server):
    cfg = bridge_config(server)
    code = server.new_grant_code()
    with httpx.Client() as http:
        exchange_grant_code(http, cfg, server.client_secret, code)
        with pytest.raises(ZohoAuthError, match="invalid_code"):  # a used code
            exchange_grant_code(http, cfg, server.client_secret, code)
        with pytest.raises(ZohoAuthError, match="invalid_client_secret"):
            exchange_grant_code(http, cfg, "wrong", server.new_grant_code())
        wrong_client = bridge_config(server, client_id="1000.OTHER")
        with pytest.raises(ZohoAuthError, match="invalid_client"):
            exchange_grant_code(http, wrong_client, server.client_secret, server.new_grant_code())


def test_revoked_refresh_token_and_missing_token_are_clear_errors(server, clock):
    client = bridge.make_client(bridge_config(server), clock)
    with pytest.raises(ZohoNotConfigured):
        client.call("GET", "books", "/items")
    set_secret(SECRET_CLIENT, server.client_secret)
    set_secret(SECRET_REFRESH, "1000.revoked")
    with pytest.raises(ZohoAuthError, match="invalid_code"):
        client.call("GET", "books", "/items")


def test_token_endpoint_throttle_is_retried_not_fatal(server, clock):
    client = connect(server, clock)
    for _ in range(10):  # Zoho: 10 access tokens per refresh token per 10 minutes
        client.tokens.invalidate(client.tokens.access_token())
    with pytest.raises(ZohoRetryable, match="throttled"):
        client.tokens.access_token()
    clock.advance(601)
    assert client.tokens.access_token()


def test_books_rejects_bad_calls_the_way_zoho_does(server):
    seed_zoho(server, invoices=0)
    set_secret(SECRET_CLIENT, server.client_secret)
    with httpx.Client(base_url=server.url) as http:
        tok = http.post(
            "/oauth/v2/token",
            params={  # query-string form, as the docs show it
                "grant_type": "refresh_token",
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "refresh_token": server.new_refresh_token(),
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Zoho-oauthtoken {tok}"}
        org = {"organization_id": server.org_id}
        r = http.get("/books/v3/items", params=org)
        assert (r.status_code, r.json()["code"]) == (401, 57)
        r = http.get("/books/v3/items", params=org, headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 401
        r = http.get("/books/v3/items", headers=auth)
        assert r.status_code == 400 and r.json()["code"] != 0
        r = http.get("/books/v3/items", params={**org, "per_page": 500}, headers=auth)
        assert r.json()["page_context"]["per_page"] == 200
        r = http.get("/books/v3/items", params={**org, "page": 0}, headers=auth)
        assert r.status_code == 400
        r = http.get(
            "/books/v3/invoices", params={**org, "last_modified_time": "2026-01-05"}, headers=auth
        )
        assert r.status_code == 400
        r = http.post(
            "/books/v3/salesorders",
            params=org,
            headers=auth,
            json={"customer_id": "1", "line_items": []},
        )
        assert r.status_code == 400 and r.json()["message"] == "Customer does not exist."
        r = http.get("/crm/v8/Accounts", headers=auth)
        assert r.json()["code"] == "REQUIRED_PARAM_MISSING"
        r = http.get(
            "/crm/v8/Accounts", params={"fields": "Account_Name", "page": 11}, headers=auth
        )
        assert r.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
        r = http.get(
            "/crm/v8/Accounts",
            params={"fields": "Account_Name", "page": 1, "page_token": "x"},
            headers=auth,
        )
        assert r.json()["code"] == "AMBIGUITY_DURING_PROCESSING"
        r = http.get(
            "/crm/v8/Accounts",
            params={"fields": "Account_Name"},
            headers={**auth, "If-Modified-Since": "2030-01-01T00:00:00+00:00"},
        )
        assert r.status_code == 304


def test_crm_pagination_goes_past_2000_records_with_page_token(server, clock):
    for i in range(2150):
        server.add_account(f"A{i}", T0 + dt.timedelta(seconds=i))
    client = connect(server, clock)
    pages = list(client.crm_pages("Accounts", CRM_ACCOUNT_FIELDS))
    assert sum(len(p) for p in pages) == 2150 and len(pages) == 11
    ids = [r["id"] for p in pages for r in p]
    assert len(set(ids)) == 2150
    since = (T0 + dt.timedelta(seconds=2100)).isoformat()
    assert sum(len(p) for p in client.crm_pages("Accounts", ["Account_Name"], since)) == 49
    assert list(client.crm_pages("Accounts", ["Account_Name"], "2031-01-01T00:00:00+00:00")) == []


def test_a_4xx_is_not_retried(server, clock):
    client = connect(server, clock)
    with pytest.raises(ZohoRejected) as err:
        client.call("GET", "books", "/invoices/123")
    assert err.value.code == 1002 and client.retries == 0


def test_limiter_never_lets_more_than_the_limit_into_any_minute():
    clock = ManualClock()
    limiter = RateLimiter(clock, per_minute=100)
    times = []
    for i in range(1000):
        limiter.acquire()
        times.append(clock.now())
        clock.advance(0.05 if i % 7 else 1.3)  # uneven bursts
    for i in range(len(times) - 100):
        assert times[i + 100] - times[i] >= 60.0
    assert limiter.waited_s > 0


@pytest.mark.pg
def test_two_bridges_started_at_once_only_one_runs(pg_url):
    engine = central_engine(pg_url)
    with ZohoServer(latency=0.02) as server:
        seed_zoho(server, invoices=20)
        outcome: dict[str, object] = {}
        barrier = threading.Barrier(2)

        def run(name: str) -> None:
            client = connect(server, ManualClock())
            barrier.wait()
            try:
                outcome[name] = bridge.run_once(engine, client)
            except BridgeBusy as exc:
                outcome[name] = exc

        threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        busy = [v for v in outcome.values() if isinstance(v, BridgeBusy)]
        ran = [v for v in outcome.values() if isinstance(v, bridge.RunReport)]
        assert len(busy) == 1 and len(ran) == 1, outcome
        # The lock was released: the next run goes ahead.
        assert bridge.run_once(engine, connect(server, ManualClock()), ["items"]).results
    engine.dispose()
