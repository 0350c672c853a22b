"""Monthly coverage snapshots (for the trend) and exports built in the background."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime, utcnow
from app.extensions import Model


class CoverageSnapshot(Model):
    """Coverage of one department (with its subtree; None: the whole city) for one requirement,
    as it was on ``taken_on``."""

    __tablename__ = "coverage_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "taken_on", "department_id", "requirement_id", name="uq_coverage_snapshots_key"
        ),
        Index("ix_coverage_snapshots_lookup", "department_id", "requirement_id", "taken_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_on: Mapped[date]
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE")
    )
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirements.id", ondelete="CASCADE"))
    in_scope: Mapped[int]
    covered: Mapped[int]
    overdue: Mapped[int]
    due_soon: Mapped[int]
    exempt: Mapped[int]


class ReportStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportFile(Model):
    """An export built in the background; the finished file is kept here, in the database, so
    any web node can hand it out."""

    __tablename__ = "report_files"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s.value) for s in ReportStatus)})", name="status_known"
        ),
        CheckConstraint("format IN ('csv', 'xlsx')", name="format_known"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unguessable id in the download link.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE")
    )
    format: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
