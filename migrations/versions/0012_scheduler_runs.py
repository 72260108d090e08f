"""service: how each job's last run ended, on its lease row, for the scheduler's liveness check

``vcc scheduler --check`` (a container health check) asks whether every periodic job succeeded recently. A job's
lease row is written by every run anyway (one per job id), so the end of the run is recorded in the same UPDATE
that gives the lease up: when it finished, when it last succeeded, and the class name of the error if it failed
(never its message, which could quote data). Heartbeat leases (``scheduler@<host>``) leave them empty.

Revision ID: 0012_scheduler_runs
Revises: 0011_stale_boards
"""
import sqlalchemy as sa
from alembic import op


revision = '0012_scheduler_runs'
down_revision = '0011_stale_boards'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scheduler_leases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('scheduler_leases', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('last_success_at')
        batch_op.drop_column('last_finished_at')
