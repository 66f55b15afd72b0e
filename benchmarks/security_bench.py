"""What encryption at rest and sign-in cost, against plain SQLite measured in the same run.

Usage::

    .venv/bin/python benchmarks/security_bench.py            # small demo company
    .venv/bin/python benchmarks/security_bench.py --repeat 5

Measured (same machine, same run, same data):

- write: ``create_demo_company`` (SMALL) into a new encrypted (SQLCipher) database vs a plain
  one — the baseline;
- read: open, build the in-memory store index and run 2000 store searches + four reports, on
  each file;
- sign-in: one offline sign-in (argon2id verify, deliberately slow against guessing) vs the
  raw argon2 ``verify`` call, plus the median of a wrong-password rejection.

Prints seconds and the encrypted / plain ratio (the cost of encryption for the same work).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mangalm_desktop.db.migrate import open_local_database  # noqa: E402
from mangalm_desktop.db.queries.stores import StoreFilter, StoreIndex  # noqa: E402
from mangalm_desktop.db.search import ensure_search_schema  # noqa: E402
from mangalm_desktop.demo import DEFAULT_TODAY, SMALL, create_demo_company  # noqa: E402
from mangalm_desktop.reports.catalog import REPORTS, run_report  # noqa: E402
from mangalm_desktop.reports.filters import ReportFilters  # noqa: E402

WORDS = ["ganesh", "sri", "kirana", "stores", "mart", "super", "traders", "lakshmi", "a", "m"]


def _write(path: Path, key: str | None) -> float:
    t = time.perf_counter()
    engine = open_local_database(path, key_hex=key)
    create_demo_company(engine, today=DEFAULT_TODAY, **SMALL)
    engine.dispose()
    return time.perf_counter() - t


def _read(path: Path, key: str | None) -> float:
    t = time.perf_counter()
    engine = open_local_database(path, key_hex=key)
    ensure_search_schema(engine, DEFAULT_TODAY)
    index = StoreIndex(engine, DEFAULT_TODAY, identity=None)
    for i in range(2000):
        index.match(StoreFilter(text=WORDS[i % len(WORDS)][: 1 + i % 5]))
    for name in list(REPORTS)[:4]:
        run_report(engine, name, ReportFilters(), identity=None)
    engine.dispose()
    return time.perf_counter() - t


def _sign_in(folder: Path, repeat: int) -> tuple[float, float, float]:
    from argon2 import PasswordHasher

    from mangalm_desktop.domain.enums import Role
    from mangalm_desktop.security.roles import Identity
    from mangalm_desktop.security.signin import SignInFailed, sign_in

    engine = open_local_database(folder / "auth.sqlite")
    who = Identity("A07", Role.AGENT)
    sign_in(engine, "A07", "pw-123456", online_check=lambda u, p: who)
    now = dt.datetime.now(dt.UTC)
    ok, bad, raw = [], [], []
    hasher = PasswordHasher()
    digest = hasher.hash("pw-123456")
    for i in range(repeat):
        t = time.perf_counter()
        sign_in(engine, "A07", "pw-123456", now=now + dt.timedelta(hours=i))
        ok.append(time.perf_counter() - t)
        t = time.perf_counter()
        with contextlib.suppress(SignInFailed):
            sign_in(engine, "A07", "nope", now=now + dt.timedelta(hours=i, minutes=1))
        bad.append(time.perf_counter() - t)
        sign_in(engine, "A07", "pw-123456", now=now + dt.timedelta(hours=i, minutes=30))
        t = time.perf_counter()
        hasher.verify(digest, "pw-123456")
        raw.append(time.perf_counter() - t)
    engine.dispose()
    return statistics.median(ok), statistics.median(bad), statistics.median(raw)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    key = secrets.token_hex(32)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        writes: dict[str, list[float]] = {"plain": [], "encrypted": []}
        reads: dict[str, list[float]] = {"plain": [], "encrypted": []}
        for i in range(args.repeat):
            for kind, k in (("plain", None), ("encrypted", key)):  # alternate: fair to both
                path = folder / f"{kind}-{i}.sqlite"
                writes[kind].append(_write(path, k))
                reads[kind].append(_read(path, k))
        ok, bad, raw = _sign_in(folder, max(3, args.repeat))
    w = {k: statistics.median(v) for k, v in writes.items()}
    r = {k: statistics.median(v) for k, v in reads.items()}
    print(f"demo company (SMALL) written, median of {args.repeat}:")
    print(f"  plain SQLite (baseline) {w['plain']:.2f} s")
    print(
        f"  encrypted (SQLCipher)   {w['encrypted']:.2f} s   ratio {w['encrypted'] / w['plain']:.2f}"
    )
    print("open + store index + 2000 searches + four reports:")
    print(f"  plain SQLite (baseline) {r['plain']:.2f} s")
    print(
        f"  encrypted (SQLCipher)   {r['encrypted']:.2f} s   ratio {r['encrypted'] / r['plain']:.2f}"
    )
    print("offline sign-in (argon2id):")
    print(f"  raw argon2 verify (baseline) {raw * 1000:.0f} ms")
    print(f"  sign_in, right password      {ok * 1000:.0f} ms   ratio {ok / raw:.2f}")
    print(f"  sign_in, wrong password      {bad * 1000:.0f} ms   ratio {bad / raw:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
