"""challenges: per-challenge plausibility limits (nullable JSON; null = the deployment's limits only)

Revision ID: 0006_challenge_plausibility
Revises: 0005_notifications
"""
import sqlalchemy as sa
from alembic import op


revision = '0006_challenge_plausibility'
down_revision = '0005_notifications'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plausibility', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('plausibility')
