"""activity ingest

Revision ID: 0004_activities
Revises: 0003_challenges
"""


revision = '0004_activities'
down_revision = '0003_challenges'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
