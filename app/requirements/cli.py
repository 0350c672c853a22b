"""``flask coverage-facts rebuild|check``: rebuild the kept coverage facts with a progress
display, or compare them with the live computation (exit status 1 on any difference)."""

from __future__ import annotations

import click
from flask import Flask, current_app

from app.extensions import db
from app.requirements import fact_checks, facts


def register_coverage_commands(app: Flask) -> None:
    app.cli.add_command(coverage_facts)


@click.group("coverage-facts")
def coverage_facts() -> None:
    """The table of coverage facts that reports read."""


@coverage_facts.command("rebuild")
def rebuild() -> None:
    """Rebuild every person's facts for every requirement now, a range of people at a time
    (shown on the status page as a running rebuild)."""
    rebuild_id = facts.queue_rebuild(db.session, None).id
    db.session.commit()
    click.echo("Rebuilding the coverage facts …")
    if not facts.run_rebuild(db.session, rebuild_id, on_progress=_show_progress):
        click.echo("A worker is already running this rebuild; see the status page.", err=True)
        raise SystemExit(1)
    click.echo("Done.")


@coverage_facts.command("check")
@click.option("--full", is_flag=True, help="Compare everyone, not a random sample.")
def check(full: bool) -> None:
    """Compare the kept facts with the live computation; print the differences and exit
    with status 1 if there are any."""
    check_id = fact_checks.request_check(db.session, "full" if full else "sample").id
    db.session.commit()
    found = fact_checks.run_check(
        db.session,
        check_id,
        sample_size=current_app.config["COVERAGE_CHECK_SAMPLE"],
        on_progress=_show_progress if full else None,
    )
    assert found is not None  # recorded just now, so run here
    click.echo(
        f"{found.people} people compared: {found.missing} rows missing or different, "
        f"{found.extra} extra."
    )
    for line in found.examples:
        click.echo(f"  {line}")
    if found.differences:
        click.echo("Run `flask coverage-facts rebuild` to put them right.", err=True)
        raise SystemExit(1)


def _show_progress(done: int, total: int) -> None:
    percent = 100 * done // total if total else 100
    click.echo(f"  {done} of {total} people ({percent} %)")
