"""Child process for the SIGKILL durability test: saves, submits, amends and cancels orders
until killed.

Prints ``ready`` once, then ``committed <number> <lines> <kind>`` after each commit returned,
so the parent knows which orders must survive. Usage: python -m tests.integration.orders_crash_worker
DB AGENT_ID STORE_ID SEED SKU...
"""

from __future__ import annotations

import random
import sys
import uuid
from pathlib import Path

from sqlalchemy import Engine

from mangalm_desktop.db.engine import make_engine, sqlite_url
from mangalm_desktop.orders import service
from mangalm_desktop.orders.model import LineInput, OrderDraft


def main(argv: list[str], engine: Engine | None = None) -> None:
    """``engine``: a disposed engine inherited through fork, its statement cache already warm."""
    db, agent, store, seed, *skus = argv
    rng = random.Random(int(seed))
    engine = engine or make_engine(sqlite_url(Path(db)))
    print("ready", flush=True)
    while True:
        n = rng.randint(1, len(skus))
        lines = [LineInput(sku, rng.randint(1, 30)) for sku in rng.sample(skus, n)]
        draft = OrderDraft(
            store=uuid.UUID(store), agent_id=uuid.UUID(agent), lines=lines, notes=f"lines={n}"
        )
        if rng.random() < 0.3:
            res = service.save_draft(engine, draft, identity=None)
            print(f"committed {res.number} {n} draft", flush=True)
            res = service.submit_saved(
                engine, res.order_id, accept_credit_warning=True, identity=None
            )
        else:
            res = service.submit(engine, draft, accept_credit_warning=True, identity=None)
        print(f"committed {res.number} {n} submitted", flush=True)
        roll = rng.random()
        if roll < 0.25:  # amend: a second op against version 1
            n = rng.randint(1, len(skus))
            draft.lines = [LineInput(sku, rng.randint(1, 30)) for sku in rng.sample(skus, n)]
            draft.notes = f"lines={n}"
            res = service.amend(
                engine, res.order_id, draft, accept_credit_warning=True, identity=None
            )
            print(f"committed {res.number} {n} submitted", flush=True)
        elif roll < 0.35:
            res = service.cancel(engine, res.order_id, identity=None)
            print(f"committed {res.number} {n} cancelled", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
