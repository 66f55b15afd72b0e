"""Errors the order services raise; all are :class:`UserError`, so CLI and GUI show words."""

from __future__ import annotations

from ..domain.errors import UserError
from .model import Issue


class OrderInvalid(UserError):
    """The draft has problems that block saving; ``issues`` lists every one of them."""

    def __init__(self, issues: list[Issue]) -> None:
        lines = "\n".join(f"- {i}" for i in issues)
        super().__init__(f"The order cannot be saved:\n{lines}")
        self.issues = issues


class CreditLimitExceeded(UserError):
    """Submitting would exceed the store's credit limit and the agent has not confirmed it."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message, hint="Confirm to submit anyway (--accept-credit-warning).")
        self.issue = issue


class OrderStateError(UserError):
    """The action is not allowed in the order's current state (docs/orders.md "States")."""
