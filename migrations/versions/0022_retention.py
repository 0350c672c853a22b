"""Retention: the reports of the nightly retention run, and when a leaver was anonymised and a
sent message's body cleared

Revision ID: 7d2f4b9e0c22
Revises: 2e6f8a0c4b91
Create Date: 2026-12-04 06:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7d2f4b9e0c22"
down_revision = "2e6f8a0c4b91"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "source IN ('nightly', 'cli', 'web')", name=op.f("ck_retention_runs_source_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    with op.batch_alter_table("retention_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retention_runs_started_at"), ["started_at"])
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_cleared_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("body_cleared_at")
    with op.batch_alter_table("employees", schema=None) as batch_op:
        batch_op.drop_column("anonymised_at")
    op.drop_table("retention_runs")
