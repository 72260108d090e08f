"""scoring engine

Revision ID: 0002_scoring
Revises: 0001_service
"""


revision = '0002_scoring'
down_revision = '0001_service'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
