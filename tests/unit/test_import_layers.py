"""The layer contract stays strict: no sibling services that may import each other in a circle,
and no package of the app outside the contract (docs/architecture.md, "Layers")."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mangalm_desktop"


def _layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return layers


def _names(layer: str) -> list[str]:
    return [part.strip().strip("()") for part in layer.replace(":", "|").split("|")]


def test_no_layer_lets_its_members_import_each_other() -> None:
    """`:` would allow imports both ways between siblings, so cycles; only `|` (independent)."""
    loose = [layer for layer in _layers() if ":" in layer]
    assert loose == [], f"layers whose members may import each other: {loose}"


def test_every_package_of_the_app_is_in_the_layer_contract() -> None:
    listed = {name for layer in _layers() for name in _names(layer)}
    packages = {
        f"mangalm_desktop.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()
    }
    assert packages - listed == set(), "add these packages to the layers in pyproject.toml"


def test_security_sits_below_every_service() -> None:
    """Every service checks an Identity, so security may import none of them."""
    layers = [_names(layer) for layer in _layers()]
    security = next(i for i, names in enumerate(layers) if "mangalm_desktop.security" in names)
    for service in ("orders", "reports", "sync", "zoho", "imports", "forecasting"):
        at = next(i for i, names in enumerate(layers) if f"mangalm_desktop.{service}" in names)
        assert at < security, f"{service} must sit above security"
