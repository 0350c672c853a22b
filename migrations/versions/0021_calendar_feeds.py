"""Calendar feeds: a private, revocable subscription address per person for their booked dates

Revision ID: 2e6f8a0c4b91
Revises: 9e3c5a7d1b24
Create Date: 2026-12-04 06:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "2e6f8a0c4b91"
down_revision = "9e3c5a7d1b24"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_calendar_feeds_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("employee_id", name=op.f("uq_calendar_feeds_employee_id")),
    )


def downgrade():
    op.drop_table("calendar_feeds")
