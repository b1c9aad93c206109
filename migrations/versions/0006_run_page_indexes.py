"""run page indexes: runs by status newest first, cost records by time

Revision ID: 0006_run_page_indexes
Revises: 0005_console_indexes
Create Date: 2026-11-26 04:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_run_page_indexes'
down_revision = '0005_console_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.create_index('ix_workflow_runs_status_created_at_id', ['status', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('cost_records', schema=None) as batch_op:
        batch_op.create_index('ix_cost_records_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('cost_records', schema=None) as batch_op:
        batch_op.drop_index('ix_cost_records_created_at')
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_runs_status_created_at_id')
