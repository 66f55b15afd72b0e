"""Helpers for the sync tests: a central database with agents and data, local replicas, orders.

Also runnable as a worker process (``python -m tests.integration.sync_support ...``) for the
fault-injection tests that kill or cut a real client process.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from sqlalchemy import Engine, select

from mangalm_desktop.db.engine import make_engine, session_scope
from mangalm_desktop.db.migrate import open_local_database
from mangalm_desktop.db.models import (
    Agent,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Product,
    Store,
)
from mangalm_desktop.db.outbox import OP_UPSERT_ORDER, enqueue, row_payload
from mangalm_desktop.sync.central import NewUser, add_user, init_central
from mangalm_desktop.sync.connection import CentralConfig, libpq_url, sqlalchemy_url
from mangalm_desktop.sync.tables import all_specs
from tests.support.local_db import local_database


def as_user(url: str, user: str, password: str = "") -> str:
    """The libpq URL of ``url`` logged in as ``user`` (the test server trusts local users)."""
    parts = urlsplit(libpq_url(url))
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}:{password}@{host}{port}" if password else f"{user}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_host(url: str, host: str, port: int) -> str:
    """``url`` pointed at host:port over TCP (drops a unix-socket ``host=`` parameter)."""
    parts = urlsplit(libpq_url(url))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "host"]
    user = parts.username or "postgres"
    return urlunsplit(parts._replace(netloc=f"{user}@{host}:{port}", query=urlencode(query)))


@dataclass
class World:
    """A central database with two agents, a manager, stores, products and history."""

    url: str
    agents: list[NewUser]
    manager: NewUser
    stores: dict[uuid.UUID, list[uuid.UUID]]  # agent id -> its stores
    products: list[uuid.UUID]

    @property
    def agent_a(self) -> NewUser:
        return self.agents[0]

    @property
    def agent_b(self) -> NewUser:
        return self.agents[1]

    @property
    def stores_a(self) -> list[uuid.UUID]:
        return self.stores[self.agents[0].agent_id]

    @property
    def stores_b(self) -> list[uuid.UUID]:
        return self.stores[self.agents[1].agent_id]

    def url_for(self, who: NewUser) -> str:
        return as_user(self.url, who.db_role)

    def connector(self, who: NewUser, url: str | None = None):
        target = as_user(url or self.url, who.db_role)
        return lambda: psycopg.connect(target, connect_timeout=5)

    def owner_engine(self) -> Engine:
        return make_engine(sqlalchemy_url(self.url))


def build_world(
    url: str,
    *,
    stores_per_agent: int = 3,
    products: int = 8,
    invoices_per_store: int = 2,
    lines_per_invoice: int = 3,
    tag: str = "",
    seed: int = 7,
    agents: int = 2,
) -> World:
    rnd = random.Random(seed)
    init_central(url)
    tag = tag or uuid.uuid4().hex[:6]
    people = [
        add_user(url, f"{chr(65 + i)}{tag}", f"Agent {chr(65 + i)}", identity=None)
        for i in range(agents)
    ]
    m = add_user(url, f"M{tag}", "Meera Shah", manager=True, identity=None)
    _AGENT_CODES.update({p.agent_id: p.code for p in [*people, m]})
    engine = make_engine(sqlalchemy_url(url))
    try:
        with session_scope(engine) as s:
            prods = [
                Product(
                    sku=f"SKU{i:04d}",
                    name=f"Product {i}",
                    brand="Mangalm",
                    price=Decimal("10.5") + i,
                    pack_size=6,
                )
                for i in range(products)
            ]
            s.add_all(prods)
            stores: dict[uuid.UUID, list[Store]] = {}
            for agent in people:
                stores[agent.agent_id] = [
                    Store(
                        code=f"S-{agent.code}-{i}",
                        name=f"Kirana {agent.code} {i}",
                        city="Pune",
                        agent_id=agent.agent_id,
                        credit_limit=Decimal("50000.00"),
                        outstanding_balance=Decimal("123.45"),
                    )
                    for i in range(stores_per_agent)
                ]
                s.add_all(stores[agent.agent_id])
            s.flush()
            n = 0
            for agent_stores in stores.values():
                for store in agent_stores:
                    for _ in range(invoices_per_store):
                        n += 1
                        day = dt.date(2024, 1, 1) + dt.timedelta(days=rnd.randrange(300))
                        inv = Invoice(
                            number=f"INV-{tag}-{n}",
                            store_id=store.id,
                            agent_id=store.agent_id,
                            invoice_date=day,
                            total=Decimal("0"),
                            source="test",
                        )
                        s.add(inv)
                        s.flush()
                        total = Decimal("0")
                        for ln in range(lines_per_invoice):
                            p = rnd.choice(prods)
                            qty = rnd.randrange(1, 30)
                            total += p.price * qty
                            s.add(
                                InvoiceLine(
                                    invoice_id=inv.id,
                                    line_no=ln + 1,
                                    store_id=store.id,
                                    invoice_date=day,
                                    product_id=p.id,
                                    quantity=qty,
                                    unit_price=p.price,
                                    line_total=p.price * qty,
                                )
                            )
                        inv.total = total
        return World(
            url=url,
            agents=people,
            manager=m,
            stores={k: [st.id for st in v] for k, v in stores.items()},
            products=[p.id for p in prods],
        )
    finally:
        engine.dispose()


# Agent codes of the worlds built in this process: the central database accepts only order
# numbers that start with the agent's own code, and new_order makes such numbers.
_AGENT_CODES: dict[uuid.UUID, str] = {}


def _code_of(session, agent_id: uuid.UUID) -> str:  # noqa: ANN001 - a Session
    """The agent's code from the replica (after a first pull) or from the world built here."""
    agent = session.get(Agent, agent_id)
    return (agent.code if agent is not None else _AGENT_CODES.get(agent_id, "T")).upper()


