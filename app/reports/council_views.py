"""The staff council's pages: coverage figures of the city and its departments, never a name."""

from __future__ import annotations

from flask import Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app.core.clock import local_today
from app.core.roles import Role, roles_required
from app.extensions import db
from app.reports import bp, council, exports, services
from app.reports.charts import coverage_bars, trend_chart
from app.requirements.facts import current_rebuild


@bp.route("/council/")
@roles_required(Role.STAFF_COUNCIL)
def council_home() -> ResponseReturnValue:
    """The staff council's start page: what it may see, as a list of links."""
    return render_template(
        "reports/council_home.html",
        small_groups_note=exports.small_groups_note(current_app.config["MIN_GROUP_SIZE"]),
    )


@bp.route("/council/coverage")
@roles_required(Role.STAFF_COUNCIL)
def council_coverage() -> ResponseReturnValue:
    """One requirement's figures (the first by name unless chosen) and the city's trend."""
    today = local_today()
    figures = _figures()
    chosen = request.args.get("requirement", type=int)
    shown = next((f for f in figures if f.requirement.id == chosen), None)
    if chosen is not None and shown is None:
        abort(404)
    shown = shown or (figures[0] if figures else None)
    trend = (
        services.trend(db.session, department=None, requirement_ids=[shown.requirement.id])
        if shown
        else {}
    )
    return render_template(
        "reports/council_coverage.html",
        figures=figures,
        shown=shown,
        bars=coverage_bars(shown.departments) if shown else None,
        chart=trend_chart(trend[shown.requirement.id]) if shown else None,
        today=today,
        coverage_note=exports.coverage_note(current_app.config["DUE_SOON_DAYS"]),
        small_groups_note=exports.small_groups_note(current_app.config["MIN_GROUP_SIZE"]),
        rebuild=current_rebuild(db.session),
    )


@bp.route("/council/coverage.csv")
@roles_required(Role.STAFF_COUNCIL)
def council_csv() -> ResponseReturnValue:
    """Every requirement's figures as Excel opens them; the same rows as the page."""
    today = local_today()
    body = exports.council_csv(
        _figures(), today=today, min_group_size=current_app.config["MIN_GROUP_SIZE"]
    )
    return Response(
        "".join(body),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="schulungsquoten-{today:%Y-%m-%d}.csv"'
        },
    )


def _figures() -> list[council.ProtectedCoverage]:
    return council.protected_coverage(
        db.session,
        today=local_today(),
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
        min_group_size=current_app.config["MIN_GROUP_SIZE"],
    )


bp.add_app_template_filter(exports.area_label, "area_label")
