"""scoring: contests whose Redis boards missed increments while Redis was unreachable

A write commits its points in SQL and then sends the increments to Redis; when Redis cannot be reached even to
drop the boards, the contest is marked here, so that whichever process next reaches Redis drops those boards
and they are rebuilt from the SQL totals (scoring.boards.redis_write). The table starts empty.

Revision ID: 0011_stale_boards
Revises: 0010_health_data_consent
"""
import sqlalchemy as sa
from alembic import op


revision = '0011_stale_boards'
down_revision = '0010_health_data_consent'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stale_boards',
        sa.Column('contest_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('misses', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('contest_id', name=op.f('pk_stale_boards')),
    )


def downgrade():
    op.drop_table('stale_boards')
