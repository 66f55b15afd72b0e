"""Order numbers (``A07-K3M-000123``): the rules live in :mod:`mangalm_desktop.db.numbering`,
below both the orders service and sync (sync renumbers unsent orders when the central server
refuses a device code). Re-exported here for the orders service and the CLI."""

from ..db.numbering import (
    DEVICE_KEY,
    allocate,
    device_code,
    format_number,
    note_central_number,
    parse_number,
    prefix_for,
)

__all__ = [
    "DEVICE_KEY",
    "allocate",
    "device_code",
    "format_number",
    "note_central_number",
    "parse_number",
    "prefix_for",
]
