"""WhatsApp share: a ``wa.me`` click-to-chat link with the order summary (no paid API).

``https://wa.me/<number>?text=<summary>`` opens WhatsApp (app or web) on a chat with that
number and the summary typed in; the agent presses Send. The number must be the full
international form in digits only (no ``+``, no leading zeros, no spaces), which is what
:func:`normalise_phone` makes of what the store card holds (``098450 12345``,
``+91 98450-12345``, ``0091…``). Numbers typed without a country code get the default country
(India, ``91``; ``MailSettings.whatsapp_country``).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ..domain import formatting as fmt
from ..domain.errors import UserError
from ..orders.queries import OrderDetail

_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
NATIONAL_LENGTH = {"91": 10}  # digits after the country code, where we know it
MAX_SUMMARY_LINES = 15


def normalise_phone(raw: str | None, default_country: str = "91") -> str:
    """The number as international digits (``919845012345``) or :class:`UserError` in words."""
    text = (raw or "").strip()
    if not text:
        raise UserError(
            "The store has no phone number to share the order with on WhatsApp.",
            hint="Add the phone number on the store card.",
        )
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("+"):
        digits, international = compact[1:], True
    elif compact.startswith("00"):
        digits, international = compact[2:], True
    else:
        digits, international = compact, False
    if not digits.isdigit() or not digits.isascii():
        raise UserError(
            f"“{text}” is not a phone number WhatsApp can use: only digits, spaces, dashes and "
            "a leading + are allowed."
        )
    if not international:
        national = digits.lstrip("0")
        expected = NATIONAL_LENGTH.get(default_country)
        if (
            expected is not None
            and len(national) == expected + len(default_country)
            and (national.startswith(default_country))
        ):
            digits = national  # 91 98450 12345 typed without the +
        else:
            digits = default_country + national
    country = next((c for c in NATIONAL_LENGTH if digits.startswith(c)), None)
    if country is not None and len(digits) != len(country) + NATIONAL_LENGTH[country]:
        raise UserError(
            f"“{text}” is not a phone number WhatsApp can use: a number in country +{country} "
            f"has {NATIONAL_LENGTH[country]} digits after the country code "
            f"(this one has {len(digits) - len(country)})."
        )
    if not 8 <= len(digits) <= 15:
        raise UserError(
            f"“{text}” is not a phone number WhatsApp can use: an international number has 8 to "
            f"15 digits with its country code (this one has {len(digits)})."
        )
    return digits


def order_summary(o: OrderDetail) -> str:
    """The order in a few lines of plain text (WhatsApp message and e-mail body)."""
    what = "Return" if o.kind == "return" else "Order"
    lines = [
        f"{what} {o.number} for {o.store_name}, {fmt.day(o.order_date)}",
    ]
    for ln in o.lines[:MAX_SUMMARY_LINES]:
        lines.append(f"- {ln.name} × {fmt.quantity(abs(ln.quantity))}: {fmt.money(ln.line_total)}")
    if len(o.lines) > MAX_SUMMARY_LINES:
        lines.append(f"… and {len(o.lines) - MAX_SUMMARY_LINES} more lines")
    if o.discount_total:
        lines.append(f"Discounts: {fmt.money(o.discount_total)}")
    lines.append(f"Total: {fmt.money(o.total)} ({len(o.lines)} lines)")
    if o.requested_delivery_date:
        lines.append(f"Delivery requested: {fmt.day(o.requested_delivery_date)}")
    lines.append(f"Agent: {o.agent_name} ({o.agent_code})")
    return "\n".join(lines)


def whatsapp_link(phone: str, text: str) -> str:
    """``https://wa.me/<digits>?text=<url-encoded text>`` (``phone`` already normalised)."""
    return f"https://wa.me/{phone}?text={quote(text, safe='')}"
