"""Slim the frozen Linux folder after PyInstaller has collected it (called from installer.spec).

Why not PyInstaller's own ``strip=True``: it strips every binary, including the libraries that
auditwheel vendored into ``numpy.libs/`` and ``scipy.libs/``. Those were rewritten by patchelf,
and GNU strip turns them into files the loader refuses ("ELF load command address/offset not
page-aligned": OpenBLAS and libgfortran). They are already stripped, so skipping them costs
nothing. Everything else loses its symbol table and debug sections (about 65 MB).

Four steps, each safe on its own and proved by the frozen smoke test (build/build_app.py):

1. **Prune** top-level libraries that nothing in the bundle links to. PyInstaller collected the
   dependencies of every Qt plugin before installer.spec dropped the plugins it does not want
   (the GTK3 platform theme alone pulled in GTK, cairo, pango and gdk-pixbuf). A library is kept
   if it is reachable through DT_NEEDED from a root: every extension module, Qt plugin or
   ctypes-loaded library (anything outside the top-level library folder) and libpython, which
   the bootloader dlopens.
2. **Share** byte-identical copies of a library under the same name (numpy.libs and scipy.libs
   both vendor the same libgfortran and libquadmath): later copies become relative symlinks,
   which PyInstaller itself uses for Linux bundles.
3. **Reduce ICU data**: Qt links libicudata (32 MB), one blob holding every ICU bundle. Qt6Core
   calls only case mapping, converters, collation and time-zone ids/names, so the bundles none
   of those read (display names of languages, currencies, units and regions, break-iterator
   dictionaries, transliterators, rule-based number formats) are removed with ICU's own
   ``icupkg`` and the blob is relinked under the same soname with ``as``/``ld`` (about 15 MB).
   So are the multi-byte East Asian converter tables (4.6 MB): the app never decodes text
   through Qt. tests/unit/test_build_slim.py compares Qt's collation, case mapping, time-zone
   names and single-byte codecs with the full and the reduced library. Skipped (with a note)
   without icupkg (Debian/Ubuntu package icu-devtools).
4. **Strip** ``--strip-unneeded`` every ELF file except the executable (its archive is
   embedded in it) and the auditwheel folders; a file is replaced only if it got smaller.

Only on Linux, and only where binutils' ``strip`` and ``readelf`` exist; elsewhere a no-op that
says so. Windows DLLs from wheels carry no debug info, and on macOS PyInstaller signs the
binaries, which stripping afterwards would invalidate.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
EXTENSION = re.compile(r"\.(cpython-[^/]+|abi3)\.so$")
NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
SONAME = re.compile(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]")
# ICU bundles no Qt6Core call reads (it uses u_strTo{Upper,Lower}, ucnv_*, ucol_*, ucal_*).
ICU_UNUSED = ("lang/", "curr/", "unit/", "region/", "brkitr/", "translit/", "rbnf/")
# Converter tables above this size are the multi-byte East Asian code pages (GB18030, Big5,
# Shift-JIS, EUC, their EBCDIC forms: 36 tables, 4.6 MB in ICU 73; the largest single-byte table
# is under 10 KB). Qt offers them through QStringConverter, which the app never uses: it reads
# every file with Python's own codecs. Extension tables built on them go with them.
ICU_MULTIBYTE_CNV_BYTES = 20_000
ICU_DEPENDS = re.compile(r"Item (\S+) depends on missing item")


@dataclass
class SlimReport:
    """What slim_folder did, for the build log (sizes in bytes)."""

    skipped: str = ""
    pruned: list[str] = field(default_factory=list)
    pruned_bytes: int = 0
    shared: list[str] = field(default_factory=list)
    shared_bytes: int = 0
    icu_bytes: int = 0
    icu_note: str = ""
    stripped_files: int = 0
    stripped_bytes: int = 0

    def summary(self) -> str:
        if self.skipped:
            return f"slim: skipped ({self.skipped})"
        mb = 1e6
        return (
            f"slim: pruned {len(self.pruned)} unreferenced libraries "
            f"({self.pruned_bytes / mb:.1f} MB), shared {len(self.shared)} identical copies "
            f"({self.shared_bytes / mb:.1f} MB), ICU data {self.icu_note or 'reduced'} "
            f"({self.icu_bytes / mb:.1f} MB), stripped {self.stripped_files} files "
            f"({self.stripped_bytes / mb:.1f} MB)"
        )


def slim_folder(app_dir: Path, executable: str) -> SlimReport:
    """Prune, share and strip in ``app_dir`` (the one-folder app); see the module docstring."""
    report = SlimReport()
    if not sys.platform.startswith("linux"):
        report.skipped = f"not needed on {sys.platform}"
        return report
    tools = {name: shutil.which(name) for name in ("strip", "readelf", "as", "ld")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        report.skipped = f"{', '.join(missing)} not found (install binutils)"
        return report
    internal = app_dir / "_internal"
    prune_unreferenced(internal, tools["readelf"], report)
    share_identical(internal, report)
    icu = [p for p in internal.rglob("libicudata.so*") if not p.is_symlink()]
    if not icu:
        report.icu_note = "not bundled"
    elif shutil.which("icupkg") is None:
        report.icu_note = "kept: icupkg not found (install icu-devtools)"
    for path in icu:
        report.icu_bytes += reduce_icu_data(path, tools)
    if icu and not report.icu_bytes and not report.icu_note:
        report.icu_note = "kept: not the expected library layout"
    strip_binaries(app_dir, executable, tools["strip"], report)
    return report


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as f:
        return f.read(4) == ELF_MAGIC


def is_vendored(path: Path, internal: Path) -> bool:
    """In an auditwheel folder (``numpy.libs/``...): patchelf-rewritten, must not be stripped."""
    return any(part.endswith(".libs") for part in path.relative_to(internal).parts[:-1])


def _is_linked_library(path: Path, internal: Path) -> bool:
    """A top-level library PyInstaller collected as a dependency (not a root)."""
    return (
        path.parent == internal
        and ".so" in path.name
        and not EXTENSION.search(path.name)
        and not path.name.startswith("libpython")
    )


def needed(path: Path, readelf: str) -> list[str]:
    out = subprocess.run(
        [readelf, "-d", "-W", str(path)], capture_output=True, text=True, check=False
    ).stdout
    return NEEDED.findall(out)


def prune_unreferenced(internal: Path, readelf: str, report: SlimReport) -> None:
    """Delete top-level libraries no root reaches through DT_NEEDED."""
    libraries: dict[str, Path] = {
        p.name: p for p in internal.iterdir() if _is_linked_library(p, internal)
    }
    roots = [p for p in internal.rglob("*") if is_elf(p) and not _is_linked_library(p, internal)]
    reached: set[str] = set()
    seen: set[Path] = set()
    stack = list(roots)
    while stack:
        path = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in needed(path, readelf):
            if name in libraries and name not in reached:
                reached.add(name)
                stack.append(libraries[name].resolve())
    for name in sorted(set(libraries) - reached):
        path = libraries[name]
        if not path.is_symlink():
            report.pruned_bytes += path.stat().st_size
        path.unlink()
        report.pruned.append(name)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def share_identical(internal: Path, report: SlimReport) -> None:
    """Replace later byte-identical copies of a same-named library with relative symlinks."""
    first: dict[tuple[str, int, str], Path] = {}
    for path in sorted(internal.rglob("*.so*")):
        if not is_elf(path):
            continue
        key = (path.name, path.stat().st_size, _digest(path))
        original = first.setdefault(key, path)
        if original is path:
            continue
        size = path.stat().st_size
        path.unlink()
        path.symlink_to(os.path.relpath(original, path.parent))
        report.shared.append(str(path.relative_to(internal)))
        report.shared_bytes += size


def strip_binaries(app_dir: Path, executable: str, strip: str, report: SlimReport) -> None:
    """``strip --strip-unneeded`` each ELF file but the executable and auditwheel folders."""
    internal = app_dir / "_internal"
    for path in sorted(app_dir.rglob("*")):
        if path.name == executable and path.parent == app_dir:
            continue
        if not is_elf(path) or is_vendored(path, internal):
            continue
        before = path.stat().st_size
        tmp = path.with_name(path.name + ".stripped")
        done = subprocess.run(
            [strip, "--strip-unneeded", "-o", str(tmp), str(path)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size >= before:
            tmp.unlink(missing_ok=True)
            continue
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
        report.stripped_files += 1
        report.stripped_bytes += before - path.stat().st_size


def _readelf(readelf: str, *args: str) -> str:
    return subprocess.run([readelf, "-W", *args], capture_output=True, text=True, check=True).stdout


def _multibyte_converters(icupkg: str, package: Path, items: list[str], work: Path) -> list[str]:
    """The converter tables of ``package`` larger than ICU_MULTIBYTE_CNV_BYTES."""
    tables = [item for item in items if item.endswith(".cnv") and "/" not in item]
    if not tables:
        return []
    (work / "cnv.txt").write_text("\n".join(tables) + "\n", encoding="utf-8")
    (work / "cnv").mkdir()
    subprocess.run(
        [icupkg, "-x", str(work / "cnv.txt"), "-d", str(work / "cnv"), str(package)],
        capture_output=True,
        check=True,
    )
    return [t for t in tables if (work / "cnv" / t).stat().st_size > ICU_MULTIBYTE_CNV_BYTES]


def _remove_items(icupkg: str, full: Path, reduced: Path, unused: list[str], work: Path) -> None:
    """``icupkg -r``; items that depend on a removed one (converter extensions) go too."""
    unused = list(unused)
    for _ in range(3):
        (work / "unused.txt").write_text("\n".join(unused) + "\n", encoding="utf-8")
        done = subprocess.run(
            [icupkg, "-r", str(work / "unused.txt"), str(full), str(reduced)],
            capture_output=True,
            text=True,
            check=False,
        )
        dependents = ICU_DEPENDS.findall(done.stdout + done.stderr)
        if done.returncode == 0 or not dependents:
            done.check_returncode()
            return
        unused += sorted(set(dependents) - set(unused))
    done.check_returncode()


def reduce_icu_data(library: Path, tools: dict[str, str | None]) -> int:
    """Replace ``library`` (libicudata) by one without the ICU_UNUSED bundles; bytes saved.

    The library is one exported symbol (``icudtNN_dat``) holding an ICU common-data package.
    The package is cut out, reduced with ``icupkg -r`` and assembled back (``.incbin``) into a
    library with the same soname and symbol. Returns 0 and leaves the file alone if icupkg is
    missing or anything is not as expected.
    """
    icupkg = shutil.which("icupkg")
    readelf = tools["readelf"]
    if icupkg is None or readelf is None or sys.byteorder != "little":
        return 0
    symbols = re.findall(
        r"^\s*\d+:\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+OBJECT\s+GLOBAL\s+\S+\s+(\d+)\s+(icudt(\d+)_dat)$",
        _readelf(readelf, "--dyn-syms", "-s", str(library)),
        flags=re.MULTILINE,
    )
    sonames = SONAME.findall(_readelf(readelf, "-d", str(library)))
    if not symbols or len(sonames) != 1:
        return 0
    value, size, section, symbol, version = symbols[0]
    address = int(value, 16)
    length = int(size, 0)
    offset = None
    for line in _readelf(readelf, "-S", str(library)).splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if m and m.group(1) == section:
            offset = int(m.group(3), 16) + address - int(m.group(2), 16)
    if offset is None:
        return 0
    package = f"icudt{version}l"  # the name inside the package; icupkg names it after the file
    with tempfile.TemporaryDirectory(prefix="mangalm-icu-") as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        (work / "out").mkdir()
        full = work / "in" / f"{package}.dat"
        with library.open("rb") as f:
            f.seek(offset)
            full.write_bytes(f.read(length))
        items = subprocess.run(
            [icupkg, "-l", str(full)], capture_output=True, text=True, check=True
        ).stdout.split()
        unused = [item for item in items if item.startswith(ICU_UNUSED)]
        unused += _multibyte_converters(icupkg, full, items, work)
        if not unused or len(unused) == len(items):
            return 0
        reduced = work / "out" / f"{package}.dat"
        _remove_items(icupkg, full, reduced, unused, work)
        (work / "data.s").write_text(
            "\n".join(
                [
                    "    .section .rodata",
                    f"    .globl {symbol}",
                    f"    .type {symbol}, @object",
                    "    .balign 16",
                    f"{symbol}:",
                    f'    .incbin "{reduced}"',
                    f"    .size {symbol}, . - {symbol}",
                    '    .section .note.GNU-stack,"",@progbits',
                    "",
                ]
            ),
            encoding="utf-8",
        )
        built = work / library.name
        subprocess.run(
            [tools["as"], "-o", str(work / "data.o"), str(work / "data.s")],
            capture_output=True,
            check=True,
        )
        subprocess.run(
            [tools["ld"], "-shared", "-soname", sonames[0], "-o", str(built), str(work / "data.o")],
            capture_output=True,
            check=True,
        )
        check = re.findall(
            rf"OBJECT\s+GLOBAL\s+\S+\s+\d+\s+{symbol}$",
            _readelf(readelf, "--dyn-syms", str(built)),
            flags=re.MULTILINE,
        )
        if not check:
            return 0
        saved = library.stat().st_size - built.stat().st_size
        shutil.copymode(library, built)
        shutil.move(str(built), library)
        return saved
