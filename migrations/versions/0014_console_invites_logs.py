"""console: user invitations, the log lines of a step attempt, and saved run-list filters

Revision ID: 0014_console_invites_logs
Revises: 0013_events_failed_index
Create Date: 2026-12-01 12:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_console_invites_logs'
down_revision = '0013_events_failed_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_invites',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_invites_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_user_invites_invited_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_invites')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_invites_token_hash')),
    )
    with op.batch_alter_table('user_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_invites_user_id'), ['user_id'], unique=False)
    op.create_table(
        'saved_filters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('query', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_filters_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filters')),
        sa.UniqueConstraint('user_id', 'name', name='uq_saved_filters_user_id_name'),
    )
    with op.batch_alter_table('step_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logs', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('step_attempts', schema=None) as batch_op:
        batch_op.drop_column('logs')
    op.drop_table('saved_filters')
    with op.batch_alter_table('user_invites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_invites_user_id'))
    op.drop_table('user_invites')
