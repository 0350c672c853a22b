"""``flask coverage-facts rebuild|check``: progress, differences, exit codes."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from app.extensions import db as _db
from app.requirements import facts
from app.requirements.models import CoverageCheck, CoverageRebuild
from tests.requirements.test_facts import city  # noqa: F401


def invoke(app, *args):
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["coverage-facts", *args])
    _db.session.expire_all()
    return result


def test_check_exits_0_when_the_table_is_right_and_1_with_the_differences(app, city):  # noqa: F811
    result = invoke(app, "check")
    assert result.exit_code == 0, result.output
    assert "3 people compared: 0 rows missing or different, 0 extra." in result.output

    _db.session.execute(
        text("UPDATE coverage_facts SET department_id = :d WHERE employee_id = :e"),
        {"d": city["top"].id, "e": city["anna"].id},
    )
    result = invoke(app, "check", "--full")
    assert result.exit_code == 1
    assert "3 people compared: 2 rows missing or different, 2 extra." in result.output
    assert f"  missing: employee {city['anna'].id}, " in result.output
    assert "3 of 3 people (100 %)" in result.output
    assert [c.kind for c in _db.session.scalars(select(CoverageCheck))] == ["sample", "full"]


def test_rebuild_shows_progress_and_puts_the_table_right(app, city, monkeypatch):  # noqa: F811
    monkeypatch.setattr(facts, "CHUNK", 2)
    _db.session.execute(text("DELETE FROM coverage_facts"))
    result = invoke(app, "rebuild")
    assert result.exit_code == 0, result.output
    # Ranges of ids are aligned to multiples of CHUNK (ids 1, 2, 3: ranges 0–1 and 2–3); on
    # PostgreSQL both run side by side, so either may report first.
    assert re.findall(r"^  (\d) of 3 people", result.output, re.MULTILINE) in (
        ["1", "3"],
        ["2", "3"],
    )
    assert result.output.endswith("  3 of 3 people (100 %)\nDone.\n")
    assert _db.session.scalars(select(CoverageRebuild.state)).all() == ["done"]
    assert invoke(app, "check", "--full").exit_code == 0
