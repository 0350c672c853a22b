"""Audit log (append-only, enforced by triggers), access log, and the roles of the staff
council and the data-protection officer

Revision ID: 9a3c5e7f1b20
Revises: 4b8d2f6a1e57
Create Date: 2026-12-04 05:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9a3c5e7f1b20"
down_revision = "4b8d2f6a1e57"
branch_labels = None
depends_on = None

OLD_ROLES = "'employee', 'head', 'hr', 'admin'"
NEW_ROLES = f"{OLD_ROLES}, 'staff_council', 'data_protection'"

POSTGRES_APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""

SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
]


def _id():
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", _id(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"])
        batch_op.create_index(batch_op.f("ix_audit_log_actor_user_id"), ["actor_user_id"])
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)

    op.create_table(
        "access_events",
        sa.Column("id", _id(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("viewer_user_id", sa.Integer(), nullable=True),
        sa.Column("viewer", sa.String(length=254), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["viewer_user_id"],
            ["users.id"],
            name=op.f("fk_access_events_viewer_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_events")),
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_events_at"), ["at"])
        batch_op.create_index(batch_op.f("ix_access_events_viewer_user_id"), ["viewer_user_id"])
    op.create_table(
        "access_event_employees",
        sa.Column("event_id", _id(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["access_events.id"],
            name=op.f("fk_access_event_employees_event_id_access_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["employees.id"],
            name=op.f("fk_access_event_employees_employee_id_employees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "employee_id", name=op.f("pk_access_event_employees")),
    )
    with op.batch_alter_table("access_event_employees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_event_employees_employee_id"), ["employee_id"])

    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_roles_role_known"), f"role IN ({NEW_ROLES})")


def downgrade():
    op.execute("DELETE FROM user_roles WHERE role IN ('staff_council', 'data_protection')")
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_roles_role_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_roles_role_known"), f"role IN ({OLD_ROLES})")
    op.drop_table("access_event_employees")
    op.drop_table("access_events")
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
