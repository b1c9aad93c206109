"""costs: the cost_daily rollup (cost records summed per UTC day, workflow, user, model and
currency), filled from the cost records already written

Revision ID: 0015_cost_daily
Revises: 0014_console_invites_logs
Create Date: 2026-12-01 17:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_cost_daily'
down_revision = '0014_console_invites_logs'
branch_labels = None
depends_on = None

# The same sums as webapp.costs.recording.roll_up, over every record: no workflow, user or model
# is keyed 0 or '' (NULLs never conflict in a unique key).
BACKFILL = """
INSERT INTO cost_daily (day, workflow_id, user_id, model, currency, spent, saved, records)
SELECT {day}, coalesce(workflow_id, 0), coalesce(user_id, 0), coalesce(model, ''), currency,
       sum(amount), coalesce(sum(saved), 0), count(*)
FROM cost_records
GROUP BY {day}, coalesce(workflow_id, 0), coalesce(user_id, 0), coalesce(model, ''), currency
"""
DAY = {"postgresql": "date(timezone('UTC', created_at))", "sqlite": "strftime('%Y-%m-%d', created_at)"}


def upgrade():
    op.create_table(
        'cost_daily',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('workflow_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('model', sa.String(length=100), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('spent', sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column('saved', sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column('records', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'workflow_id', 'user_id', 'model', 'currency', name=op.f('pk_cost_daily')),
    )
    op.execute(BACKFILL.format(day=DAY[op.get_bind().dialect.name]))


def downgrade():
    op.drop_table('cost_daily')
