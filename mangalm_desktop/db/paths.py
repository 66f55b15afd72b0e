"""Where the app keeps its files (platform conventions via platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "MangalmSales"
APP_AUTHOR = "Mangalm"


# platformdirs is imported when a path is first asked for: it costs ~15 ms of the app's cold
# start, before any path is needed (benchmarks/gui_bench.py).


def data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


DEMO_DB_NAME = "demo.sqlite"


def demo_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The demo company's database, one file for both faces: ``mangalm demo`` writes it and
    ``mangalm-desktop --demo`` opens it (``--db`` wins; ``MANGALM_DB`` names the real database,
    never the demo)."""
    if explicit:
        return Path(explicit).expanduser()
    return data_dir() / DEMO_DB_NAME


def default_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--db`` wins, then ``MANGALM_DB``, then ``<user data dir>/mangalm.sqlite``."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("MANGALM_DB")
    if env:
        return Path(env).expanduser()
    return data_dir() / "mangalm.sqlite"
