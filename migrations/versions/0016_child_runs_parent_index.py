"""runs: a partial index on a run's child runs (parent_run_id, id), read by every run page

Revision ID: 0016_child_runs_parent_index
Revises: 0015_cost_daily
Create Date: 2026-12-01 17:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016_child_runs_parent_index'
down_revision = '0015_cost_daily'
branch_labels = None
depends_on = None

HAS_PARENT = sa.text("parent_run_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_runs_parent_run_id_id', ['parent_run_id', 'id'], unique=False,
                              postgresql_where=HAS_PARENT, sqlite_where=HAS_PARENT)


def downgrade():
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_runs_parent_run_id_id')
