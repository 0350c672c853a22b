"""``flask api-client create|rotate|revoke|list``: API clients for scripts; a token is
printed once."""

from __future__ import annotations

import click
from flask import Flask

from app.api import services
from app.api.models import ApiClient, Scope
from app.core.audit import Actor, Channel, acting_as
from app.extensions import db

CLI_ACTOR = Actor(None, "cli", Channel.CLI)


def register_api_client_commands(app: Flask) -> None:
    @app.cli.group("api-client")
    def api_client() -> None:
        """API clients and their tokens."""

    @api_client.command("create")
    @click.argument("name")
    @click.option(
        "--scope",
        "scopes",
        multiple=True,
        required=True,
        type=click.Choice([scope.value for scope in Scope]),
        help="A scope to grant (repeat for several).",
    )
    def create(name: str, scopes: tuple[str, ...]) -> None:
        """Create a client and print its token (shown only this once)."""
        with acting_as(CLI_ACTOR):
            try:
                _client, token = services.create_client(
                    db.session, name=name, scopes=scopes, created_by="cli"
                )
            except services.ClientError as error:
                raise click.ClickException(f"cannot create the client: {error}") from error
            db.session.commit()
        click.echo(token)

    @api_client.command("rotate")
    @click.argument("name")
    def rotate(name: str) -> None:
        """Give the client a new token (printed once); the old one stops at once."""
        with acting_as(CLI_ACTOR):
            try:
                token = services.rotate_token(db.session, _client(name))
            except services.ClientError as error:
                raise click.ClickException("a revoked client gets no new token") from error
            db.session.commit()
        click.echo(token)

    @api_client.command("revoke")
    @click.argument("name")
    def revoke(name: str) -> None:
        """Stop the client's token for good."""
        with acting_as(CLI_ACTOR):
            services.revoke(db.session, _client(name))
            db.session.commit()
        click.echo(f"revoked: {name}")

    @api_client.command("list")
    def list_clients() -> None:
        """Print every client with its scopes and state."""
        for client in services.list_clients(db.session):
            state = "revoked" if client.revoked_at else "active"
            click.echo(f"{client.name}\t{client.scopes}\t{client.token_prefix}…\t{state}")


def _client(name: str) -> ApiClient:
    client = services.find_client(db.session, name)
    if client is None:
        raise click.ClickException(f"no API client is named {name!r}")
    return client
