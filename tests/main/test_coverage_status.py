"""The status page's section on coverage data: the last checks, a rebuild's progress, and the
buttons that start a rebuild or a check; HR's coverage pages say when figures are rebuilt."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import delete, select, text, update

from app.core.roles import Role
from app.core.types import utcnow
from app.extensions import db as _db
from app.requirements import facts
from app.requirements.models import CoverageCheck, CoverageCount, CoverageCountDay, CoverageRebuild
from app.requirements.tasks import check_coverage
from tests.conftest import csrf_token
from tests.requirements.test_facts import city  # noqa: F401


@pytest.fixture(autouse=True)
def facts_only(city):  # noqa: F811
    """These tests corrupt facts behind the app's back, which also sets the counts kept per
    department apart from them: without counts, each test sees only the facts' differences
    (test_counts_corrupted_behind_the_apps_back covers the counts)."""
    _db.session.execute(delete(CoverageCount))
    _db.session.execute(delete(CoverageCountDay))
    _db.session.commit()


def section(page: str) -> str:
    start = page.index('<h2 id="coverage-facts">')
    return page[start : page.index("</section>", start)]


def wait_until(condition, seconds: float = 30) -> bool:
    """Poll (a worker may run the task in Redis mode; in-process it is done already)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _db.session.expire_all()
        if condition():
            return True
        _db.session.commit()
        time.sleep(0.1)
    return False


def test_a_corrupted_fact_is_found_and_shown(client, login, hr, city):  # noqa: F811
    _db.session.commit()
    assert check_coverage(kind="sample") == 0
    _db.session.execute(
        text("DELETE FROM coverage_facts WHERE employee_id = :e"), {"e": city["ben"].id}
    )
    _db.session.commit()
    assert check_coverage(kind="full") == 1

    login("hr@stadt.example")
    shown = section(client.get("/status").get_data(as_text=True))
    assert '<h2 id="coverage-facts">Abdeckungsdaten</h2>' in shown
    sample_row = shown[shown.index("Stichprobe (nächtlich)") : shown.index("Alle (wöchentlich)")]
    assert '<span class="result--ok">Keine Abweichungen</span>' in sample_row
    full_row = shown[shown.index("Alle (wöchentlich)") :]
    assert '<strong class="result--differences">1 Abweichung</strong>' in full_row
    assert "1 fehlend oder abweichend, 0 überzählig" in full_row
    assert f"missing: employee {city['ben'].id}," in full_row  # the example
    assert "Noch nicht geprüft" not in shown
    assert "Während dieser Prüfung" not in shown


def test_admins_see_the_result_without_personal_examples(client, login, make, city):  # noqa: F811
    _db.session.execute(
        text("DELETE FROM coverage_facts WHERE employee_id = :e"), {"e": city["ben"].id}
    )
    _db.session.commit()
    assert check_coverage(kind="full") == 1
    make.user("admin@stadt.example", roles=(Role.ADMIN,), with_employee=False)
    login("admin@stadt.example")
    shown = section(client.get("/status").get_data(as_text=True))
    assert '<strong class="result--differences">1 Abweichung</strong>' in shown
    assert "missing: employee" not in shown and "Beispiele" not in shown


def test_a_check_during_a_rebuild_says_so(client, login, hr, city):  # noqa: F811
    facts.queue_rebuild(_db.session, city["everyone"].id)
    _db.session.commit()
    assert check_coverage(kind="sample") == 0
    login("hr@stadt.example")
    shown = section(client.get("/status").get_data(as_text=True))
    assert "Während dieser Prüfung war ein Neuaufbau eingeplant oder in Arbeit" in shown


def test_a_running_rebuild_shows_its_progress(client, login, hr, city):  # noqa: F811
    rebuild = facts.queue_rebuild(_db.session, city["everyone"].id)
    rebuild.state, rebuild.employees_done, rebuild.employees_total = "running", 1, 3
    rebuild.heartbeat_at = utcnow()
    _db.session.commit()

    login("hr@stadt.example")
    shown = section(client.get("/status").get_data(as_text=True))
    assert "Die Abdeckungsdaten werden neu aufgebaut." in shown
    assert "Pflichtschulung: Basis" in shown
    assert '<label for="rebuild-progress">Fortschritt des Neuaufbaus</label>' in shown
    assert '<progress id="rebuild-progress" max="100" value="33">33 %</progress>' in shown
    assert "1 von 3 Personen" in shown

    coverage = client.get("/reports/coverage").get_data(as_text=True)
    assert "werden nach einer Änderung der Pflichtschulungen neu aufgebaut" in coverage
    assert "(1 von 3 Personen erledigt)" in coverage
    people = client.get("/reports/people").get_data(as_text=True)
    assert 'class="notice" role="status">Die Abdeckungszahlen werden' in people

    _db.session.execute(update(CoverageRebuild).values(state="done", finished_at=utcnow()))
    _db.session.commit()
    assert "Abdeckungszahlen" not in client.get("/reports/coverage").get_data(as_text=True)
    assert "Noch nicht geprüft." in section(client.get("/status").get_data(as_text=True))


