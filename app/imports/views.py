"""Routes of the import pages: upload, map unknown columns, preview, confirm; HR only."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.background import commit_and_start
from app.core.forms import ActionOnlyForm, attach_errors
from app.core.roles import Role, roles_required
from app.extensions import db
from app.imports import bp, services
from app.imports.blanks import blank_csv, blank_xlsx
from app.imports.columns import KIND_LABELS, column, columns_of
from app.imports.forms import ConfirmImportForm, UploadForm, mapping_form
from app.imports.messages import describe
from app.imports.models import ImportKind, ImportRun, ImportStatus
from app.imports.tasks import apply_import, check_import

BLANK_NAMES = {"departments": "organisation", "staff": "personal", "completions": "nachweise"}
MIME_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.HR)
def index():
    form = UploadForm()
    if request.method == "GET" and request.args.get("kind") in {k.value for k in ImportKind}:
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        limit = current_app.config["IMPORT_MAX_MB"] * 1024 * 1024
        content = form.file.data.read(limit + 1)
        if len(content) > limit:
            attach_errors(form, {"file": describe("too_large", {"limit": limit // 2**20})})
        else:
            run = services.record_upload(
                db.session,
                kind=form.kind.data,
                filename=form.file.data.filename or "",
                content=content,
                full_export=form.full_export.data,
                user=current_user,
            )
            return _start(check_import, run)
    return render_template(
        "imports/index.html",
        form=form,
        runs=services.recent_runs(db.session),
        kinds=KIND_LABELS,
        columns_of=columns_of,
    )


@bp.route("/<token>")
@roles_required(Role.HR)
def show(token: str):
    run = _run(token)
    report = run.report
    context = {
        "run": run,
        "report": report,
        "action_form": ActionOnlyForm(),
        "confirm_form": ConfirmImportForm(),
    }
    if report.get("unknown") and run.status in (
        ImportStatus.MAPPING,
        ImportStatus.INVALID,
        ImportStatus.READY,
    ):
        context["mapping_form"] = mapping_form(run.kind, report["unknown"], run.mapping)
    if run.status in (ImportStatus.INVALID, ImportStatus.MAPPING):
        upload = UploadForm(formdata=None)
        upload.kind.data, upload.full_export.data = run.kind, run.full_export
        context["upload_form"] = upload
    return render_template(
        "imports/show.html",
        describe=describe,
        field_label=lambda name: column(run.kind, name).label,
        kinds=KIND_LABELS,
        **context,
    )


@bp.route("/<token>.json")
@roles_required(Role.HR)
def progress(token: str):
    run = _run(token)
    return {"status": run.status, "progress": run.progress, "busy": run.busy}


@bp.route("/<token>/mapping", methods=["POST"])
@roles_required(Role.HR)
def save_mapping(token: str):
    run = _run(token)
    headers = run.report.get("unknown", [])
    form = mapping_form(run.kind, headers, run.mapping)
    if not form.validate_on_submit():
        abort(400)
    mapping = {**run.mapping}
    for index, header in enumerate(headers):
        mapping[header] = form[f"column_{index}"].data
    if not _step(run, services.set_mapping, mapping):
        return redirect(url_for("imports.show", token=token))
    return _start(check_import, run)


@bp.route("/<token>/confirm", methods=["POST"])
@roles_required(Role.HR)
def confirm(token: str):
    run = _run(token)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    if not _step(run, services.confirm, current_user, invite_new=form.invite_new.data):
        return redirect(url_for("imports.show", token=token))
    return _start(apply_import, run)


@bp.route("/<token>/discard", methods=["POST"])
@roles_required(Role.HR)
def discard(token: str):
    run = _run(token)
    if not ActionOnlyForm().validate_on_submit():
        abort(400)
    if not _step(run, services.discard):
        return redirect(url_for("imports.show", token=token))
    db.session.commit()
    flash(_("The import was discarded; nothing was changed."), "success")
    return redirect(url_for("imports.index"))


@bp.route("/blank/<kind>.<file_format>")
@roles_required(Role.HR)
def blank(kind: str, file_format: str):
    """An empty file with the right columns, to fill in."""
    if kind not in {k.value for k in ImportKind} or file_format not in MIME_TYPES:
        abort(404)
    content = blank_csv(kind) if file_format == "csv" else blank_xlsx(kind)
    return Response(
        content,
        mimetype=MIME_TYPES[file_format],
        headers={
            "Content-Disposition": (
                f'attachment; filename="vorlage-{BLANK_NAMES[kind]}.{file_format}"'
            )
        },
    )


def _start(task, run: ImportRun):
    """Commit, then hand the run to a worker (in-process when no broker is configured)."""
    token = run.token
    commit_and_start(db.session, task, run.id, on_refused=services.fail_unstarted)
    return redirect(url_for("imports.show", token=token))


def _step(run: ImportRun, service, *args, **kwargs) -> bool:
    """Run one step of the import; False (with a message) when the run has moved on, e.g. a
    second click on "Import now"."""
    try:
        service(db.session, run, *args, **kwargs)
    except services.ImportStepError:
        flash(_("This import has moved on; the page shows where it stands."), "error")
        return False
    return True


def _run(token: str) -> ImportRun:
    return services.find_run(db.session, token) or abort(404)
