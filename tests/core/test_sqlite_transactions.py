"""SQLite runs with real transactions, WAL and foreign keys (the embedded default)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.staff.models import Employee


@pytest.fixture
def sqlite_only(db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("checks SQLite settings; PostgreSQL has them natively")


def test_sqlite_pragmas(db, sqlite_only):
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_foreign_keys_are_enforced(db):
    db.session.add(
        Employee(personnel_number="1", first_name="A", last_name="B", department_id=987654)
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
