"""``flask invite-staff``: invitations for staff with an e-mail address and no login."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from app.auth.services.invitations import InvitationRun, invite_staff
from app.extensions import db
from app.staff.services import find_department


def register_invitation_commands(app: Flask) -> None:
    @app.cli.command("invite-staff")
    @click.option("--department", help="Code of a department: that subtree only.")
    @click.option("--dry-run", is_flag=True, help="Only count; send nothing.")
    def invite_staff_command(department: str | None, dry_run: bool) -> None:
        """Invite active staff with an e-mail address and no login to set their password."""
        roots = None
        if department:
            root = find_department(db.session, department)
            if root is None:
                raise click.BadParameter(f"no department has the code {department!r}")
            roots = [root]
        run = invite_staff(
            db.session,
            departments=roots,
            valid_for=timedelta(days=app.config["INVITATION_VALID_DAYS"]),
            secret=app.config["SECRET_KEY"],
            dry_run=dry_run,
        )
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        click.echo(describe(run))


def describe(run: InvitationRun) -> str:
    lines = [
        f"{'Would invite' if run.dry_run else 'Invited'}: {run.invited}",
        f"Already invited (unused, still valid): {run.already_invited}",
        f"Have a login: {run.has_login}",
        f"Shared addresses (nobody invited): {len(run.shared_addresses)}",
    ]
    lines += [f"  {address}" for address in run.shared_addresses]
    return "\n".join(lines)
