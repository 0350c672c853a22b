"""``flask import-departments|import-staff|import-completions FILE``: the same check, preview
and all-or-nothing import as the web page, with a progress bar, for cron jobs and large files."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, NoReturn

import click
from flask import Flask, current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from app.core.clock import local_today
from app.extensions import db
from app.imports import services
from app.imports.columns import column, columns_of, parse_mapping_options
from app.imports.messages import describe
from app.imports.models import ImportKind, ImportRun, ImportStatus

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar


def register_import_commands(app: Flask) -> None:
    for kind in ImportKind:
        app.cli.add_command(_command(kind), f"import-{kind.value}")


def _command(kind: ImportKind) -> click.Command:
    @click.command(help=f"Import {kind.value} from a CSV or XLSX file (all or nothing).")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check and show the changes; write nothing.")
    @click.option(
        "--map",
        "mappings",
        multiple=True,
        metavar='"Spalte=field"',
        help="Read a column the product does not know as this field (repeatable).",
    )
    @click.option(
        "--partial",
        is_flag=True,
        help="Staff: the file is not the complete list; nobody missing from it is deactivated.",
    )
    @click.option(
        "--language",
        type=click.Choice(["de", "en"]),
        default=None,
        help="Language of the report (default: the city's).",
    )
    def command(
        file: Path, dry_run: bool, mappings: tuple[str, ...], partial: bool, language: str | None
    ) -> None:
        with force_locale(language or current_app.config["BABEL_DEFAULT_LOCALE"]):
            _run(kind, file, dry_run=dry_run, mappings=mappings, full=not partial)

    return command


def _run(
    kind: ImportKind, file: Path, *, dry_run: bool, mappings: tuple[str, ...], full: bool
) -> None:
    try:
        mapping = parse_mapping_options(mappings)
    except ValueError as error:
        raise click.BadParameter(f'{error} (expected "Spalte=field")', param_hint="--map") from None
    limit_mb = current_app.config["IMPORT_MAX_MB"]
    if file.stat().st_size > limit_mb * 1024 * 1024:
        _fail(describe("too_large", {"limit": limit_mb}))
    run = services.record_upload(
        db.session,
        kind=kind.value,
        filename=file.name,
        content=file.read_bytes(),
        full_export=full,
        mapping=mapping,
        label=f"CLI ({getpass.getuser()})",
    )
    run_id = run.id
    db.session.commit()
    with _bar(_("Checking")) as progress:
        services.check(db.session, run_id, today=local_today(), on_progress=progress)
    run = db.session.get_one(ImportRun, run_id)
    _print_report(run)
    if run.status != ImportStatus.READY:
        sys.exit(1)
    if dry_run:
        services.discard(db.session, run)
        db.session.commit()
        click.echo(_("Dry run: nothing was changed."))
        return
    services.confirm(db.session, run, None)
    db.session.commit()
    with _bar(_("Importing")) as progress:
        applied = services.apply(db.session, run_id, today=local_today(), on_progress=progress)
    if applied is None:  # the data changed between check and apply
        _print_report(db.session.get_one(ImportRun, run_id))
        _fail(_("Nothing was imported; please run the command again."))
    click.echo(
        _(
            "Imported: %(new)s new, %(updated)s updated, %(deactivated)s deactivated.",
            new=applied.created,
            updated=applied.updated,
            deactivated=applied.deactivated,
        )
    )
    if applied.cancelled_enrolments:
        click.echo(
            _(
                "%(num)s future bookings of people who left were cancelled.",
                num=applied.cancelled_enrolments,
            )
        )


class _bar:
    """A click progress bar fed by (done, total) callbacks, on stderr."""

    def __init__(self, label: str):
        self.label = label
        self.bar: ProgressBar[int] | None = None  # made at the first call, when the total is known
        self.shown = self.total = 0

    def __enter__(self) -> _bar:
        return self

    def __call__(self, done: int, total: int) -> None:
        self.total = max(self.total, total)  # an estimate, and rows can outrun it
        if self.bar is None:
            self.bar = click.progressbar(length=self.total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.length = self.total
        self.bar.update(done - self.shown)
        self.shown = done

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(exc_type, exc, traceback)


def _print_report(run: ImportRun) -> None:
    report = run.report
    if run.status == ImportStatus.MAPPING:
        click.echo(
            _(
                "Columns the product does not know: %(columns)s",
                columns=", ".join(report["unknown"]),
            )
        )
        click.echo(
            _(
                'Assign them with --map "Spalte=field"; fields: %(fields)s',
                fields=", ".join(_fields(run.kind)),
            )
        )
    if run.error_count:
        message = ngettext(
            "%(num)s problem; nothing was imported:",
            "%(num)s problems; nothing was imported:",
            run.error_count,
        )
        click.echo(message, err=True)
        for problem in report.get("problems", []):
            where = []
            if problem.get("line"):
                where.append(_("line %(line)s", line=problem["line"]))
            if problem.get("column"):
                where.append(_("column “%(column)s”", column=problem["column"]))
            prefix = ", ".join(where)
            text = describe(problem["code"], problem.get("params"))
            click.echo(f"  {prefix}: {text}" if prefix else f"  {text}", err=True)
        return
    for problem in report.get("warnings", []):
        where = _("line %(line)s", line=problem["line"])
        click.echo(f"  {where}: {describe(problem['code'], problem.get('params'))}")
    counts = report.get("counts", {})
    click.echo(
        _(
            "%(rows)s rows: %(new)s new, %(updated)s updated, %(deactivated)s deactivated, "
            "%(unchanged)s unchanged.",
            rows=run.rows,
            new=counts.get("new", 0),
            updated=counts.get("updated", 0),
            deactivated=counts.get("deactivated", 0),
            unchanged=counts.get("unchanged", 0),
        )
    )
    for row in report.get("updated", [])[:20]:
        changes = "; ".join(
            f"{_label(run.kind, name)}: {old or '—'} → {new or '—'}"
            for name, (old, new) in row["changes"].items()
        )
        click.echo(f"  ~ {row['key']} {row['label']}: {changes}")
    for row in report.get("deactivated", [])[:20]:
        click.echo(f"  - {row['key']} {row['label']}")


def _fields(kind: str) -> list[str]:
    return [c.name for c in columns_of(kind)]


def _label(kind: str, name: str) -> str:
    return _("Status") if name == "active" else str(column(kind, name).label)


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)
