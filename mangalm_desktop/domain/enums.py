"""Closed sets of values stored in the database as short strings."""

from __future__ import annotations

from enum import StrEnum


class OrderState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SYNCED = "synced"
    SENT_TO_ZOHO = "sent_to_zoho"
    INVOICED = "invoiced"
    CANCELLED = "cancelled"


class OrderKind(StrEnum):
    ORDER = "order"
    RETURN = "return"


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class CallOutcome(StrEnum):
    ORDERED = "ordered"
    CALL_BACK = "call_back"
    NO_ANSWER = "no_answer"
    NOT_NEEDED = "not_needed"
    NO_ORDER = "no_order"  # the store was reached and said no: a reason from no_order_reason


class SizeClass(StrEnum):
    SMALL = "S"
    MEDIUM = "M"
    LARGE = "L"


class Role(StrEnum):
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    PARKED = "parked"


class PaymentMode(StrEnum):
    CASH = "cash"
    CHEQUE = "cheque"
    UPI = "upi"
    BANK_TRANSFER = "bank_transfer"


class PaymentStatus(StrEnum):
    COLLECTED = "collected"
    APPROVED = "approved"
    REJECTED = "rejected"
