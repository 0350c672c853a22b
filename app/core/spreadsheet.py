"""What every CSV or spreadsheet the app writes shares."""

from __future__ import annotations


def safe_cell(value: str) -> str:
    """Text a spreadsheet would run as a formula (``=HYPERLINK(…)``) is written as text."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value
