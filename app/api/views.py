"""The API's operations. Each parses its input (schemas), calls the same services as the
pages and imports, and answers JSON; errors are problem documents (see ``problems``).

Writes of departments, staff and completions go through the import's planning and applying
(``imports.records``): one batch is checked whole and written whole, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from flask import Response, current_app, request
from flask_babel import force_locale

from app.api import bp, queries, services
from app.api.auth import acting_client, current_client, rate_limit, rate_limit_key, requires
from app.api.models import Scope
from app.api.problems import MEDIA_TYPE, ApiProblem, problem_body, stored_response
from app.api.schemas import (
    AttendancePage,
    CompletionBatch,
    CompletionPage,
    Coverage,
    DateRangeQuery,
    DepartmentBatch,
    IdempotencyHeader,
    PeoplePage,
    PeopleQuery,
    Problem,
    StaffBatch,
    UpsertResult,
)
from app.core.audit import record_access, record_change
from app.core.clock import local_today
from app.extensions import db, limiter
from app.imports.applying import apply_plan
from app.imports.messages import describe
from app.imports.models import ImportKind
from app.imports.planning import Plan
from app.imports.planning import Problem as RowProblem
from app.imports.records import check_records, shape_problems
from app.reports.services import coverage, percent_covered, scope_of
from app.staff.models import Department
from app.staff.services import find_department_by_code

limiter.limit(rate_limit, key_func=rate_limit_key, scope="api")(bp)

COMMON_ERRORS = {
    401: "No token, or an unknown, rotated or revoked one.",
    403: "The token lacks the operation's scope.",
    422: "Invalid parameters or body.",
    429: "Too many calls; see Retry-After.",
}


def problems_documented(*extra: tuple[int, str]) -> Any:
    """Document the problem answers an operation may give."""

    def decorate(view: Any) -> Any:
        for status, description in [*COMMON_ERRORS.items(), *extra]:
            view = bp.alt_response(
                status, schema=Problem, content_type=MEDIA_TYPE, description=description
            )(view)
        return view

    return decorate


class Link(NamedTuple):
    """A call that can follow an operation's answer, with values taken from that call."""

    operation: str  # the target's operationId: its view's name
    description: str
    #: The target's parameters as OpenAPI runtime expressions (``$request.body#/…``, …).
    parameters: Mapping[str, str] = {}
    #: Values for the target's body (merged into a body of its own by Schemathesis).
    request_body: Mapping[str, Any] | None = None


def links(**named: Link) -> Any:
    """Document the calls that can follow the operation's 200 answer as OpenAPI links: a
    client sees where each value leads, and Schemathesis' stateful tests chain the calls."""
    documented = {}
    for name, link in named.items():
        entry: dict[str, Any] = {"operationId": link.operation, "description": link.description}
        if link.parameters:
            entry["parameters"] = dict(link.parameters)
        if link.request_body is not None:
            entry["requestBody"] = link.request_body
        documented[name] = entry
    return bp.doc(responses={200: {"links": documented}})


def next_page(operation: str, *, path: Sequence[str] = (), query: Sequence[str] = ()) -> Link:
    """The link to the next page of a list: the same call with ``next_cursor`` as cursor."""
    return Link(
        operation,
        "The next page: the same request with `next_cursor` as `cursor` (until it is null).",
        {
            "cursor": "$response.body#/next_cursor",
            **{name: f"$request.path.{name}" for name in path},
            **{name: f"$request.query.{name}" for name in (*query, "limit")},
        },
    )


FIRST_ITEM = "$request.body#/items/0"

WRITE_ERRORS = (
    (400, "The body is not JSON (or not sent as application/json)."),
    (409, "A parallel change conflicted; nothing was written, send it again."),
)


