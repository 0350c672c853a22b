"""The organisation: departments as a tree, and the people on staff."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import local_today
from app.core.types import UTCDateTime, utcnow
from app.extensions import Model


class Department(Model):
    """A node of the organisation tree (Dezernat > Fachbereich > Abteilung, any depth)."""

    __tablename__ = "departments"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = ("code", "name", "parent_id")
    __audit_entity__ = "department"
    __table_args__ = (
        CheckConstraint("depth >= 0", name="depth_not_negative"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        Index(
            "ix_departments_path_prefix",
            "path",
            postgresql_ops={"path": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    #: Ids from the root down to this node, e.g. ``/1/4/17/``; a subtree is a prefix match.
    path: Mapped[str] = mapped_column(String(1000), default="")
    #: 0 for a root (Dezernat), 1 for its children, …
    depth: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(
        back_populates="parent", order_by="[Department.name, Department.id]"
    )
    employees: Mapped[list[Employee]] = relationship(back_populates="department")

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class Employee(Model):
    """A person on staff, identified by the HR system's personnel number."""

    __tablename__ = "employees"
    #: Recorded in the audit log on every change (app/core/audit_trail.py).
    __audit__ = (
        "personnel_number",
        "department_id",
        "position",
        "entry_date",
        "exit_date",
        "active",
    )
    __audit_entity__ = "employee"
    __table_args__ = (
        CheckConstraint(
            "exit_date IS NULL OR entry_date IS NULL OR exit_date >= entry_date",
            name="exit_after_entry",
        ),
        CheckConstraint("locale IN ('de', 'en')", name="locale_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    personnel_number: Mapped[str] = mapped_column(String(32), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[str | None] = mapped_column(String(200))
    entry_date: Mapped[date | None]
    #: The day the product first recorded this person (their import or creation): stands in
    #: for a missing entry date, so deadlines counted from entry do not move every day.
    on_staff_since: Mapped[date] = mapped_column(default=local_today)
    exit_date: Mapped[date | None]
    active: Mapped[bool] = mapped_column(default=True)
    #: When the retention run removed what identifies this leaver (name, personnel number,
    #: e-mail, position); the row stays so that coverage history keeps counting them.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Language of the messages this person receives.
    locale: Mapped[str] = mapped_column(String(5), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(back_populates="employees")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:
        return f"<Employee {self.personnel_number}>"
