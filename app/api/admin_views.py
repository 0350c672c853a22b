"""Administrators create API clients, rotate their tokens and revoke them. A token is shown
once, on the page that answers the change; only its hash is kept."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.api import pages, services
from app.api.forms import SCOPE_LABELS, ApiClientForm
from app.api.models import ApiClient
from app.core.forms import ActionOnlyForm, attach_errors
from app.core.roles import Role, roles_required
from app.extensions import db


@pages.route("/api-clients", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def clients():
    form = ApiClientForm()
    token = None
    shown_for = None
    if form.validate_on_submit():
        try:
            client, token = services.create_client(
                db.session,
                name=form.name.data,
                scopes=form.scopes.data,
                created_by=current_user.email,
            )
        except services.DuplicateClientName:
            db.session.rollback()
            attach_errors(form, {"name": _("A client with this name exists already.")})
        else:
            db.session.commit()
            shown_for = client
            form = ApiClientForm(formdata=None)
    return _page(form, token=token, shown_for=shown_for)


@pages.route("/api-clients/<int:client_id>/rotate", methods=["POST"])
@roles_required(Role.ADMIN)
def rotate(client_id: int):
    client = db.session.get(ApiClient, client_id) or abort(404)
    if not ActionOnlyForm().validate_on_submit():
        abort(400)
    try:
        token = services.rotate_token(db.session, client)
    except services.ClientError:
        db.session.rollback()
        flash(_("A revoked client gets no new token; create a new client."), "error")
        return _page(ApiClientForm(formdata=None))
    db.session.commit()
    return _page(ApiClientForm(formdata=None), token=token, shown_for=client)


@pages.route("/api-clients/<int:client_id>/revoke", methods=["POST"])
@roles_required(Role.ADMIN)
def revoke(client_id: int):
    client = db.session.get(ApiClient, client_id) or abort(404)
    if not ActionOnlyForm().validate_on_submit():
        abort(400)
    services.revoke(db.session, client)
    db.session.commit()
    flash(_("The token of %(name)s no longer works.", name=client.name), "success")
    return redirect(url_for("api_pages.clients"))


def _page(form: ApiClientForm, *, token: str | None = None, shown_for: ApiClient | None = None):
    return render_template(
        "api/clients.html",
        form=form,
        action_form=ActionOnlyForm(),
        clients=services.list_clients(db.session),
        scope_labels={scope.value: label for scope, label in SCOPE_LABELS.items()},
        token=token,
        shown_for=shown_for,
    )
