"""Writing the app's own files safely: never through a symlink, never half-written, private.

Why one module: exports, order confirmations, error reports, settings and backups all leave
data on the laptop's disk. Each goes through :func:`atomic_target` (a temporary file beside the
target, created 0600 by ``mkstemp``, renamed into place only when complete) so a failed write
leaves the previous file intact, and a target that is a symbolic link is refused rather than
followed (someone who planted ``report.pdf -> ~/.ssh/authorized_keys`` gains nothing). Folders
the app creates for its data are 0700 and its files 0600 on POSIX (:func:`private_dir`,
:func:`make_private`): other accounts on a shared laptop cannot read them. The small JSON
settings files (central connection, Zoho, mail) are read and written by
:func:`load_json_settings` / :func:`save_json_settings`, so each is private, atomic and says in
words when it is damaged.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..domain.errors import UserError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S", bound="DataclassInstance")

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def refuse_symlink(path: Path) -> None:
    """:class:`UserError` when ``path`` is a symbolic link (dangling or not)."""
    if Path(path).is_symlink():
        raise UserError(
            f"{path} is a symbolic link; the app does not write through links",
            hint="Choose another file name, or remove the link first.",
        )


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """Yield a private temporary path beside ``path``; rename it onto ``path`` when the block
    ends without error, delete it otherwise."""
    path = Path(path)
    if not path.parent.exists():
        raise UserError(
            f"the folder {path.parent} does not exist", hint="create it or pick another"
        )
    refuse_symlink(path)
    if path.exists() and not path.is_file():
        raise UserError(f"{path} is not a file (a folder or a device); nothing was written")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


PRIVATE_UMASK = 0o077


@contextmanager
def private_umask() -> Iterator[None]:
    """Files and folders created inside the block are 0600/0700 on POSIX (umask 077).

    The CLI runs each command inside it and the GUI sets it for its whole run, so the database
    and its -wal/-shm, logs, settings, error reports, backups and exports are never readable by
    other accounts on the laptop, whatever created them (SQLite, Qt, the logging module).
    """
    if os.name != "posix":
        yield
        return
    old = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(old)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it 0700 on POSIX; returns it."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if os.name == "posix":
        os.chmod(path, PRIVATE_DIR)
    return path


def make_private(path: Path) -> Path:
    """Make an existing file 0600 on POSIX (no-op elsewhere, or if it vanished); returns it."""
    path = Path(path)
    if os.name == "posix":
        try:
            if stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE:
                os.chmod(path, PRIVATE_FILE)
        except FileNotFoundError:
            pass
    return path


def load_json_settings(path: Path, cls: type[S], what: str, *, strict: bool = False) -> S:
    """The settings dataclass ``cls`` saved at ``path``, or ``cls()`` when there is no file.

    Keys ``cls`` does not know are skipped (a newer version's file still opens) unless
    ``strict``. A file that is not JSON, not an object or holds a wrong value is a
    :class:`UserError` naming ``what`` and the file: the user can fix or delete it."""
    path = Path(path)
    if not path.exists():
        return cls()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        if not strict:
            known = {f.name for f in fields(cls)}
            raw = {k: v for k, v in raw.items() if k in known}
        return cls(**raw)
    except (ValueError, TypeError) as exc:
        raise UserError(f"The {what} in {path} are damaged: {exc}") from exc


def save_json_settings(path: Path, settings: DataclassInstance) -> Path:
    """Write ``settings`` as JSON at ``path``: 0600, atomically, never through a symlink; the
    folder is created 0700 when missing. Returns ``path``."""
    path = Path(path)
    if not path.parent.exists():
        private_dir(path.parent)
    with atomic_target(path) as tmp:
        tmp.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    return path
