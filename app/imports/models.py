"""Every import is recorded: who, when, which file (kept here so any worker can read it),
what it would change and what it changed."""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.types import UTCDateTime, sql_values, utcnow
from app.extensions import Model


class ImportKind(enum.StrEnum):
    DEPARTMENTS = "departments"
    STAFF = "staff"
    COMPLETIONS = "completions"


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting to be checked
    CHECKING = "checking"
    MAPPING = "mapping"  # columns the product does not know: the user maps them
    INVALID = "invalid"  # the file has errors; nothing was imported
    READY = "ready"  # checked: the preview waits for confirmation
    APPLYING = "applying"
    DONE = "done"
    DISCARDED = "discarded"
    FAILED = "failed"  # an unexpected error; nothing was imported


#: Statuses in which a worker is (or will be) busy with the run.
BUSY_STATUSES = (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.APPLYING)


class ImportRun(Model):
    """One uploaded file and its way through check, preview and confirmation."""

    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_values(ImportKind)})", name="kind_known"),
        CheckConstraint(f"status IN ({sql_values(ImportStatus)})", name="status_known"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Unguessable id in the page's address.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(default=0)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: A staff file lists everyone: whoever is missing has left.
    full_export: Mapped[bool] = mapped_column(default=False)
    #: HR asked, when confirming, to invite the new people (a link to set their own password).
    invite_new: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Columns the user mapped by hand, as JSON ``{"header in the file": "field"}``.
    mapping_json: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(default=0)
    #: What the check found (preview) or what was done, as JSON (see ``services.summarise``).
    report_json: Mapped[str] = mapped_column(Text, default="{}")
    #: Hash of the changes the preview showed; confirming applies only those.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    deactivated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    uploaded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: Who started it when no user did (the CLI): the operating-system account.
    uploaded_by_label: Mapped[str] = mapped_column(String(100), default="")
    confirmed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_user_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_user_id])

    @property
    def mapping(self) -> dict[str, str]:
        return json.loads(self.mapping_json or "{}")

    @property
    def report(self) -> dict:
        return json.loads(self.report_json or "{}")

    @property
    def busy(self) -> bool:
        return self.status in BUSY_STATUSES

    @property
    def uploader_name(self) -> str:
        return self.uploaded_by.email if self.uploaded_by else self.uploaded_by_label
