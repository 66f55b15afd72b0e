"""Cells that a spreadsheet will never run: the one place every CSV/XLSX writer goes through.

Why: store, product, region and agent names come from Zoho pulls, history files and agents'
typing. A name such as ``=cmd|' /C calc'!A0`` or ``=HYPERLINK("http://evil", "click")`` becomes
a live formula when a manager opens an export in Excel or LibreOffice (CSV injection, OWASP).
The OWASP rule is applied to every *text* cell: a text starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a leading apostrophe, which spreadsheets show as text. Numbers
(quantities, money, shares) are written as numbers and are not text, so ``-12.50`` stays a
number. In XLSX files text cells are also stored with the string type, never as formulas
(openpyxl turns any string starting with ``=`` into a formula unless told otherwise), and
characters XML cannot hold are dropped instead of failing the whole export.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""OWASP "CSV injection": first characters that make a spreadsheet read a cell as a formula."""

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters an XLSX (XML 1.0) cannot store; openpyxl raises on them."""


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet shows it and never evaluates it (OWASP rule)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_cell(value: object) -> object:
    """A value for ``csv.writer``: text made safe, anything else (numbers, None) unchanged."""
    return safe_text(value) if isinstance(value, str) else value


def csv_row(values: Any) -> list[object]:
    """Every cell of a row through :func:`csv_cell`."""
    return [csv_cell(v) for v in values]


def xlsx_cell(ws: Any, row: int, column: int, value: object) -> Any:
    """Write ``value`` into openpyxl sheet ``ws`` so it can never be a formula; returns the cell.

    Text is cleaned of XML-illegal characters, gets the OWASP apostrophe when it starts with a
    formula character, and is forced to the string type.
    """
    if isinstance(value, str):
        text = safe_text(_XML_ILLEGAL.sub("", value))
        cell = ws.cell(row=row, column=column)
        cell.value = text
        cell.data_type = "s"  # openpyxl guessed 'f' for "=..."; a string it is
        return cell
    return ws.cell(row=row, column=column, value=value)