def local_db(path: Path) -> Engine:
    """A laptop's database at ``path``: opened, or a new, empty one (tests.support.local_db)."""
    return local_database(path)


def new_order(
    engine: Engine,
    *,
    store_id: uuid.UUID,
    agent_id: uuid.UUID,
    products: list[uuid.UUID],
    lines: int = 3,
    number: str | None = None,
    agent_field: uuid.UUID | None = None,
) -> uuid.UUID:
    """Save a submitted order locally with its outbox op, in one SQLite transaction."""
    with session_scope(engine) as s:
        order = Order(
            number=number or f"{_code_of(s, agent_id)}-T-{uuid.uuid4().hex[:12]}",
            state="submitted",
            store_id=store_id,
            agent_id=agent_field or agent_id,
            order_date=dt.date(2024, 6, 1),
            total=Decimal("0"),
        )
        s.add(order)
        s.flush()
        line_rows = []
        total = Decimal("0")
        for i in range(lines):
            qty = i + 1
            price = Decimal("12.50")
            line = OrderLine(
                order_id=order.id,
                line_no=i + 1,
                store_id=store_id,
                product_id=products[i % len(products)],
                quantity=qty,
                unit_price=price,
                line_total=price * qty,
            )
            total += price * qty
            s.add(line)
            line_rows.append(line)
        order.subtotal = order.total = total
        s.flush()
        enqueue(
            s,
            table_name="orders",
            row_id=order.id,
            op=OP_UPSERT_ORDER,
            base_version=None,
            payload={"order": row_payload(order), "lines": [row_payload(x) for x in line_rows]},
        )
        return order.id


def edit_order(engine: Engine, order_id: uuid.UUID, notes: str) -> None:
    """Change an order locally the way the orders module does: bump version, enqueue."""
    with session_scope(engine) as s:
        order = s.get(Order, order_id)
        base = order.version
        order.notes = notes
        order.version = base + 1
        lines = list(s.scalars(select(OrderLine).where(OrderLine.order_id == order_id)))
        s.flush()
        enqueue(
            s,
            table_name="orders",
            row_id=order.id,
            op=OP_UPSERT_ORDER,
            base_version=base,
            payload={"order": row_payload(order), "lines": [row_payload(x) for x in lines]},
        )


def central_rows(url: str, user: str | None = None, password: str = "") -> dict[str, list[tuple]]:
    """Every synced row ``user`` may see, converted exactly as a pull would store it."""
    target = as_user(url, user, password) if user else libpq_url(url)
    out: dict[str, list[tuple]] = {}
    with psycopg.connect(target) as conn:
        for spec in all_specs():
            rows = []
            with conn.cursor() as cur, cur.copy(spec.copy_sql("true")) as copy:
                rows = [tuple(r) for r in copy.rows()]
            id_at = spec.columns.index("id")
            out[spec.name] = sorted(rows, key=lambda r, i=id_at: r[i])
    return out


def local_rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every synced row of a replica, as text, sorted by id (comparable to central_rows)."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for spec in all_specs():
            cols = ", ".join(f'"{c}"' for c in spec.columns)
            rows = conn.exec_driver_sql(f'SELECT {cols} FROM "{spec.name}" ORDER BY id').all()
            out[spec.name] = [tuple(None if v is None else str(v) for v in r) for r in rows]
    return out


