"""build/slim.py on a small made-up bundle of real ELF files: what it prunes, shares and strips.

The frozen smoke test proves the real bundle still works after slimming; these tests pin the
rules themselves (a needed library is never pruned, auditwheel folders and the executable are
never stripped, a stripped extension module still imports).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not (shutil.which("strip") and shutil.which("readelf")),
    reason="build/slim.py works on Linux with binutils only",
)


def load_slim():
    name = "mangalm_build_slim"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "build" / "slim.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def debug_extension() -> Path:
    """A real extension module that still carries debug info (SQLAlchemy's Cython row)."""
    from sqlalchemy.engine import _row_cy

    return Path(_row_cy.__file__)


def test_prune_keeps_what_roots_need_and_deletes_the_rest(tmp_path):
    slim = load_slim()
    if not getattr(zlib, "__file__", None):
        pytest.skip("zlib is built into this Python")
    root_ext = Path(zlib.__file__)
    needs = slim.needed(root_ext, shutil.which("readelf"))
    assert "libz.so.1" in needs
    internal = tmp_path / "App" / "_internal"
    (internal / "pkg").mkdir(parents=True)
    shutil.copy(root_ext, internal / "zlib.cpython-311-x86_64-linux-gnu.so")  # a root
    shutil.copy(root_ext, internal / "pkg" / "libplugin.so")  # a root (package folder)
    shutil.copy(root_ext, internal / "libz.so.1")  # needed by the roots
    shutil.copy(root_ext, internal / "libunused.so.9")  # needed by nothing
    shutil.copy(root_ext, internal / "libpython3.11.so.1.0")  # dlopened by the bootloader
    (internal / "libpluginlink.so.6").symlink_to("pkg/libplugin.so")  # a link nobody needs

    report = slim.SlimReport()
    slim.prune_unreferenced(internal, shutil.which("readelf"), report)

    assert sorted(report.pruned) == ["libpluginlink.so.6", "libunused.so.9"]
    assert (internal / "libz.so.1").exists()
    assert (internal / "libpython3.11.so.1.0").exists()
    assert (internal / "pkg" / "libplugin.so").exists()
    assert not (internal / "libunused.so.9").exists()
    assert report.pruned_bytes == root_ext.stat().st_size  # the link's bytes are not counted


def test_share_links_identical_copies_only(tmp_path):
    slim = load_slim()
    ext = debug_extension()
    internal = tmp_path / "_internal"
    for folder in ("a.libs", "b.libs", "c.libs"):
        (internal / folder).mkdir(parents=True)
    shutil.copy(ext, internal / "a.libs" / "libdup.so.1")
    shutil.copy(ext, internal / "b.libs" / "libdup.so.1")
    shutil.copy(zlib.__file__, internal / "c.libs" / "libdup.so.1")  # same name, other bytes

    report = slim.SlimReport()
    slim.share_identical(internal, report)

    link = internal / "b.libs" / "libdup.so.1"
    assert link.is_symlink() and link.resolve() == (internal / "a.libs" / "libdup.so.1")
    assert not (internal / "c.libs" / "libdup.so.1").is_symlink()
    assert report.shared == ["b.libs/libdup.so.1"]


def test_strip_skips_executable_and_auditwheel_folders_and_output_still_imports(tmp_path):
    slim = load_slim()
    ext = debug_extension()
    app = tmp_path / "App"
    internal = app / "_internal"
    (internal / "sqlalchemy" / "engine").mkdir(parents=True)
    (internal / "numpy.libs").mkdir()
    target = internal / "sqlalchemy" / "engine" / ext.name
    shutil.copy(ext, target)
    shutil.copy(ext, internal / "numpy.libs" / "libvendored.so")
    shutil.copy(ext, app / "App")  # stands for the executable with its embedded archive

    report = slim.SlimReport()
    slim.strip_binaries(app, "App", shutil.which("strip"), report)

    size = ext.stat().st_size
    assert target.stat().st_size < size
    assert (internal / "numpy.libs" / "libvendored.so").stat().st_size == size
    assert (app / "App").stat().st_size == size
    assert report.stripped_files == 1 and report.stripped_bytes == size - target.stat().st_size

    # The stripped extension loads and initialises, in a fresh interpreter where the original
    # was never imported (so nothing cached can answer instead).
    load = (
        "import importlib.util, sys; "
        f"spec = importlib.util.spec_from_file_location('sqlalchemy.engine._row_cy', {str(target)!r}); "
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
        "assert 'sqlalchemy' not in sys.modules; print(m.BaseRow.__name__)"
    )
    done = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "BaseRow"


def test_slim_folder_says_why_it_did_nothing(monkeypatch, tmp_path):
    slim = load_slim()
    monkeypatch.setattr(slim.sys, "platform", "win32")
    assert slim.slim_folder(tmp_path, "App").summary() == "slim: skipped (not needed on win32)"


ICU_PROBE = r"""
import functools, json
from PySide6.QtCore import (QCollator, QCoreApplication, QDateTime, QLocale, QStringConverter,
    QStringDecoder, QStringEncoder, Qt, QTimeZone)

app = QCoreApplication([])
out = {}
words = ["item 10", "item 2", "Zebra", "zebra", "Äpfel", "apple", "Øre", "ökonom", "çay", "ग्राहक",
         "कपड़ा", "मराठी", "ગુજરાતી", "தமிழ்", "中文", "日本", "한국", "ıspanak", "İstanbul", "straße",
         "strasse", "", "123", "١٢٣"]
for name in ["C", "en_IN", "hi_IN", "mr_IN", "gu_IN", "ta_IN", "bn_IN", "de_DE", "sv_SE", "tr_TR",
             "zh_CN", "ja_JP", "ko_KR", "ar_EG"]:
    for numeric in (False, True):
        for cs in (Qt.CaseSensitive, Qt.CaseInsensitive):
            c = QCollator(QLocale(name))
            c.setNumericMode(numeric)
            c.setCaseSensitivity(cs)
            out[f"sort {name} {numeric} {cs}"] = sorted(words, key=functools.cmp_to_key(c.compare))
for name in ["C", "en_IN", "hi_IN", "tr_TR", "az_AZ", "el_GR", "lt_LT", "de_DE", "nl_NL"]:
    for s in ["iıİI istanbul", "άλφα ΆΛΦΑ", "ßtraße", "ijsland IJsland", "हिन्दी", "ǅemal"]:
        out[f"case {name} {s}"] = [QLocale(name).toUpper(s), QLocale(name).toLower(s)]
when = QDateTime.fromString("2025-07-01T12:00:00Z", Qt.ISODate)
for zone in [b"Asia/Kolkata", b"Asia/Calcutta", b"America/New_York", b"Europe/London", b"UTC",
             b"Asia/Kathmandu", b"Australia/Lord_Howe", b"Pacific/Chatham"]:
    tz = QTimeZone(zone)
    out[f"tz {zone}"] = [tz.isValid(), bytes(tz.id()).decode()]
    for name in ["en_IN", "hi_IN", "de_DE", "ja_JP"]:
        for tt in (QTimeZone.StandardTime, QTimeZone.DaylightTime, QTimeZone.GenericTime):
            for nt in (QTimeZone.LongName, QTimeZone.ShortName, QTimeZone.OffsetName):
                out[f"tzname {zone} {name} {tt} {nt}"] = tz.displayName(tt, nt, QLocale(name))
        out[f"tzname {zone} {name} at"] = tz.displayName(when, QTimeZone.LongName, QLocale(name))
out["tz ids"] = [bytes(i).decode() for i in QTimeZone.availableTimeZoneIds()]
out["codecs"] = sorted(QStringConverter.availableCodecs())
for codec in ["Shift_JIS", "GB18030", "windows-1252", "ISO-8859-15", "EUC-KR", "Big5", "KOI8-R"]:
    out[f"codec {codec}"] = [QStringEncoder(codec).isValid(), QStringDecoder(codec).name()]
icu = sorted({l.split()[-1] for l in open("/proc/self/maps") if "libicudata" in l})
print(json.dumps({"icu": icu, "out": out}, ensure_ascii=False))
"""


def test_reduced_icu_data_gives_qt_the_same_answers(tmp_path):
    """Qt's ICU uses (collation, case mapping, time-zone names, codecs) are unchanged."""
    slim = load_slim()
    if shutil.which("icupkg") is None:
        pytest.skip("icupkg (icu-devtools) is not installed")
    import PySide6

    original = Path(PySide6.__file__).parent / "Qt" / "lib"
    found = sorted(p for p in original.glob("libicudata.so*") if not p.is_symlink())
    if not found:
        pytest.skip("this PySide6 does not ship ICU")
    reduced = tmp_path / found[0].name
    shutil.copy(found[0], reduced)
    tools = {name: shutil.which(name) for name in ("readelf", "as", "ld")}
    saved = slim.reduce_icu_data(reduced, tools)
    assert saved > 10e6 and reduced.stat().st_size + saved == found[0].stat().st_size

    def probe(preload: Path | None) -> dict:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        if preload:
            env["LD_PRELOAD"] = str(preload)  # satisfies Qt's libicudata.so.NN by soname
        done = subprocess.run(
            [sys.executable, "-c", ICU_PROBE], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    full, small = probe(None), probe(reduced)
    assert full["icu"] == [str(found[0])] and small["icu"] == [str(reduced)]
    assert len(full["out"]["codecs"]) > 100 and "Asia/Kolkata" in full["out"]["tz ids"]
    assert len(set(map(tuple, (v for k, v in full["out"].items() if k.startswith("sort "))))) > 3
    # The multi-byte East Asian converters are left out on purpose (build/slim.py): the app
    # never decodes text through Qt. Every other answer, single-byte codecs included, is kept.
    gone = {"codec Shift_JIS", "codec GB18030", "codec EUC-KR", "codec Big5"}
    assert all(full["out"][k][0] and not small["out"][k][0] for k in gone)
    full_codecs, small_codecs = set(full["out"]["codecs"]), set(small["out"]["codecs"])
    assert small_codecs < full_codecs and len(small_codecs) > 60
    kept = {"windows-1252", "ISO-8859-15", "KOI8-R", "IBM437", "ISCII,version=0", "macintosh"}
    assert kept & full_codecs == kept & small_codecs and len(kept & small_codecs) >= 4
    drop = gone | {"codecs"}
    assert {k: v for k, v in small["out"].items() if k not in drop} == {
        k: v for k, v in full["out"].items() if k not in drop
    }
