"""memory: the memory_entries table (L3 tier) and cost_records.saved for memo hits

Revision ID: 0010_memory
Revises: 0009_event_bus
Create Date: 2026-12-01 09:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_memory'
down_revision = '0009_event_bus'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'memory_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('namespace', sa.String(length=120), nullable=False),
        sa.Column('key', sa.String(length=512), nullable=False),
        sa.Column('value', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('blob_ref', sa.String(length=64), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['workflow_runs.id'], name=op.f('fk_memory_entries_run_id_workflow_runs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_memory_entries')),
        sa.UniqueConstraint('namespace', 'key', name='uq_memory_entries_namespace_key'),
    )
    with op.batch_alter_table('memory_entries', schema=None) as batch_op:
        batch_op.create_index('ix_memory_entries_blob_ref', ['blob_ref'], unique=False)
        batch_op.create_index('ix_memory_entries_expires_at', ['expires_at'], unique=False)
        batch_op.create_index('ix_memory_entries_run_id', ['run_id'], unique=False)
    with op.batch_alter_table('cost_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('saved', sa.Numeric(precision=18, scale=8), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('cost_records', schema=None) as batch_op:
        batch_op.drop_column('saved')
    with op.batch_alter_table('memory_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_memory_entries_run_id')
        batch_op.drop_index('ix_memory_entries_expires_at')
        batch_op.drop_index('ix_memory_entries_blob_ref')
    op.drop_table('memory_entries')
