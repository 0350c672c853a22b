"""What checking a file finds: its problems, and the plan of what importing it would change.

The plan holds the values to write (new rows, and per changed row its id and new values), so
the preview, the CLI's ``--dry-run`` and ``applying`` all read the same thing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from app.core.types import DbSession
from app.imports.columns import Column, HeaderMatch
from app.imports.reading import FileProblem

if TYPE_CHECKING:
    from app.imports.planning.cells import Row

#: Problems kept for the report; the count covers all of them.
PROBLEMS_KEPT = 1000

#: A value an import writes or shows: text, an id, a date, a flag, or None for an empty cell.
Value = str | int | date | bool | None

#: Called with (rows done, rows expected) while a file is checked or applied.
Progress = Callable[[int, int], None]


@dataclass
class Problem:
    """One thing wrong with the file: where (line, column header) and what (a message code)."""

    code: str
    line: int | None = None
    column: str | None = None
    #: Put into the message (see ``messages.py``).
    params: dict[str, str | int] = field(default_factory=dict)

    @classmethod
    def of_file(cls, problem: FileProblem) -> Problem:
        """The problem of a file that cannot be read as a whole."""
        return cls(problem.code, line=problem.params.get("line"), params=problem.params)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "line": self.line, "column": self.column, "params": self.params}


class Change(NamedTuple):
    """A row in the database that the import changes (updates or deactivates)."""

    #: The id of the employee, department or completion.
    row_id: int
    #: How the file names it: the personnel number or the department code.
    key: str
    #: Who or what it is, for the preview: a name, or a course and a date.
    label: str
    #: What the preview shows, field by field: {field: (before, after)}.
    changes: dict[str, tuple[Value, Value]]
    #: What is written: {column: new value}.
    values: dict[str, Value]
    #: Why a person is deactivated: "exit_date" (it has passed) or "missing" (from a complete
    #: staff list); empty for an update.
    reason: str = ""


class Head(NamedTuple):
    """A department head to record."""

    department_code: str
    user_id: int


@dataclass
class Plan:
    """What importing a file would do. ``new``/``updated``/``deactivated`` hold what to write."""

    kind: str
    match: HeaderMatch = field(default_factory=HeaderMatch)
    #: The kind's columns by field name (looked up once per cell).
    columns: dict[str, Column] = field(default_factory=dict)
    format: str = ""  # "csv" or "xlsx"
    headers: list[str] = field(default_factory=list)
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    #: Notes on rows that are imported all the same (kept like problems, up to PROBLEMS_KEPT).
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int = 0
    #: Rows to insert, with the columns of the kind's table ({column: value}).
    new: list[dict[str, Value]] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    deactivated: list[Change] = field(default_factory=list)
    unchanged: int = 0
    #: Staff: how many were active before (to judge how many the file deactivates).
    active_before: int = 0
    heads: list[Head] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def needs_mapping(self) -> bool:
        return bool(self.match.missing) and bool(self.match.unknown)

    def add_problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(problem)

    def add_warning(self, warning: Problem) -> None:
        self.warning_count += 1
        if len(self.warnings) < PROBLEMS_KEPT:
            self.warnings.append(warning)

    def fingerprint(self) -> str:
        """A hash of the changes: the preview and the confirmed import must agree."""
        changes = {
            "new": self.new,
            "updated": [(u.row_id, u.changes, u.values) for u in self.updated],
            "deactivated": [(d.row_id, d.values) for d in self.deactivated],
            "heads": self.heads,
        }
        text = json.dumps(changes, default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


class Planner:
    """Works out one kind's changes: ``row`` is called for each row of the file, then ``finish``
    once (unless reading the file failed).

    ``keys``, when given, are the personnel numbers the rows name (a batch of the API): only
    those people are read from the database, not the whole staff."""

    def __init__(
        self,
        db_session: DbSession,
        plan: Plan,
        *,
        today: date,
        full_export: bool,
        keys: Collection[str] | None = None,
    ):
        self.db_session = db_session
        self.plan = plan
        self.today = today
        self.full_export = full_export
        self.keys = None if keys is None else sorted(set(keys))

    def row(self, line: int, row: Row) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self) -> None:
        pass
