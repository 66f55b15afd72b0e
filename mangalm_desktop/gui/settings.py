"""UI state (geometry, splitters, columns, last view) in one QSettings store.

Connections and other typed configuration live elsewhere; secrets never go here (keyring only).
Tests and the self-test point the store at a temporary folder with :func:`use_settings_dir`, so
they never read or overwrite a person's real layout.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings

ORGANIZATION = "Mangalm"
APPLICATION = "MangalmSales"
ENV_DIR = "MANGALM_SETTINGS_DIR"

_override: Path | None = None


def use_settings_dir(path: Path | str | None) -> None:
    """Keep UI state as an INI file under ``path`` (None: back to the platform's store)."""
    global _override
    _override = Path(path) if path is not None else None


def settings() -> QSettings:
    """A QSettings for UI state; cheap to create, so callers make one when they need it."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    folder = _override or (Path(os.environ[ENV_DIR]) if os.environ.get(ENV_DIR) else None)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        return QSettings(str(folder / f"{APPLICATION}.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)