def normalise(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Text form of numbers that SQLite gives back typed (1 vs '1', 2.5 vs '2.5')."""
    out = {}
    for table, items in rows.items():
        fixed = []
        for r in items:
            fixed.append(tuple(None if v is None else _num_text(v) for v in r))
        out[table] = sorted(fixed)
    return out


def owner(world: World) -> psycopg.Connection:
    """An autocommit connection as the central database's owner (``postgres``)."""
    return psycopg.connect(as_user(world.url, "postgres"), autocommit=True)


def move_store(world: World, store_id: uuid.UUID, to_agent: uuid.UUID) -> None:
    """The manager gives ``store_id`` to another agent, centrally."""
    with psycopg.connect(world.url_for(world.manager), autocommit=True) as m:
        m.execute("UPDATE store SET agent_id = %s WHERE id = %s", (to_agent, store_id))


def config_for(world: World, who: NewUser) -> CentralConfig:
    """The connection settings a laptop of ``who`` saves (``sync connect``) for this world's
    server, reached through its Unix socket."""
    parts = urlsplit(as_user(world.url, who.db_role))
    socket_dir = dict(parse_qsl(parts.query))["host"]
    return CentralConfig(
        host=socket_dir,
        port=5432,
        database=parts.path.lstrip("/"),
        user=who.db_role,
        sslmode="disable",
    )


def assert_same_as_central(world: World, engine: Engine, who: NewUser | None = None) -> None:
    """The replica holds exactly what ``who`` may see centrally (None: all there is, as the
    owner sees it)."""
    central = central_rows(world.url, who.db_role) if who else central_rows(world.url)
    assert normalise(local_rows(engine)) == normalise(central)


def _num_text(v: str) -> str:
    try:
        f = float(v)
    except ValueError:
        return v
    return repr(f) if "." in v or "e" in v.lower() else str(int(f))


# ---- worker processes for the fault-injection tests -----------------------------------------


def worker_main(argv: list[str]) -> int:
    """``push-orders DB URL STORE AGENT PRODUCTS N`` or ``sync DB URL`` (loop until done)."""
    from mangalm_desktop.sync.push import push

    cmd, db, url = argv[0], Path(argv[1]), argv[2]
    engine = open_local_database(db)
    if cmd == "push":
        with psycopg.connect(url, connect_timeout=5) as pg:
            push(engine, pg, batch_size=int(argv[3]) if len(argv) > 3 else 5)
        return 0
    if cmd == "sync":
        from mangalm_desktop.sync.service import sync_once

        report = sync_once(engine, lambda: psycopg.connect(url, connect_timeout=5))
        print(json.dumps(report.summary()))
        return 0 if report.ok else 1
    raise SystemExit(f"unknown worker command {cmd}")


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))


# ---- helpers shared by the conflict, scheduler and field-week tests --------------------------


def central_query(url: str, sql: str, *args: object) -> list[tuple]:
    """Run ``sql`` on the central database as its owner (autocommit); the rows, if any."""
    with psycopg.connect(as_user(url, "postgres"), autocommit=True) as c:
        cur = c.execute(sql, args)
        return cur.fetchall() if cur.description else []


def local_skus(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        return [p.sku for p in s.scalars(select(Product).order_by(Product.sku))]


def edit_store_profile(engine: Engine, store_id: uuid.UUID, **changes: str) -> None:
    """Save a store profile as the store form does: every field as text, some changed."""
    from mangalm_desktop.db.store_profile import ProfileEdit, save_store_profile

    with session_scope(engine) as s:
        st = s.get(Store, store_id)
        current = {
            "address": st.address or "",
            "contact_name": st.contact_name or "",
            "phone": st.phone or "",
            "email": st.email or "",
            "size_class": st.size_class or "",
            "call_cadence_days": "" if st.call_cadence_days is None else str(st.call_cadence_days),
            "credit_limit": "" if st.credit_limit is None else str(st.credit_limit),
            "notes": st.notes or "",
        }
        version = st.version
    edit = ProfileEdit(**{**current, **changes})
    save_store_profile(engine, store_id, edit, expected_version=version, identity=None)


def sync_loop_survives_stop(
    db: Path, xdg: Path, *, password: str = "", stop_s: float = 3.0, runs_first: int = 1
) -> None:
    """Run ``mangalm sync run --every`` (every 1.2 s) on ``db`` with the settings saved under
    ``xdg``; once ``runs_first`` runs are recorded, stop it (SIGSTOP) for ``stop_s`` seconds,
    continue it (SIGCONT) and require two more runs; SIGTERM must end it cleanly."""
    import os
    import signal
    import subprocess
    import time

    from mangalm_desktop.sync.state import history

    def runs() -> int:
        engine = local_db(db)
        try:
            return len(history(engine))
        finally:
            engine.dispose()

    env = {
        **os.environ,
        "XDG_DATA_HOME": str(xdg),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    if password:
        env["PGPASSWORD"] = password
    start = runs()
    cmd = [sys.executable, "-m", "mangalm_desktop.cli.main", "sync", "run", "--db", str(db)]
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [*cmd, "--every", "0.02", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while runs() < start + runs_first and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert runs() >= start + runs_first, "the sync loop did not run"
        proc.send_signal(signal.SIGSTOP)
        time.sleep(stop_s)
        stopped_at = runs()
        proc.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 30
        while runs() < stopped_at + 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert runs() >= stopped_at + 2, "sync stopped after the process was stopped"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err, err
