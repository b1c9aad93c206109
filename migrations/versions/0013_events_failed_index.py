"""events: a partial index on events failed for good (the events page and the health check)

Revision ID: 0013_events_failed_index
Revises: 0012_child_runs
Create Date: 2026-12-01 10:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013_events_failed_index'
down_revision = '0012_child_runs'
branch_labels = None
depends_on = None

FAILED = sa.text("failed_at IS NOT NULL")


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_failed_id', ['id'], unique=False, postgresql_where=FAILED, sqlite_where=FAILED)


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_failed_id')
