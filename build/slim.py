"""Slim the frozen Linux folder after PyInstaller has collected it (called from installer.spec).

Why not PyInstaller's own ``strip=True``: it strips every binary, including the libraries that
auditwheel vendored into ``numpy.libs/`` and ``scipy.libs/``. Those were rewritten by patchelf,
and GNU strip turns them into files the loader refuses ("ELF load command address/offset not
page-aligned": OpenBLAS and libgfortran). They are already stripped, so skipping them costs
nothing. Everything else loses its symbol table and debug sections (about 65 MB).

Three steps, each safe on its own and proved by the frozen smoke test (build/build_app.py):

1. **Prune** top-level libraries that nothing in the bundle links to. PyInstaller collected the
   dependencies of every Qt plugin before installer.spec dropped the plugins it does not want
   (the GTK3 platform theme alone pulled in GTK, cairo, pango and gdk-pixbuf). A library is kept
   if it is reachable through DT_NEEDED from a root: every extension module, Qt plugin or
   ctypes-loaded library (anything outside the top-level library folder) and libpython, which
   the bootloader dlopens.
2. **Share** byte-identical copies of a library under the same name (numpy.libs and scipy.libs
   both vendor the same libgfortran and libquadmath): later copies become relative symlinks,
   which PyInstaller itself uses for Linux bundles.
3. **Strip** ``--strip-unneeded`` every ELF file except the executable (its archive is
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
from dataclasses import dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
EXTENSION = re.compile(r"\.(cpython-[^/]+|abi3)\.so$")
NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")


@dataclass
class SlimReport:
    """What slim_folder did, for the build log (sizes in bytes)."""

    skipped: str = ""
    pruned: list[str] = field(default_factory=list)
    pruned_bytes: int = 0
    shared: list[str] = field(default_factory=list)
    shared_bytes: int = 0
    stripped_files: int = 0
    stripped_bytes: int = 0

    def summary(self) -> str:
        if self.skipped:
            return f"slim: skipped ({self.skipped})"
        mb = 1e6
        return (
            f"slim: pruned {len(self.pruned)} unreferenced libraries "
            f"({self.pruned_bytes / mb:.1f} MB), shared {len(self.shared)} identical copies "
            f"({self.shared_bytes / mb:.1f} MB), stripped {self.stripped_files} files "
            f"({self.stripped_bytes / mb:.1f} MB)"
        )


def slim_folder(app_dir: Path, executable: str) -> SlimReport:
    """Prune, share and strip in ``app_dir`` (the one-folder app); see the module docstring."""
    report = SlimReport()
    if not sys.platform.startswith("linux"):
        report.skipped = f"not needed on {sys.platform}"
        return report
    tools = {name: shutil.which(name) for name in ("strip", "readelf")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        report.skipped = f"{', '.join(missing)} not found (install binutils)"
        return report
    internal = app_dir / "_internal"
    prune_unreferenced(internal, tools["readelf"], report)
    share_identical(internal, report)
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