@bp.route("/departments/batch", methods=["POST"])
@requires(Scope.STAFF_WRITE)
@bp.arguments(IdempotencyHeader, location="headers")
@bp.arguments(DepartmentBatch)
@bp.response(200, UpsertResult)
@links(
    coverage_of_the_department=Link(
        "department_coverage",
        "Coverage of the batch's first department.",
        {"code": f"{FIRST_ITEM}/code"},
    ),
    people_of_the_department=Link(
        "department_people",
        "Each person's status in the batch's first department.",
        {"code": f"{FIRST_ITEM}/code"},
    ),
    staff_of_the_department=Link(
        "upsert_staff",
        "Staff of the batch's first department (its code as the first person's department).",
        request_body={"items": [{"department": f"{FIRST_ITEM}/code"}]},
    ),
)
@problems_documented(*WRITE_ERRORS)
def upsert_departments(headers: dict[str, str], batch: dict[str, Any]) -> Response:
    """Add or update departments by code (up to 1,000; parents before or after children).

    The same checks as the departments import; all or nothing. Needs `staff:write`."""
    return _write_batch(ImportKind.DEPARTMENTS, batch["items"], headers.get("idempotency_key"))


@bp.route("/staff/batch", methods=["POST"])
@requires(Scope.STAFF_WRITE)
@bp.arguments(IdempotencyHeader, location="headers")
@bp.arguments(StaffBatch)
@bp.response(200, UpsertResult)
@links(
    people_of_the_department=Link(
        "department_people",
        "Each person's status in the first person's department.",
        {"code": f"{FIRST_ITEM}/department"},
    ),
    completions_of_the_department=Link(
        "list_completions",
        "Completions in the first person's department.",
        {"department": f"{FIRST_ITEM}/department"},
    ),
    attendance_of_the_department=Link(
        "list_attendance",
        "Booked and attended dates in the first person's department.",
        {"department": f"{FIRST_ITEM}/department"},
    ),
    completions_of_the_person=Link(
        "create_completions",
        "Completions of the batch's first person.",
        request_body={"items": [{"personnel_number": f"{FIRST_ITEM}/personnel_number"}]},
    ),
)
@problems_documented(*WRITE_ERRORS)
def upsert_staff(headers: dict[str, str], batch: dict[str, Any]) -> Response:
    """Add or update people by personnel number (up to 1,000 per batch).

    The same checks as the staff import; all or nothing. A person whose exit date has passed
    is deactivated (future bookings cancelled, login disabled). A field left out of every
    item of a batch is kept as it is. Needs `staff:write`."""
    return _write_batch(ImportKind.STAFF, batch["items"], headers.get("idempotency_key"))


@bp.route("/completions/batch", methods=["POST"])
@requires(Scope.COMPLETIONS_WRITE)
@bp.arguments(IdempotencyHeader, location="headers")
@bp.arguments(CompletionBatch)
@bp.response(200, UpsertResult)
@links(
    completions_of_the_day=Link(
        "list_completions",
        "The completions of the day of the batch's first completion.",
        {"from": f"{FIRST_ITEM}/completed_on", "to": f"{FIRST_ITEM}/completed_on"},
    ),
)
@problems_documented(*WRITE_ERRORS)
def create_completions(headers: dict[str, str], batch: dict[str, Any]) -> Response:
    """Record completions (e.g. from an e-learning platform), valid as the course says.

    A completion already recorded (same person, course and day) is not added twice. Needs
    `completions:write`."""
    return _write_batch(ImportKind.COMPLETIONS, batch["items"], headers.get("idempotency_key"))


@bp.route("/completions", methods=["GET"])
@requires(Scope.COMPLETIONS_READ)
@bp.arguments(DateRangeQuery, location="query")
@bp.response(200, CompletionPage)
@links(next_page=next_page("list_completions", query=("from", "to", "department")))
@problems_documented()
def list_completions(args: dict[str, Any]) -> dict[str, Any]:
    """Completions between two days, of a department and all below it when given."""
    rows, cursor = _listed(queries.completions_page, args)
    items = [{**row._asdict(), "valid_until": queries.limited(row.valid_until)} for row in rows]
    return {"items": items, "next_cursor": cursor}


