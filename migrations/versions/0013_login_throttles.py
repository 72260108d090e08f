"""service: failed sign-ins in a row per email address, for the per-account back-off

``POST /api/v1/auth/token`` counts wrong passwords per normalised email address (with or without an account)
in the database, so every worker and host shares the count and a restart keeps it; after LOGIN_FREE_FAILURES
of them each attempt waits an exponentially growing time (service.login_throttle). Rows are keyed by a keyed
hash of the address, and the hourly ``service.login_throttle_purge`` job deletes those quiet for a day.

Revision ID: 0013_login_throttles
Revises: 0012_scheduler_runs
"""
import sqlalchemy as sa
from alembic import op


revision = '0013_login_throttles'
down_revision = '0012_scheduler_runs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_throttles',
        sa.Column('account_key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('account_key', name=op.f('pk_login_throttles')),
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttles_last_failure_at'), ['last_failure_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttles_last_failure_at'))
    op.drop_table('login_throttles')
