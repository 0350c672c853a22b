"""Checking a file against the database: every problem with its line and column, and what an
import would change (new, updated field by field, deactivated).

A plan is computed in full before anything is written, so a file with one bad row imports
nothing. The same plan is the preview, the CLI's ``--dry-run`` and what ``applying`` writes.

``plan`` holds what a check finds, ``cells`` reads a row's cells, and one planner per kind of
file (``departments``, ``staff``, ``completions``) works out the changes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from app.core.types import DbSession
from app.imports.columns import columns_of, match_headers
from app.imports.models import ImportKind
from app.imports.planning.cells import Row
from app.imports.planning.completions import CompletionPlanner
from app.imports.planning.departments import DepartmentPlanner
from app.imports.planning.plan import Change, Head, Plan, Planner, Problem, Progress, Value
from app.imports.planning.staff import StaffPlanner
from app.imports.reading import FileProblem, Table

__all__ = ["Change", "Head", "Plan", "Problem", "Progress", "Value", "build_plan"]

#: Progress is reported every this many rows.
PROGRESS_EVERY = 1000

PLANNERS: dict[ImportKind, type[Planner]] = {
    ImportKind.DEPARTMENTS: DepartmentPlanner,
    ImportKind.STAFF: StaffPlanner,
    ImportKind.COMPLETIONS: CompletionPlanner,
}


def build_plan(
    db_session: DbSession,
    *,
    kind: str,
    table: Table,
    mapping: dict[str, str],
    full_export: bool,
    today: date,
    on_progress: Progress | None = None,
    keys: Collection[str] | None = None,
) -> Plan:
    """Check ``table`` and work out its changes; reads the database, writes nothing.
    ``keys``: the personnel numbers the rows name, when known (see ``Planner``)."""
    plan = Plan(
        kind=kind,
        match=match_headers(kind, table.headers, mapping),
        columns={c.name: c for c in columns_of(kind)},
    )
    # Named as the template names them (the German header, then the field): the report is
    # stored once and read in either language.
    for code, names in (
        ("missing_column", plan.match.missing),
        ("duplicate_column", plan.match.duplicates),
    ):
        for name in names:
            german = plan.columns[name].german
            plan.add_problem(Problem(code, column=german, params={"column": f"{german} ({name})"}))
    if not plan.ok:
        return plan
    planner = PLANNERS[ImportKind(kind)](
        db_session, plan, today=today, full_export=full_export, keys=keys
    )
    total = max(table.estimated_rows, 1)
    try:
        for line, cells in table.rows:
            plan.rows += 1
            planner.row(line, Row(plan, line, cells))
            if on_progress is not None and plan.rows % PROGRESS_EVERY == 0:
                on_progress(plan.rows, max(total, plan.rows))
    except FileProblem as problem:
        plan.add_problem(Problem.of_file(problem))
        return plan
    if plan.rows == 0:
        plan.add_problem(Problem("no_rows"))
        return plan
    planner.finish()
    return plan
