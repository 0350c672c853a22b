"""Login links: single-use e-mail links to reset a password or accept an invitation (hash of
the token only); the outbox knows both messages

Revision ID: 4b8d2f6a1e57
Revises: 5b7d2e9c4a18
Create Date: 2026-12-04 04:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "4b8d2f6a1e57"
down_revision = '5b7d2e9c4a18'
branch_labels = None
depends_on = None

KINDS = (
    "'booked', 'waitlisted', 'promoted', 'cancelled', 'session_cancelled', "
    "'session_changed', 'session_reminder', 'requirement_due_soon', 'requirement_overdue', "
    "'escalation_head', 'escalation_hr', 'head_digest'"
)


def upgrade():
    op.create_table(
        "login_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('reset', 'invitation')", name=op.f("ck_login_links_purpose_known")
        ),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR employee_id IS NOT NULL",
            name=op.f("ck_login_links_has_subject"),
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_login_links_expires_after_created")
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_login_links_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_links_token_hash")),
    )
    with op.batch_alter_table("login_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_links_employee_id"), ["employee_id"])
        batch_op.create_index(batch_op.f("ix_login_links_user_id"), ["user_id"])
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("invite_new", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_kind_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_kind_known"),
            f"kind IN ({KINDS}, 'password_reset', 'invitation')",
        )


def downgrade():
    op.execute("DELETE FROM outbox_messages WHERE kind IN ('password_reset', 'invitation')")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_kind_known"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_outbox_messages_kind_known"), f"kind IN ({KINDS})"
        )
    with op.batch_alter_table("import_runs", schema=None) as batch_op:
        batch_op.drop_column("invite_new")
    with op.batch_alter_table("login_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_links_user_id"))
        batch_op.drop_index(batch_op.f("ix_login_links_employee_id"))
    op.drop_table("login_links")
