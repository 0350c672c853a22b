"""Reading one row's cells as what they should hold: text, dates, e-mail addresses.

Each reading that fails records its problem (line, column, code) on the plan and gives None, so
a planner reads every cell of a row and then looks at ``Row.failed`` once.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from app.imports.planning.plan import Plan, Problem

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y")
#: First characters with which a spreadsheet would read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")
#: What HR systems write for "none".
DASHES = ("-", "–", "—")


class Row:
    """The cells of one row, read by field name, each check recording its problem."""

    def __init__(self, plan: Plan, line: int, cells: list[str]):
        self.plan, self.line, self.cells = plan, line, cells
        self.failed = False

    def has(self, name: str) -> bool:
        """Whether the file has the column (the cell may still be empty)."""
        return name in self.plan.match.positions

    def fail(self, name: str | None, code: str, **params: str | int) -> None:
        """Record a problem with the cell ``name`` (or with the whole row, for None)."""
        self.failed = True
        header = self.plan.match.headers.get(name) if name else None
        self.plan.add_problem(Problem(code, line=self.line, column=header, params=params))

    def text(self, name: str) -> str | None:
        """The cell's text (stripped), None when empty or absent; checks length and formulas."""
        index = self.plan.match.positions.get(name)
        if index is None or index >= len(self.cells):
            value = ""
        else:
            value = " ".join(self.cells[index].split())
            if value in DASHES:
                value = ""
        col = self.plan.columns[name]
        if not value:
            if col.required:
                self.fail(name, "required")
            return None
        if value.startswith(FORMULA_STARTS) and not _is_number(value):
            self.fail(name, "formula", value=value[:40])
            return None
        if len(value) > col.max_length:
            self.fail(name, "too_long", limit=col.max_length)
            return None
        return value

    def date(self, name: str) -> date | None:
        """The cell as a date: ``dd.mm.yyyy`` as German HR systems write it, or ISO and kin."""
        value = self.text(name)
        if value is None:
            return None
        day, _, rest = value.partition(".")
        month, _, year = rest.partition(".")
        if len(year) == 4 and day.isdigit() and month.isdigit() and year.isdigit():
            try:  # dd.mm.yyyy, the common case, without strptime
                return date(int(year), int(month), int(day))
            except ValueError:
                pass  # e.g. 31.02.2021: reported below
        elif len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii():
            try:  # yyyy-mm-dd (the API's batches, some exports), without strptime
                return date.fromisoformat(value)
            except ValueError:
                pass
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(value, pattern).date()
            except ValueError:
                continue
        self.fail(name, "bad_date", value=value[:40])
        return None

    def email(self, name: str) -> str | None:
        """The cell as an e-mail address, in lower case."""
        value = self.text(name)
        if value is None:
            return None
        value = value.lower()
        if not EMAIL.match(value):
            self.fail(name, "bad_email", value=value[:60])
        return value


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", "."))
    except ValueError:
        return False
    return True
