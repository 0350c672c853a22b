"""Outbox messages name a known kind

Revision ID: 63c94ae6ea54
Revises: d1097185d273
Create Date: 2026-12-03 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '63c94ae6ea54'
down_revision = 'd1097185d273'
branch_labels = None
depends_on = None


def upgrade():
    # Every kind ever written is in the list, so existing rows pass the check.
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_outbox_messages_kind_known'),
            "kind IN ('booked', 'waitlisted', 'promoted', 'cancelled', 'session_cancelled', "
            "'session_changed', 'session_reminder', 'requirement_due_soon', 'requirement_overdue', "
            "'escalation_head', 'escalation_hr', 'head_digest')",
        )


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_messages_kind_known'), type_='check')
