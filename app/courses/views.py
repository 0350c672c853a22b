"""Routes of the courses area."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from app.courses import bp, services
from app.extensions import db


@bp.route("/")
@login_required
def catalogue():
    return render_template(
        "courses/catalogue.html",
        courses=services.list_courses(db.session),
        sessions=services.upcoming_sessions(db.session),
    )
