"""Letters handed out on paper: messages to staff without e-mail, marked as handed out

Revision ID: 5b7d2e9c4a18
Revises: 7c1e4a2b9d30
Create Date: 2026-12-04 04:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5b7d2e9c4a18"
down_revision = "7c1e4a2b9d30"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "handed_out_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("handed_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handed_out_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handed_out_by_user_id"],
            ["users.id"],
            name=op.f("fk_handed_out_letters_handed_out_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_messages.id"],
            name=op.f("fk_handed_out_letters_message_id_outbox_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handed_out_letters")),
        sa.UniqueConstraint("message_id", name=op.f("uq_handed_out_letters_message_id")),
    )


def downgrade():
    op.drop_table("handed_out_letters")
