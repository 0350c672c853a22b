"""Mandatory-training rules, their audiences, and exemptions of single people."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime, utcnow
from app.courses.models import Course
from app.extensions import Model, db
from app.staff.models import Department, Employee


class AudienceKind(enum.StrEnum):
    ALL = "all"
    DEPARTMENT = "department"  # the department and everything below it
    POSITION = "position"  # a job title, compared without case


#: Courses that fulfil a requirement; any one of them counts.
requirement_courses = Table(
    "requirement_courses",
    db.metadata,
    Column("requirement_id", ForeignKey("requirements.id", ondelete="CASCADE"), primary_key=True),
    Column("course_id", ForeignKey("courses.id", ondelete="RESTRICT"), primary_key=True),
)


class Requirement(Model):
    """Pflichtschulung: an audience must hold one of the courses, first by a due date, then
    again every ``renewal_months``."""

    __tablename__ = "requirements"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = (
        "name",
        "first_due_date",
        "grace_days",
        "renewal_months",
        "renewal_window_days",
        "cycle_month",
        "cycle_day",
        "active",
        "courses",
    )
    __audit_entity__ = "requirement"
    __table_args__ = (
        CheckConstraint(
            "first_due_date IS NOT NULL OR grace_days IS NOT NULL", name="has_first_due"
        ),
        CheckConstraint("grace_days IS NULL OR grace_days >= 0", name="grace_not_negative"),
        CheckConstraint("renewal_months IS NULL OR renewal_months > 0", name="renewal_positive"),
        CheckConstraint(
            "renewal_window_days IS NULL OR renewal_window_days >= 0", name="window_not_negative"
        ),
        CheckConstraint("(cycle_month IS NULL) = (cycle_day IS NULL)", name="cycle_month_and_day"),
        CheckConstraint(
            "cycle_month IS NULL OR (cycle_month BETWEEN 1 AND 12 AND cycle_day BETWEEN 1 AND 28)",
            name="cycle_date_valid",
        ),
        CheckConstraint("cycle_month IS NULL OR renewal_months IS NULL", name="one_renewal_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    #: Everyone in the audience must have completed a course by this date …
    first_due_date: Mapped[date | None]
    #: … or, for people who start later, this many days after their entry date.
    grace_days: Mapped[int | None]
    #: A completion counts for this many months (besides the course's own validity);
    #: None: once is enough (unless the course's completion expires).
    renewal_months: Mapped[int | None]
    #: Renewing this many days before the period ends does not shorten the next period: it
    #: starts when the old one ends (with ``renewal_months``).
    renewal_window_days: Mapped[int | None]
    #: Instead of ``renewal_months``: a fixed yearly cycle, due every year on this day and
    #: month; a completion counts until the cycle day a year after the next one.
    cycle_month: Mapped[int | None]
    cycle_day: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    courses: Mapped[list[Course]] = relationship(
        secondary=requirement_courses, order_by="Course.title"
    )
    audience: Mapped[list[AudienceRule]] = relationship(
        back_populates="requirement", cascade="all, delete-orphan", order_by="AudienceRule.id"
    )


class AudienceRule(Model):
    """Who a requirement applies to: rules that include, and rules that exclude (exclude wins)."""

    __tablename__ = "requirement_audience"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = ("requirement_id", "kind", "department_id", "position", "exclude")
    __audit_entity__ = "requirement_audience"
    __table_args__ = (
        CheckConstraint(
            f"kind IN ({', '.join(repr(k.value) for k in AudienceKind)})", name="kind_known"
        ),
        CheckConstraint(
            "(kind = 'department') = (department_id IS NOT NULL)", name="department_rule"
        ),
        CheckConstraint("(kind = 'position') = (position IS NOT NULL)", name="position_rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("requirements.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE")
    )
    position: Mapped[str | None] = mapped_column(String(200))
    exclude: Mapped[bool] = mapped_column(default=False)

    requirement: Mapped[Requirement] = relationship(back_populates="audience")
    department: Mapped[Department | None] = relationship()


class Exemption(Model):
    """A person is out of scope of a requirement for a while (parental leave, long illness,
    equivalent external training); reports show them separately."""

    __tablename__ = "exemptions"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = ("employee_id", "requirement_id", "starts_on", "ends_on")
    __audit_entity__ = "exemption"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), index=True
    )
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("requirements.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date]
    #: Last day of the exemption; None: until further notice.
    ends_on: Mapped[date | None]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee: Mapped[Employee] = relationship()
    requirement: Mapped[Requirement] = relationship()


class CoverageFact(Model):
    """What one person's status for one requirement depends on, kept beside the data.

    One row per active person and active requirement whose audience they are in. Written in
    the same transaction as every change that affects it (``requirements.facts``), rebuilt by
    a Celery task when a requirement changes. The status on any day follows from comparing
    dates (and the exemptions running that day), so nothing needs rewriting at midnight.
    """

    __tablename__ = "coverage_facts"
    __table_args__ = (
        CheckConstraint("valid_until IS NULL OR due_on >= valid_until", name="due_not_before_end"),
        # Reports aggregate per department and requirement; the columns they compare ride along.
        Index(
            "ix_coverage_facts_department_requirement",
            "department_id",
            "requirement_id",
            "due_on",
            "valid_until",
            "exit_date",
        ),
        Index("ix_coverage_facts_requirement", "requirement_id"),
    )

    employee_id: Mapped[int] = mapped_column(
        ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True
    )
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("requirements.id", ondelete="CASCADE"), primary_key=True
    )
    #: The person's department (a move rewrites the row).
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    #: In scope up to and including this day (None: no exit date).
    exit_date: Mapped[date | None]
    #: The last day the best completion counts (None: none held; 9999-12-31: unlimited).
    valid_until: Mapped[date | None]
    #: The later of the first due date and ``valid_until``.
    due_on: Mapped[date]


class CoverageRebuild(Model):
    """A rebuild of coverage facts (one requirement, or all when ``requirement_id`` is None),
    with its progress; queued when a requirement changes in a large city, or on demand."""

    __tablename__ = "coverage_rebuilds"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requirement_id: Mapped[int | None] = mapped_column(
        ForeignKey("requirements.id", ondelete="CASCADE")
    )
    state: Mapped[str] = mapped_column(String(20), default="queued")
    employees_done: Mapped[int] = mapped_column(default=0)
    employees_total: Mapped[int] = mapped_column(default=0)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Who runs it (a token of one task run); progress and the end are written only while
    #: this is still theirs.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    #: Stamped with each range of people done; a running rebuild whose stamp is older than the
    #: lease (``COVERAGE_REBUILD_LEASE_SECONDS``) lost its worker and is taken over.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requirement: Mapped[Requirement | None] = relationship()


class CoverageCheck(Model):
    """One comparison of the kept coverage facts with the live computation: of a random
    sample of people (nightly) or of everyone (weekly, or on demand)."""

    __tablename__ = "coverage_checks"
    __table_args__ = (
        CheckConstraint("kind IN ('sample', 'full')", name="kind_known"),
        CheckConstraint("people >= 0 AND missing >= 0 AND extra >= 0", name="counts_not_negative"),
        CheckConstraint(
            "finished_at IS NULL OR started_at IS NOT NULL", name="finished_after_start"
        ),
        Index("ix_coverage_checks_kind_finished", "kind", "finished_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set by the task that runs it (None: waiting for a worker).
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: People compared so far.
    people: Mapped[int] = mapped_column(default=0)
    #: Rows the live computation has that the table lacks or holds otherwise …
    missing: Mapped[int] = mapped_column(default=0)
    #: … and rows the table holds that the live computation does not.
    extra: Mapped[int] = mapped_column(default=0)
    #: A few of the differing rows, as text.
    examples: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: A rebuild was queued or running when the check started: until it has run, the rows of
    #: its requirements differ by design.
    rebuild_pending: Mapped[bool] = mapped_column(default=False)
    #: Rows of today's ``coverage_counts`` that differ from counting the facts.
    counts_differing: Mapped[int] = mapped_column(default=0)

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.counts_differing


class CoverageCountDay(Model):
    """A day for which ``coverage_counts`` holds the counts, built with this due-soon window.
    Normally one row: today's (``requirements.counts``)."""

    __tablename__ = "coverage_count_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    due_soon_days: Mapped[int]
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CoverageCount(Model):
    """How many people of a department have which status for a requirement on a day, not
    counting exemptions (they are few and joined when read). Built once a day from
    ``coverage_facts`` and kept by every rewrite of facts in the same transaction, so HR's
    city page sums a few thousand rows instead of a row per person and requirement."""

    __tablename__ = "coverage_counts"

    day: Mapped[date] = mapped_column(
        ForeignKey("coverage_count_days.day", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True
    )
    requirement_id: Mapped[int] = mapped_column(
        ForeignKey("requirements.id", ondelete="CASCADE"), primary_key=True
    )
    in_scope: Mapped[int] = mapped_column(default=0)
    compliant: Mapped[int] = mapped_column(default=0)
    due_soon: Mapped[int] = mapped_column(default=0)
    overdue: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    exempt: Mapped[int] = mapped_column(default=0)
    covered: Mapped[int] = mapped_column(default=0)
