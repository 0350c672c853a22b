"""The shapes of the API's requests and answers (marshmallow), from which the OpenAPI
document is generated. They check parameters, headers and a batch's envelope; a batch's items
are described here and checked by the import (see ``item_schema``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from app.core.input import FIRST_YEAR, LAST_YEAR
from app.imports.columns import columns_of
from app.imports.models import ImportKind

#: Rows per batch (the nightly sync sends its staff list in batches of this size).
MAX_BATCH = 1000
#: Dates outside these are refused: no HR record lies there, and time zones fail at the edges.
EARLIEST, LATEST = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)


def _storable(value: str) -> None:
    """Text a database can store: no NUL character, no lone surrogate."""
    if "\x00" in value:
        raise ValidationError("The text holds a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValidationError("The text is not valid Unicode.") from error


def text(max_length: int, *, required: bool = False, **kwargs: Any) -> fields.String:
    return fields.String(
        required=required,
        allow_none=not required,
        validate=[validate.Length(max=max_length), _storable],
        **kwargs,
    )


def day(*, required: bool = False, **kwargs: Any) -> fields.Date:
    return fields.Date(
        required=required,
        allow_none=not required,
        validate=validate.Range(min=EARLIEST, max=LATEST),
        **kwargs,
    )


def item_schema(kind: ImportKind, name: str, descriptions: dict[str, str]) -> type[Schema]:
    """The items of a ``kind`` batch: the import's columns (which are required, how long, which
    hold dates), for the OpenAPI document. The schema describes the items and checks nothing:
    the import checks them (``imports.records``: the shape of the data, then the rules)."""
    fields_: dict[str, fields.Field] = {}
    for column in columns_of(kind):
        metadata = {"description": descriptions[column.name]} if column.name in descriptions else {}
        fields_[column.name] = (
            day(required=column.required, metadata=metadata)
            if column.date
            else text(column.max_length, required=column.required, metadata=metadata)
        )
    return Schema.from_dict(fields_, name=name)


DepartmentItem = item_schema(
    ImportKind.DEPARTMENTS,
    "DepartmentItem",
    {
        "code": "The department's code (key).",
        "parent": "The parent's code; null for a top department.",
        "head": "The head's personnel number.",
    },
)
StaffItem = item_schema(
    ImportKind.STAFF,
    "StaffItem",
    {
        "personnel_number": "The key.",
        "department": "A department's code.",
        "exit_date": "Once passed, the person is deactivated.",
    },
)
CompletionItem = item_schema(
    ImportKind.COMPLETIONS,
    "CompletionItem",
    {"course": "The course's code or title."},
)


class Items(fields.List):
    """A batch's items: 1 to ``MAX_BATCH`` JSON objects, passed on as they are. The document
    shows them with their item schema; the import checks them. (Loading 1,000 items through
    marshmallow cost as much time as the import's whole check of them.)"""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        refused = {n: ["Not an object."] for n, item in enumerate(value) if type(item) is not dict}
        if refused:
            raise ValidationError(refused)
        return value


def _batch(item: type[Schema]) -> Items:
    return Items(fields.Nested(item), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class DepartmentBatch(Schema):
    items = _batch(DepartmentItem)


class StaffBatch(Schema):
    items = _batch(StaffItem)


class CompletionBatch(Schema):
    items = _batch(CompletionItem)


class IdempotencyHeader(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(min=1, max=200), validate.Regexp(r"^[\x21-\x7e]+$")],
        metadata={
            "description": "Any unique text (e.g. a UUID) per request: a retry with the same "
            "key and body gets the stored answer and changes nothing."
        },
    )


class ProblemItem(Schema):
    item = fields.Integer(allow_none=True, metadata={"description": "1 for a batch's first."})
    field = fields.String(allow_none=True)
    code = fields.String(required=True)
    detail = fields.String(required=True)


class Problem(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    problems = fields.List(fields.Nested(ProblemItem))


class UpsertResult(Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    deactivated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    warnings = fields.List(fields.Nested(ProblemItem), required=True)


class PageQuery(Schema):
    cursor = fields.String(
        validate=validate.Length(max=500),
        metadata={"description": "`next_cursor` of the previous page."},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class DateRangeQuery(PageQuery):
    start = day(required=True, data_key="from", metadata={"description": "First day."})
    end = day(required=True, data_key="to", metadata={"description": "Last day (inclusive)."})
    department = text(32, metadata={"description": "A department's code: it and all below."})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["start"] > data["end"]:
            raise ValidationError("`to` is before `from`.", "to")


class CompletionOut(Schema):
    id = fields.Integer(required=True)
    personnel_number = fields.String(required=True)
    department = fields.String(required=True)
    course = fields.String(required=True, metadata={"description": "The course's code."})
    completed_on = fields.Date(required=True)
    valid_until = fields.Date(allow_none=True, metadata={"description": "null: unlimited."})
    certificate_ref = fields.String(required=True)


class CompletionPage(Schema):
    items = fields.List(fields.Nested(CompletionOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class AttendanceOut(Schema):
    enrolment_id = fields.Integer(required=True)
    personnel_number = fields.String(required=True)
    department = fields.String(required=True)
    course = fields.String(required=True)
    date = fields.Date(required=True, metadata={"description": "The day in Europe/Berlin."})
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    hours = fields.Float(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "booked, attended or no_show (planned dates: booked)"},
    )


class AttendancePage(Schema):
    items = fields.List(fields.Nested(AttendanceOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class CoverageFigures(Schema):
    requirement_id = fields.Integer(required=True)
    requirement = fields.String(required=True)
    department = fields.String(
        allow_none=True, required=True, metadata={"description": "null: all"}
    )
    in_scope = fields.Integer(required=True)
    compliant = fields.Integer(required=True)
    due_soon = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    exempt = fields.Integer(required=True)
    covered = fields.Integer(required=True)
    coverage_percent = fields.Float(allow_none=True, required=True)


class Coverage(Schema):
    items = fields.List(fields.Nested(CoverageFigures), required=True)


class PeopleQuery(PageQuery):
    status = fields.String(
        validate=validate.OneOf(["compliant", "due_soon", "overdue", "pending", "exempt"])
    )


class PersonStatusOut(Schema):
    personnel_number = fields.String(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    department = fields.String(required=True)
    requirement_id = fields.Integer(required=True)
    requirement = fields.String(required=True)
    status = fields.String(required=True)
    due_date = fields.Date(allow_none=True, required=True, metadata={"description": "null: never"})
    valid_until = fields.Date(allow_none=True, required=True)


class PeoplePage(Schema):
    items = fields.List(fields.Nested(PersonStatusOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