@bp.route("/attendance", methods=["GET"])
@requires(Scope.ENROLMENTS_READ)
@bp.arguments(DateRangeQuery, location="query")
@bp.response(200, AttendancePage)
@links(next_page=next_page("list_attendance", query=("from", "to", "department")))
@problems_documented()
def list_attendance(args: dict[str, Any]) -> dict[str, Any]:
    """Booked and attended dates between two days (for time recording: person, day, hours)."""
    rows, cursor = _listed(queries.attendance_page, args)
    items = [
        {
            **row._asdict(),
            "date": queries.berlin_day(row.starts_at),
            "hours": round((row.ends_at - row.starts_at).total_seconds() / 3600, 2),
        }
        for row in rows
    ]
    return {"items": items, "next_cursor": cursor}


@bp.route("/coverage", methods=["GET"])
@requires(Scope.COVERAGE_READ)
@bp.response(200, Coverage)
@problems_documented()
def city_coverage() -> dict[str, Any]:
    """Coverage of the whole city per requirement, and of each top department."""
    return {"items": _coverage(None)}


@bp.route("/coverage/departments/<department_code:code>", methods=["GET"], merge_slashes=False)
@requires(Scope.COVERAGE_READ)
@bp.response(200, Coverage)
@links(
    people_of_the_department=Link(
        "department_people",
        "Each person's status in this department and below.",
        {"code": "$request.path.code"},
    ),
)
@problems_documented((404, "No department with this code."))
def department_coverage(code: str) -> dict[str, Any]:
    """Coverage of a department (with everything below it) and of each of its children."""
    return {"items": _coverage(_department_or_404(code))}


@bp.route(
    "/coverage/departments/<department_code:code>/people", methods=["GET"], merge_slashes=False
)
@requires(Scope.COVERAGE_READ)
@bp.arguments(PeopleQuery, location="query")
@bp.response(200, PeoplePage)
@links(next_page=next_page("department_people", path=("code",), query=("status",)))
@problems_documented((404, "No department with this code."))
def department_people(args: dict[str, Any], code: str) -> dict[str, Any]:
    """Each person's status per requirement in a department and all below it."""
    department = _department_or_404(code)
    try:
        items, cursor = queries.people_page(
            db.session,
            department=department,
            today=local_today(),
            due_soon_days=current_app.config["DUE_SOON_DAYS"],
            status=args.get("status"),
            after=args.get("cursor"),
            limit=args["limit"],
        )
    except queries.BadCursor as error:
        raise _bad_cursor() from error
    _record_access("api_people", [item["employee_id"] for item in items])
    return {"items": items, "next_cursor": cursor}


# --- helpers ---------------------------------------------------------------------------------


def _write_batch(kind: ImportKind, items: Sequence[Mapping[str, Any]], key: str | None) -> Response:
    problems, count = shape_problems(kind, items)
    if count:  # not what the item schema describes: refused as other operations' input is
        detail = _counted(count, problems)
        raise ApiProblem("invalid-request", detail, problems=_described(problems))
    client = current_client()
    with acting_client(client):
        claim = None
        if key is not None:
            fingerprint = services.request_hash(request.method, request.path, request.get_json())
            try:
                found = services.claim_key(
                    db.session, client=client, key=key, fingerprint=fingerprint
                )
            except services.IdempotencyKeyReused as error:
                raise ApiProblem("idempotency-key-reused") from error
            if isinstance(found, services.StoredAnswer):
                db.session.rollback()
                return stored_response(
                    found.status_code, found.body, headers={"Idempotent-Replayed": "true"}
                )
            claim = found
        services.lock_batches(db.session)
        plan = check_records(db.session, kind=kind, records=items, today=local_today())
        status, body = _apply(kind, plan)
        if claim is not None:
            services.store_answer(db.session, claim, status, body)
        db.session.commit()
    return stored_response(status, body)


