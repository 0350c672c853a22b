"""HR's outbox page: what was sent, what waits, what failed (and why), with retry."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.core.forms import ActionOnlyForm
from app.core.input import db_int
from app.core.models import OutboxMessage, OutboxStatus
from app.core.roles import Role, roles_required
from app.extensions import db
from app.notifications import bp
from app.notifications.delivery import cut_off_attempts, retry_failed

PAGE_SIZE = 50


@bp.route("/outbox")
@roles_required(Role.HR)
def outbox():
    status = request.args.get("status", OutboxStatus.FAILED.value)
    if status not in {s.value for s in OutboxStatus}:
        status = OutboxStatus.FAILED.value
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                OutboxMessage.status
            )
        ).all()
    )
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == status)
        .order_by(OutboxMessage.id.desc())
    )
    pagination = db.paginate(
        query, page=request.args.get("page", 1, type=db_int), per_page=PAGE_SIZE, error_out=False
    )
    return render_template(
        "notifications/outbox.html",
        cut_off=cut_off_attempts(db.session, [m.id for m in pagination.items]),
        counts=counts,
        status=status,
        statuses=[s.value for s in OutboxStatus],
        pagination=pagination,
        form=ActionOnlyForm(),
    )


@bp.route("/outbox/retry", methods=["POST"])
@roles_required(Role.HR)
def retry():
    ActionOnlyForm().validate_on_submit()
    ids = [int(v) for v in request.form.getlist("message_id") if v.isdigit()]
    count = retry_failed(db.session, ids or None)
    db.session.commit()
    flash(_("%(count)d messages queued again.", count=count), "success")
    return redirect(url_for("notifications.outbox", status="queued"))
