"""challenges: distance samples say whether they were added to their session

A HealthKit workout that comes with its ``totalDistance`` already holds its distance samples; they are
remembered (so a re-send stays a duplicate) but not added. ``added`` tells the two apart, so a sample arriving
later knows whether the stored workout's distance is a total (do not add) or a sum of samples (add).

Revision ID: 0009_distance_sample_added
Revises: 0008_contest_lines
"""
import sqlalchemy as sa
from alembic import op


revision = '0009_distance_sample_added'
down_revision = '0008_contest_lines'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('distance_samples', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('distance_samples', schema=None) as batch_op:
        batch_op.drop_column('added')
