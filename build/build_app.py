"""Freeze the app with installer.spec, then smoke-test the frozen result.

    python build/build_app.py            # build + smoke test
    python build/build_app.py --no-build # smoke-test an existing dist/

Fails (exit 1) if the build or any smoke step fails. Prints the bundle size and the frozen
cold start next to `python -m mangalm_desktop` measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
WORK = ROOT / "build" / "work"
APP = "MangalmSales"
SIZE_LIMIT_MB = 250

SMALL_INVOICES = """\
Invoice Date,Invoice ID,Invoice Number,Invoice Status,Customer Name,Customer ID,Due Date,Product ID,Item Name,SKU,Brand,Category Name,Quantity,Usage unit,Item Price,Item Total,SubTotal,Total,Discount,Discount Amount,Sales Person,Billing City,Billing State,Billing Country,Billing Code,Shipping City,Shipping State,Shipping Country,Shipping Code,Warehouse Name,MRP,Balance,Purchase Order,Sales Order Number
2025-01-06,9001,INV-9001,Paid,Shree Ganesh Kirana,C-1,2025-01-21,P-1,Toor Dal 1kg,TD1,Mangalm,Staples,12,pcs,110.00,1320.00,1320.00,1320.00,0,0,Asha Patil,Pune,Maharashtra,India,411001,Pune,Maharashtra,India,411001,Pune WH,125.00,0.00,,
2025-01-20,9002,INV-9002,Paid,Shree Ganesh Kirana,C-1,2025-02-04,P-1,Toor Dal 1kg,TD1,Mangalm,Staples,6,pcs,110.00,660.00,660.00,660.00,0,0,Asha Patil,Pune,Maharashtra,India,411001,Pune,Maharashtra,India,411001,Pune WH,125.00,0.00,,
"""


def run(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    echo: str | tuple[str, ...] | None = None,
) -> float:
    """Run ``cmd``; exit 1 with its output if it fails. Lines starting ``echo`` are printed."""
    start = time.perf_counter()
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, env=env, timeout=timeout, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"FAILED ({proc.returncode}): {' '.join(cmd)}")
    if echo:
        for line in (proc.stdout + proc.stderr).splitlines():
            if line.startswith(echo):
                print(line, flush=True)
    return elapsed


HISTORY_COLUMNS = "store=store,product=product,date=date,quantity=qty,invoice=invoice,price=price"


def small_history(path: Path) -> None:
    """A deterministic 70-week history (6 stores x 8 products) for ``mangalm evaluate``.

    evaluate trains the basket model at several inner origins and scores it with the human
    baselines (the installed app has no statsforecast, and evaluate says which models it
    skipped), so the frozen app must run it once.
    """
    rng = random.Random(7)
    start = datetime.date(2024, 1, 1)
    lines = ["store,product,date,qty,invoice,price"]
    invoice = 0
    for store in range(6):
        for week in range(70):
            if rng.random() >= 0.6:
                continue
            invoice += 1
            day = start + datetime.timedelta(weeks=week, days=store % 5)
            for product in range(8):
                if rng.random() < 0.5 + 0.05 * (product % 3):
                    qty = rng.randint(1, 12)
                    lines.append(f"S{store},P{product},{day},{qty},I{invoice},{10 + product}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build() -> None:
    shutil.rmtree(DIST / APP, ignore_errors=True)
    env = dict(os.environ, MANGALM_BUILD_ROOT=str(ROOT))
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(DIST),
        "--workpath",
        str(WORK),
        str(ROOT / "installer.spec"),
    ]
    took = run(cmd, env=env, timeout=1800, echo="slim:")
    print(f"build: {took:.0f} s")
    add_cli_launcher()


def add_cli_launcher() -> None:
    """The one executable runs the CLI when started as `mangalm`: add that name beside it."""
    folder = exe(APP).parent
    if sys.platform == "win32":
        (folder / "mangalm.cmd").write_text('@"%~dp0MangalmSales.exe" --cli %*\r\n')
    else:
        link = folder / "mangalm"
        link.unlink(missing_ok=True)
        link.symlink_to(APP)


def folder_size_mb(path: Path) -> float:
    """Bytes on disk once: PyInstaller links duplicate libraries, so links are not counted."""
    files = (f for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return sum(f.stat().st_size for f in files) / 1e6


def size_breakdown(folder: Path, top: int = 12) -> str:
    """The biggest parts of the bundle (the executable holds the Python archive)."""
    internal = folder / "_internal"
    parts = {
        p.name: folder_size_mb(p) if p.is_dir() else p.stat().st_size / 1e6
        for p in internal.iterdir()
        if not p.is_symlink()
    }
    parts["executable + Python archive"] = exe(APP).stat().st_size / 1e6
    loose = sum(size for name, size in parts.items() if ".so" in name)
    parts = {name: size for name, size in parts.items() if ".so" not in name}
    parts["top-level libraries (libpython, OpenSSL, ...)"] = loose
    biggest = sorted(parts.items(), key=lambda item: -item[1])[:top]
    return ", ".join(f"{name} {size:.0f}" for name, size in biggest)


def exe(name: str) -> Path:
    folder = DIST / APP
    if sys.platform == "darwin" and (DIST / f"{APP}.app").exists():
        folder = DIST / f"{APP}.app" / "Contents" / "MacOS"
    if sys.platform == "win32":
        return folder / (f"{name}.exe" if name == APP else f"{name}.cmd")
    return folder / name


def cold_start(
    frozen: list[str], source: list[str], env: dict[str, str], repeats: int = 3
) -> tuple[float, float]:
    """Median seconds from process start until the main window is shown (then it exits).

    The frozen and the source start alternate, so a change in machine load during the
    measurement (CI runners and this shared machine) hits both sides alike.
    """
    env = dict(env, MANGALM_EXIT_WHEN_SHOWN="1")
    times: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(repeats):
        for side, cmd in enumerate((frozen, source)):
            times[side].append(run(cmd, env=env, timeout=120))
    return statistics.median(times[0]), statistics.median(times[1])


def smoke(tmp: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp / "home"))
    env.pop("MANGALM_DB", None)
    (tmp / "home").mkdir(exist_ok=True)
    gui, cli = exe(APP), exe("mangalm")
    for path in (gui, cli):
        if not path.exists():
            raise SystemExit(f"FAILED: {path} was not built")

    run([str(gui), "--self-test"], env=env, timeout=300)
    print("smoke: frozen GUI --self-test passed")

    db = tmp / "smoke.sqlite"
    csv = tmp / "invoices.csv"
    csv.write_text(SMALL_INVOICES, encoding="utf-8")
    run([str(cli), "demo", "--small", "--db", str(db)], env=env, timeout=300)
    run([str(cli), "import", "invoices", str(csv), "--db", str(db)], env=env)
    run([str(cli), "forecast", "--db", str(db)], env=env, timeout=600)
    run(
        [
            str(cli),
            "report",
            "sales-by-region",
            "--format",
            "pdf",
            "--out",
            str(tmp / "r.pdf"),
            "--db",
            str(db),
        ],
        env=env,
    )
    pdf = (tmp / "r.pdf").read_bytes()
    if b"NotoSans" not in pdf:  # resources/fonts came along and were embedded
        raise SystemExit("FAILED: the frozen report PDF does not embed the Noto fonts")
    history = tmp / "history.csv"
    small_history(history)
    run(
        [str(cli), "evaluate", "--history", str(history), "--columns", HISTORY_COLUMNS]
        + ["--origins", "1", "--horizon", "4", "-q"],
        env=env,
        timeout=600,
        echo=("*mangalm", "not scored"),
    )
    print("smoke: frozen CLI demo + import + forecast + report + evaluate passed")

    size = folder_size_mb(gui.parent)
    frozen, source = cold_start(
        [str(gui), "--db", str(db)], [sys.executable, "-m", "mangalm_desktop", "--db", str(db)], env
    )
    print(f"bundle size: {size:.0f} MB (limit {SIZE_LIMIT_MB} MB)")
    print(f"biggest parts (MB): {size_breakdown(gui.parent)}")
    print(
        f"cold start to main window: frozen {frozen:.2f} s, python -m {source:.2f} s, "
        f"ratio {frozen / source:.2f} (target < 2)"
    )
    if size > SIZE_LIMIT_MB:
        # A target, not a broken build: reported so it stays visible (docs/packaging.md).
        print(f"NOTE: bundle size target not met ({size:.0f} MB > {SIZE_LIMIT_MB} MB)")
    if frozen > 2 * source:
        print(f"NOTE: frozen start-up target not met (ratio {frozen / source:.2f} >= 2)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="only smoke-test dist/")
    args = parser.parse_args()
    if not args.no_build:
        build()
    with tempfile.TemporaryDirectory(prefix="mangalm-smoke-") as tmp:
        smoke(Path(tmp))
    print("frozen app OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
