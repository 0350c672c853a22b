"""Session tokens: every login carries a random token that is part of its session and remember
cookies; a new token (on logout, new password, role change, deactivation) ends them all

Revision ID: 9e3c5a7d1b24
Revises: 9a3c5e7f1b20
Create Date: 2026-12-04 05:40:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9e3c5a7d1b24"
down_revision = "9a3c5e7f1b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    connection = op.get_bind()
    ids = connection.execute(sa.select(users.c.id)).scalars().all()
    if ids:
        # Every login gets a token of its own; cookies issued before carry none and end.
        connection.execute(
            users.update().where(users.c.id == sa.bindparam("uid")),
            [{"uid": uid, "session_token": secrets.token_urlsafe(32)} for uid in ids],
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_token")
