"""Rows given as data (a batch of the API's JSON) instead of a file.

They are checked by the same planners as an uploaded file, with the field names as headers,
and written by the same ``applying.apply_plan``: the same rules, the same problems. A
problem's line is the row's position in the batch (1 for the first); its column is the field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date

from app.core.types import DbSession
from app.imports.columns import columns_of
from app.imports.models import ImportKind
from app.imports.planning import Plan, build_plan
from app.imports.reading import Table

#: A row as given: field name → value (None or absent: empty).
Record = Mapping[str, str | date | None]


def check_records(
    db_session: DbSession, *, kind: str, records: Sequence[Record], today: date
) -> Plan:
    """Check ``records`` as rows of a ``kind`` import and work out their changes.

    A field given for any row of the batch is compared for all of them (an absent or null one
    then clears the value); a field given for none keeps what the database has, as a file
    without that column would. Only the people the rows name are read from the database."""
    present = [
        column.name
        for column in columns_of(kind)
        if column.required or any(column.name in record for record in records)
    ]
    table = Table(
        headers=present,
        rows=_rows(records, present),
        format="json",
        estimated_rows=len(records),
    )
    keys = None
    if kind != ImportKind.DEPARTMENTS:
        keys = [str(r["personnel_number"]) for r in records if r.get("personnel_number")]
    return build_plan(
        db_session,
        kind=kind,
        table=table,
        mapping={},
        full_export=False,
        today=today,
        keys=keys,
    )


def _rows(records: Sequence[Record], fields: list[str]) -> Iterator[tuple[int, list[str]]]:
    for line, record in enumerate(records, start=1):
        yield line, [_cell(record.get(name)) for name in fields]


def _cell(value: str | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
