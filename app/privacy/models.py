"""What the privacy area keeps: the reports of the retention runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime, utcnow
from app.extensions import Model


class RetentionRun(Model):
    """One run of the retention (nightly, or ``flask retention``): how many rows of each
    category it anonymised or deleted, or, when ``applied`` is false, would have."""

    __tablename__ = "retention_runs"
    __table_args__ = (CheckConstraint("source IN ('nightly', 'cli', 'web')", name="source_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: False: a dry run, which changed nothing and reports what a real run would change.
    applied: Mapped[bool]
    source: Mapped[str] = mapped_column(String(20))
    #: ``{category: rows}``, the categories of ``privacy.retention.CATEGORIES``.
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: The retention settings the run used (``{setting: value}``).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
