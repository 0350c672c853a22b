"""``flask invite-staff``: invitations for staff with an e-mail address and no login;
``flask create-admin``: the first admin of a deployment."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from sqlalchemy import select

from app.auth import services
from app.auth.models import User
from app.auth.services.invitations import InvitationRun, invite_staff
from app.core.roles import Role
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


def register_admin_commands(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.argument("email")
    def create_admin_command(email: str) -> None:
        """Give the login EMAIL the admin role (creating it, with a password asked for here)."""
        user = db.session.scalar(select(User).where(User.email == services.normalise_email(email)))
        try:
            if user is None:
                password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
                user = services.create_user(
                    db.session, email=email, password=password, roles=[Role.ADMIN]
                )
            else:
                services.update_user(
                    db.session,
                    user,
                    roles=user.roles | {Role.ADMIN},
                    employee=user.employee,
                    headed_departments=user.headed_departments,
                    active=True,
                )
        except services.PasswordTooShort:
            db.session.rollback()
            raise click.ClickException(
                f"the password needs at least {services.MIN_PASSWORD_LENGTH} characters"
            ) from None
        except services.AuthError as error:
            db.session.rollback()
            raise click.ClickException(f"{type(error).__name__}: {error}") from None
        db.session.commit()
        click.echo(f"{user.email} is an admin and may log in.")
        if not user.has_password:
            click.echo(
                "It has no local password: it logs in through the directory or single sign-on."
            )


def describe(run: InvitationRun) -> str:
    lines = [
        f"{'Would invite' if run.dry_run else 'Invited'}: {run.invited}",
        f"Already invited (unused, still valid): {run.already_invited}",
        f"Have a login: {run.has_login}",
        f"Shared addresses (nobody invited): {len(run.shared_addresses)}",
    ]
    lines += [f"  {address}" for address in run.shared_addresses]
    return "\n".join(lines)
