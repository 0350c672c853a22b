"""Command-line commands: ``flask seed-demo`` and friends."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from sqlalchemy import func, select

from app.core.audit import Actor, Channel, acting_as
from app.extensions import db


def register_cli(app: Flask) -> None:
    from app.auth.cli import register_admin_commands, register_invitation_commands

    register_invitation_commands(app)
    register_admin_commands(app)
    from app.imports.cli import register_import_commands

    register_import_commands(app)
    from app.requirements.cli import register_coverage_commands

    register_coverage_commands(app)
    from app.privacy.cli import register_retention_commands

    register_retention_commands(app)
    from app.api.cli import register_api_client_commands

    register_api_client_commands(app)

    @app.cli.command("coverage-report")
    @click.option("--department", help="Code of a department: that subtree only.")
    @click.option(
        "--format", "file_format", type=click.Choice(["csv", "xlsx", "pdf"]), default="csv"
    )
    @click.option("-o", "--output", type=click.File("wb"), default="-")
    def coverage_report(department: str | None, file_format: str, output) -> None:
        """Write the coverage report of the city or a subtree (CSV, XLSX or PDF) for scripts."""
        from app.core.clock import local_today
        from app.reports.background import export_content, record_export
        from app.reports.services import scope_of
        from app.staff.services import find_department

        root = None
        if department:
            root = find_department(db.session, department)
            if root is None:
                raise click.BadParameter(f"no department has the code {department!r}")
        roots, rows_for = scope_of(db.session, root, None)
        _name, content = export_content(
            db.session,
            department=root,
            roots=roots,
            rows_for=rows_for,
            file_format=file_format,
            today=local_today(),
            due_soon_days=app.config["DUE_SOON_DAYS"],
            city_name=app.config["CITY_NAME"],
        )
        record_export(
            db.session,
            filename=_name,
            roots=roots,
            file_format=file_format,
            today=local_today(),
            due_soon_days=app.config["DUE_SOON_DAYS"],
        )
        db.session.commit()
        output.write(content)

    @app.cli.command("send-due-reminders")
    def send_due_reminders() -> None:
        """Queue due reminders, escalations and digests, deliver the outbox once (cron users)."""
        from app.core.clock import local_today
        from app.notifications.delivery import deliver_pending
        from app.notifications.scans import queue_session_reminders
        from app.notifications.tasks import queue_all_requirement_messages

        queued = queue_session_reminders(
            db.session, days_before=app.config["SESSION_REMINDER_DAYS"]
        )
        queued += queue_all_requirement_messages(local_today())
        db.session.commit()
        report = deliver_pending(db.session)
        click.echo(
            f"{queued} reminders queued; {report.sent} sent, {report.retrying} to retry, "
            f"{report.failed} failed."
        )
        for line in report.errors:
            click.echo(f"  failed: {line}")

    @app.cli.command("seed-demo")
    @click.option(
        "--seed", default=2026, show_default=True, help="Random seed (same seed, same city)."
    )
    def seed_demo(seed: int) -> None:
        """Load the demo city (Neu-Isenburg-like) into an empty database; print the demo logins."""
        from app.demo import DEMO_PASSWORD, seed_demo_city
        from app.staff.models import Department

        if db.session.scalar(select(func.count(Department.id))):
            click.echo("The database already holds departments; demo city not loaded.")
        else:
            summary = seed_demo_city(db.session, seed=seed)
            db.session.commit()
            click.echo(
                f"Demo city loaded: {summary.departments} departments, "
                f"{summary.employees} employees, {summary.courses} courses, "
                f"{summary.sessions} sessions, {summary.completions} completions."
            )
        # Today's coverage counts, as the worker's beat would count them.
        from app.core.clock import local_today
        from app.requirements import counts

        counts.build(db.session, day=local_today(), due_soon_days=app.config["DUE_SOON_DAYS"])
        from app.demo import DEMO_LOGINS

        click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in DEMO_LOGINS:
            click.echo(f"  {role:<24} {email}")

    _declare_cli_actors(app.cli)


def _declare_cli_actors(group: click.Group, prefix: str = "") -> None:
    """Each command acts as ``cli: <command>`` in the audit log (no login runs a command)."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            _declare_cli_actors(command, f"{prefix}{name} ")
        elif command.callback is not None and not getattr(command.callback, "acts_as", None):
            command.callback = _acting_as(command.callback, f"cli: {prefix}{name}")


def _acting_as(callback: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        with acting_as(Actor(user_id=None, name=name, channel=Channel.CLI)):
            return callback(*args, **kwargs)

    run.acts_as = name  # type: ignore[attr-defined]  # wrapped once, also across apps
    return run
