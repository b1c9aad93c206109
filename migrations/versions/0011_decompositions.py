"""decompositions: goals split into planned task trees, and the workflow and run they became

Revision ID: 0011_decompositions
Revises: 0010_memory
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_decompositions'
down_revision = '0010_memory'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'decompositions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('goal', sa.Text(), nullable=False),
        sa.Column('strategy', sa.String(length=40), nullable=False),
        sa.Column('input', sa.JSON(), nullable=False),
        sa.Column('tree', sa.JSON(), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('workflow_id', sa.Integer(), nullable=True),
        sa.Column('workflow_version', sa.Integer(), nullable=True),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('executed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_decompositions_created_by_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['run_id'], ['workflow_runs.id'], name=op.f('fk_decompositions_run_id_workflow_runs'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'],
                                name=op.f('fk_decompositions_workflow_id_workflows'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_decompositions')),
    )
    with op.batch_alter_table('decompositions', schema=None) as batch_op:
        batch_op.create_index('ix_decompositions_created_at_id', ['created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('decompositions', schema=None) as batch_op:
        batch_op.drop_index('ix_decompositions_created_at_id')
    op.drop_table('decompositions')
