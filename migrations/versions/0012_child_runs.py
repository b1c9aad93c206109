"""child runs: workflow_runs started by a task.decompose step point at it

Revision ID: 0012_child_runs
Revises: 0011_decompositions
Create Date: 2026-12-01 10:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_child_runs'
down_revision = '0011_decompositions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('parent_step_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('parent_attempt', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('parent_item', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_workflow_runs_parent_run_id_workflow_runs'), 'workflow_runs',
                                    ['parent_run_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_workflow_runs_parent_step', ['parent_step_run_id', 'parent_attempt', 'parent_item'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_workflow_runs_parent_step')
        batch_op.drop_constraint(batch_op.f('fk_workflow_runs_parent_run_id_workflow_runs'), type_='foreignkey')
        batch_op.drop_column('parent_item')
        batch_op.drop_column('parent_attempt')
        batch_op.drop_column('parent_step_run_id')
        batch_op.drop_column('parent_run_id')
