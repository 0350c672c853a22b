"""Helpers the benchmark scripts share."""

from __future__ import annotations

import socket


def recreate_database(url: str) -> None:
    """Drop and create the (PostgreSQL) database named in ``url``: benchmarks start empty."""
    import psycopg
    from sqlalchemy.engine import make_url

    from config import normalise_database_url

    parsed = make_url(normalise_database_url(url))
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{parsed.database}"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
