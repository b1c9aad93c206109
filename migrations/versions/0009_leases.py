"""leases: named cluster-wide leases with a fencing epoch (webapp/leases.py)

Revision ID: 0009_leases
Revises: 0008_engine_v2
Create Date: 2026-12-01 09:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_leases'
down_revision = '0008_engine_v2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('leases',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('epoch', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )


def downgrade():
    op.drop_table('leases')
