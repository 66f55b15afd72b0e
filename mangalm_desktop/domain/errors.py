"""Errors a user can act on.

Anything raised as a :class:`UserError` is shown to the person as its message (CLI: on stderr
with exit code 2; GUI: in a dialog) and never as a traceback. Everything else is a bug.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user caused or can fix: bad file, wrong option, schema mismatch."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class SchemaTooNewError(UserError):
    """The database was written by a newer version of the app; opening it could corrupt it."""


class Cancelled(Exception):
    """Raised inside a long task when its cancel token was set; the task rolled back."""
