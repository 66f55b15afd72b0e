"""Scheme pricing benchmark: a 60-line order priced with many clashing schemes.

Usage::

    .venv/bin/python benchmarks/schemes_bench.py [--repeat 20]

``schemes.pricing.price`` runs on every check of the order dialog and the call screen (on a
worker, 250 ms after the last keystroke), so it must stay well inside the 300 ms a person
waits. Measured in the same run:

- baseline: the same 60 lines priced with no scheme (the plain line arithmetic);
- typical: 5 schemes (a category % off, two brand slabs, a buy-10-get-1, one stackable);
- heavy: 28 schemes, 18 of them not stackable and linked through shared lines (brands ×
  categories), so the best-for-the-store choice has to compare combinations (past 12 clashing
  schemes in one group it goes greedy, docs/orders.md "Schemes").

Prints medians in ms and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import uuid
from decimal import Decimal

from mangalm_desktop.schemes.pricing import ItemLine, Rule, Scheme, SchemeKind, StoreRef, price

DAY = dt.date(2026, 12, 6)
STORE = StoreRef("Pune", "A")


def _scheme(code: str, kind: SchemeKind, *rules: Rule, **kw: object) -> Scheme:
    return Scheme(uuid.uuid4(), code, code, kind, dt.date(2026, 1, 1), None, rules, **kw)  # type: ignore[arg-type]


def _lines() -> list[ItemLine]:
    return [
        ItemLine(
            uuid.uuid4(),
            6 + i % 30,
            Decimal("45.50") + i,
            f"B{i % 12}",
            f"C{i % 6}",
            Decimal(0),
            f"Product {i}",
        )
        for i in range(60)
    ]


def _sets(lines: list[ItemLine]) -> dict[str, list[Scheme]]:
    pct = SchemeKind.PERCENT
    typical = [
        _scheme("CAT-5", pct, Rule(1, Decimal(5)), category="C1"),
        _scheme("B2-SLAB", SchemeKind.SLAB, Rule(10, Decimal(3)), Rule(40, Decimal(6)), brand="B2"),
        _scheme("B3-SLAB", SchemeKind.SLAB, Rule(24, Decimal(4)), brand="B3"),
        _scheme(
            "P0-10+1", SchemeKind.FREE_GOODS, Rule(10, free_qty=1), product_id=lines[0].product_id
        ),
        _scheme("ALL-1", pct, Rule(1, Decimal(1)), stackable=True),
    ]
    heavy = (
        [_scheme(f"BR{i}", pct, Rule(1, Decimal(3)), brand=f"B{i}") for i in range(12)]
        + [_scheme(f"CA{i}", pct, Rule(1, Decimal(4)), category=f"C{i}") for i in range(6)]
        + [
            _scheme(f"ST{i}", pct, Rule(1, Decimal(2)), brand=f"B{i}", stackable=True)
            for i in range(10)
        ]
    )
    return {
        "baseline (no scheme)": [],
        "typical (5 schemes)": typical,
        "heavy (28 schemes, 18 clashing)": heavy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    lines = _lines()
    base = 0.0
    for name, schemes in _sets(lines).items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            price(lines, STORE, DAY, schemes)
            times.append((time.perf_counter() - t) * 1000)
        med = statistics.median(times)
        base = base or med
        print(f"{name:34} {med:8.2f} ms   ×{med / base:6.1f}")


if __name__ == "__main__":
    main()
