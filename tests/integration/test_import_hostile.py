"""Every file of the hostile set (tests/fixtures/imports/hostile.py) through ``mangalm import``:
a clear message, the documented exit code, no traceback, nothing half-written (issue 23)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mangalm_desktop.cli.main import main
from mangalm_desktop.db import migrate
from mangalm_desktop.db.models import Invoice, InvoiceLine, Product, Store
from tests.fixtures.imports.hostile import HISTORY_COLUMNS, Case, build

HOSTILE_DIR = "hostile"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, list[Case]]:
    root = tmp_path_factory.mktemp("hostile")
    return root, build(root / HOSTILE_DIR)


def _argv(case: Case, db: Path, report: Path) -> list[str]:
    args = ["import", case.kind, str(case.path), "--db", str(db), "-q"]
    args += ["--error-report", str(report)]
    if case.kind == "history":
        args += ["--columns", HISTORY_COLUMNS]
    return args


def _counts(db: Path) -> tuple[int, ...]:
    engine = migrate.open_local_database(db)
    try:
        with Session(engine) as s:
            return tuple(
                s.scalar(select(func.count()).select_from(t))
                for t in (Store, Product, Invoice, InvoiceLine)
            )
    finally:
        engine.dispose()


def test_the_set_is_large(hostile) -> None:
    assert len(hostile[1]) >= 48


def test_every_hostile_file_is_refused_in_words(hostile, tmp_path, capsys) -> None:
    root, cases = hostile
    db = tmp_path / "m.sqlite"
    failures = []
    for case in cases:
        report = tmp_path / f"{case.name}.errors.csv"
        try:
            rc = main(_argv(case, db, report))
        except Exception as exc:  # a traceback: record it, keep going to list every failure
            capsys.readouterr()
            failures.append(f"{case.name}: traceback {type(exc).__name__}: {exc}"[:300])
            continue
        out, err = capsys.readouterr()
        text = out + err
        if report.is_file():  # row-level reasons are in the error report, as documented
            text += report.read_text(encoding="utf-8-sig")
        problems = []
        if rc != case.rc:
            problems.append(f"exit {rc}, expected {case.rc}")
        problems += [f"no {w!r}" for w in case.says if w.lower() not in text.lower()]
        if "Traceback" in text:
            problems.append("traceback")
        if case.rc == 1 and not report.is_file():
            problems.append("no error report")
        if problems:
            failures.append(f"{case.name}: {'; '.join(problems)}\n{err.strip()[-300:]}")
    assert not failures, "\n\n".join(failures)
    assert _counts(db) == (0, 0, 0, 0)  # nothing half-written, by any of them
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert leftovers == []


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux memory figures")
def test_as_a_process_no_traceback_and_memory_bounded(hostile, tmp_path) -> None:
    """The shared-strings bomb (1 GB of memory before) and a device, as a real process."""
    root, cases = hostile
    by_name = {c.name: c for c in cases}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    # The peak of this process's own memory (VmHWM): ru_maxrss would also count the pytest
    # process the child was forked from.
    code = (
        "import sys; from mangalm_desktop.cli.main import main; rc = main(sys.argv[1:]); "
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')]; "
        "print('PEAK_KB', hwm[0].split()[1] if hwm else 0, file=sys.stderr); sys.exit(rc)"
    )
    for name in ("shared-strings-bomb.xlsx", "dev-zero", "a-folder"):
        case = by_name[name]
        proc = subprocess.run(
            [sys.executable, "-c", code, *_argv(case, tmp_path / "p.sqlite", tmp_path / "r.csv")],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and case.says[0] in proc.stdout + proc.stderr
        peak_mb = int(proc.stderr.rsplit("PEAK_KB", 1)[1].split()[0]) / 1024
        assert peak_mb < 400, f"{name}: peak RSS {peak_mb:.0f} MB"