def _apply(kind: ImportKind, plan: Plan) -> tuple[int, dict[str, object]]:
    if not plan.ok:
        detail = _counted(plan.problem_count, plan.problems)
        return 422, problem_body("rejected-rows", detail, _described(plan.problems))
    applied = apply_plan(db.session, plan, actor=None)
    record_change(
        db.session,
        action="api_batch",
        entity=kind.value,
        after={
            "created": [_key_of(kind, row) for row in plan.new],
            "updated": {change.key: change.changes for change in plan.updated},
            "deactivated": [change.key for change in plan.deactivated],
        },
    )
    return 200, {
        "created": applied.created,
        "updated": applied.updated,
        "deactivated": applied.deactivated,
        "unchanged": plan.unchanged,
        "warnings": _described(plan.warnings),
    }


def _counted(count: int, listed: Sequence[RowProblem]) -> str:
    detail = f"{count} problem(s) in the batch"
    if len(listed) < count:
        detail += f"; the first {len(listed)} are listed"
    return detail


def _key_of(kind: ImportKind, row: Mapping[str, object]) -> str:
    if kind == ImportKind.DEPARTMENTS:
        return str(row["code"])
    if kind == ImportKind.COMPLETIONS:
        return f"{row['personnel_number']} {row['course']} {row['completed_on']}"
    return str(row["personnel_number"])


def _described(problems: Sequence[RowProblem]) -> list[dict[str, object]]:
    with force_locale("en"):
        return [
            {
                "item": problem.line,
                "field": problem.column,
                "code": problem.code,
                "detail": describe(problem.code, problem.params),
            }
            for problem in problems
        ]


def _listed(page: Any, args: dict[str, Any]) -> tuple[list[Any], str | None]:
    department = None
    if args.get("department") is not None:
        department = find_department_by_code(db.session, args["department"])
        if department is None:
            raise ApiProblem(
                "invalid-request",
                problems=[
                    {
                        "item": None,
                        "field": "department",
                        "code": "unknown_department",
                        "detail": "There is no department with this code.",
                    }
                ],
            )
    try:
        rows, cursor = page(
            db.session,
            start=args["start"],
            end=args["end"],
            department=department,
            after=args.get("cursor"),
            limit=args["limit"],
        )
    except queries.BadCursor as error:
        raise _bad_cursor() from error
    _record_access(f"api_{page.__name__}", [row.employee_id for row in rows])
    return rows, cursor


def _record_access(purpose: str, employee_ids: list[int]) -> None:
    """Whose personal data the client received (the access log, as for pages and exports)."""
    client = current_client()
    with acting_client(client):
        record_access(
            db.session, purpose=purpose[:40], employee_ids=employee_ids, detail=request.path
        )
    db.session.commit()


def _bad_cursor() -> ApiProblem:
    return ApiProblem(
        "invalid-request",
        problems=[
            {"item": None, "field": "cursor", "code": "invalid", "detail": "Unknown cursor."}
        ],
    )


def _department_or_404(code: str) -> Department:
    department = find_department_by_code(db.session, code)
    if department is None:
        raise ApiProblem("not-found", "No department with this code.")
    return department


def _coverage(department: Department | None) -> list[dict[str, Any]]:
    scope = scope_of(db.session, department, None)
    rows = coverage(
        db.session,
        departments=scope.rows_for,
        scope_roots=scope.roots,
        today=local_today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
    )
    return [
        {
            "requirement_id": row.requirement.id,
            "requirement": row.requirement.name,
            "department": None if row.department is None else row.department.code,
            "in_scope": row.in_scope,
            "compliant": row.compliant,
            "due_soon": row.due_soon,
            "overdue": row.overdue,
            "pending": row.pending,
            "exempt": row.exempt,
            "covered": row.covered,
            "coverage_percent": percent_covered(row.covered, row.in_scope),
        }
        for row in rows
    ]
