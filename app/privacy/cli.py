"""``flask retention [--dry-run]``: what the retention settings anonymise and delete, now."""

from __future__ import annotations

import getpass

import click
from flask import Flask, current_app

from app.core.audit import Actor, Channel
from app.core.types import utcnow
from app.extensions import db
from app.privacy import retention


def register_retention_commands(app: Flask) -> None:
    app.cli.add_command(retention_command)


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Only count what would change; change nothing.")
def retention_command(dry_run: bool) -> None:
    """Anonymise leavers and delete what is kept longer than the retention settings allow
    (with --dry-run: print the counts only). Each run is reported and recorded in the audit log."""
    actor = Actor(user_id=None, name=f"CLI ({getpass.getuser()})", channel=Channel.CLI)
    report = retention.run(
        db.session,
        periods=retention.Periods.from_config(current_app.config),
        now=utcnow(),
        apply=not dry_run,
        source="cli",
        actor=actor,
    )
    verb = "would change" if dry_run else "changed"
    for category in retention.CATEGORIES:
        click.echo(f"{category}: {verb} {report.counts.get(category, 0)}")
