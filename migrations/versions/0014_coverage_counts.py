"""Coverage counts per day, department and requirement (HR's city page at a Land's size)

The counts are built by the worker (requirements.build_coverage_counts); until then reports
count the coverage facts directly.

Revision ID: 5b2d7e9c4a13
Revises: 160fe5048f6f
Create Date: 2026-12-03 16:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b2d7e9c4a13'
down_revision = '160fe5048f6f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coverage_count_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('due_soon_days', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_coverage_count_days'))
    )
    op.create_table('coverage_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('requirement_id', sa.Integer(), nullable=False),
    sa.Column('in_scope', sa.Integer(), nullable=False),
    sa.Column('compliant', sa.Integer(), nullable=False),
    sa.Column('due_soon', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('exempt', sa.Integer(), nullable=False),
    sa.Column('covered', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['day'], ['coverage_count_days.day'], name=op.f('fk_coverage_counts_day_coverage_count_days'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_coverage_counts_department_id_departments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirements.id'], name=op.f('fk_coverage_counts_requirement_id_requirements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', 'department_id', 'requirement_id', name=op.f('pk_coverage_counts'))
    )


def downgrade():
    op.drop_table('coverage_counts')
    op.drop_table('coverage_count_days')
