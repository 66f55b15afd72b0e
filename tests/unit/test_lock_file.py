"""requirements/lock.txt covers every dependency pyproject.toml names (docs/security.md
"Supply chain"): CI installs only the lock, so a dependency added without regenerating it would
be missing; this says which, and how to fix it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_every_dependency_is_pinned_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    lock = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    pinned = {
        m.group(1).lower().replace("_", "-")
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock, re.M)
    }
    missing = sorted(wanted - pinned)
    assert not missing, (
        f"{', '.join(missing)} in pyproject.toml but not in requirements/lock.txt: regenerate "
        "the lock (the command is in its header)"
    )
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 7)[-1])
    unhashed = [b.split("==")[0] for b in blocks if "==" in b and "--hash=sha256:" not in b]
    assert not unhashed
