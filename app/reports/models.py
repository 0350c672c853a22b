"""Monthly coverage snapshots, so the trend over time can be shown."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class CoverageSnapshot(db.Model):
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
