"""console indexes: a workflow's newest runs, runs by time with status, cost records by run

Revision ID: 0005_console_indexes
Revises: 0004_runs
Create Date: 2026-11-26 03:55:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_console_indexes'
down_revision = '0004_runs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_runs_workflow_id_created_at_id', ['workflow_id', 'created_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_workflow_runs_created_at_status', ['created_at', 'status'], unique=False)
    with op.batch_alter_table('cost_records', schema=None) as batch_op:
        batch_op.create_index('ix_cost_records_run_id', ['run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cost_records', schema=None) as batch_op:
        batch_op.drop_index('ix_cost_records_run_id')
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_runs_created_at_status')
        batch_op.drop_index('ix_workflow_runs_workflow_id_created_at_id')
