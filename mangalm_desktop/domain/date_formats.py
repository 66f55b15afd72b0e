"""The date formats exports are read in, shared by the importer and ``mangalm evaluate``'s reader.

Why one list: both read the same kinds of files (Zoho exports, a shop's own history), and a
file that one reads as 15 March must not be read as 3 something by the other. Both pick one
format for the whole file; where its dates fit two formats that give different days (every
day <= 12, as in 01/02/2024), they refuse and ask for the format rather than guess.
"""

from __future__ import annotations

COMMON_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%d-%m-%Y",
    "%d-%b-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
)