def test_the_buttons_start_a_rebuild_and_a_check(client, login, hr, city, celery_worker):  # noqa: F811
    _db.session.execute(text("DELETE FROM coverage_facts"))  # drifted: the check finds it
    _db.session.commit()
    login("hr@stadt.example")
    token = csrf_token(client, "/status")

    response = client.post("/status/coverage/check", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/status#coverage-facts"
    )
    assert wait_until(
        lambda: _db.session.scalar(
            select(CoverageCheck.missing).where(CoverageCheck.finished_at.is_not(None))
        )
    )
    check = _db.session.scalars(select(CoverageCheck)).one()
    assert check.kind == "full" and check.missing == 4 and check.extra == 0
    _db.session.commit()

    response = client.post("/status/coverage/rebuild", data={"csrf_token": token})
    assert response.status_code == 302
    assert wait_until(lambda: _db.session.scalar(select(CoverageRebuild.state)) == "done")
    rebuild = _db.session.scalars(select(CoverageRebuild)).one()
    assert rebuild.requirement_id is None and rebuild.employees_done == 3
    assert facts.differences(_db.session).total == 0
    _db.session.commit()
    page = client.get("/status", follow_redirects=True).get_data(as_text=True)
    assert "Der Neuaufbau der Abdeckungsdaten wurde gestartet." in page


def test_the_buttons_need_the_token_and_the_role(client, login, hr, staff_user):
    login("hr@stadt.example")
    assert client.post("/status/coverage/rebuild").status_code == 400
    assert client.post("/status/coverage/check", data={"csrf_token": "forged"}).status_code == 400
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})

    login("erika@stadt.example")
    token = csrf_token(client, "/")
    assert client.post("/status/coverage/rebuild", data={"csrf_token": token}).status_code == 403
    assert client.post("/status/coverage/check", data={"csrf_token": token}).status_code == 403
    assert _db.session.scalars(select(CoverageRebuild)).all() == []
    assert _db.session.scalars(select(CoverageCheck)).all() == []


def test_a_failed_rebuild_is_flagged_until_one_runs_again(client, login, hr, city):  # noqa: F811
    facts.queue_rebuild(_db.session, None)
    _db.session.execute(update(CoverageRebuild).values(state="failed", finished_at=utcnow()))
    _db.session.commit()
    login("hr@stadt.example")
    shown = section(client.get("/status").get_data(as_text=True))
    assert 'class="notice notice--error">Der letzte Neuaufbau der Abdeckungsdaten ist am' in shown

    facts.queue_rebuild(_db.session, None)
    _db.session.commit()
    assert facts.run_pending_rebuilds(_db.session) == 1
    shown = section(client.get("/status").get_data(as_text=True))
    assert "fehlgeschlagen" not in shown


def test_counts_corrupted_behind_the_apps_back(client, login, hr, city):  # noqa: F811
    """Today's counts per department are checked against counting the facts, and shown."""
    from app.core.clock import local_today
    from app.requirements import counts

    assert counts.build(_db.session, day=local_today(), due_soon_days=30)
    assert check_coverage(kind="sample") == 0
    _db.session.execute(
        update(CoverageCount)
        .where(
            CoverageCount.department_id == city["kita"].id,
            CoverageCount.requirement_id == city["everyone"].id,
        )
        .values(covered=CoverageCount.covered + 5)
    )
    _db.session.commit()
    assert check_coverage(kind="full") == 1

    login("hr@stadt.example")
    full_row = section(client.get("/status").get_data(as_text=True))
    full_row = full_row[full_row.index("Alle (wöchentlich)") :]
    assert '<strong class="result--differences">1 Abweichung</strong>' in full_row
    assert "abweichende Zählungen je Organisationseinheit: 1" in full_row
    assert f"department {city['kita'].id}, requirement" in full_row
