"""The strict packages stay strict (docs/architecture.md, "Types"): mypy's strict override
covers domain, orders, sync and security, and none of their modules may sit in the baseline
override, which switches error codes off. Listing one there would quietly turn strict off for
it while the config still reads "strict"."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STRICT = ("domain", "orders", "payments", "schemes", "sync", "security", "printing", "beats")


def _overrides() -> list[dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    overrides: list[dict[str, Any]] = config["tool"]["mypy"]["overrides"]
    return overrides


def _modules(override: dict[str, Any]) -> list[str]:
    module = override["module"]
    return [module] if isinstance(module, str) else list(module)


def test_strict_packages_have_the_strict_override() -> None:
    strict = next(o for o in _overrides() if o.get("disallow_untyped_defs"))
    # New packages join the strict list (HELPERS: never the baseline); these must stay in it.
    assert {f"mangalm_desktop.{p}.*" for p in STRICT} <= set(_modules(strict))


def test_no_strict_module_is_in_the_baseline() -> None:
    prefixes = tuple(f"mangalm_desktop.{p}." for p in STRICT)
    relaxed = [
        m
        for o in _overrides()
        if o.get("disable_error_code")
        for m in _modules(o)
        if m.startswith(prefixes)
    ]
    assert not relaxed, (
        f"{', '.join(relaxed)} in mypy's baseline override: strict packages may not have error "
        "codes disabled; fix the type errors instead"
    )
