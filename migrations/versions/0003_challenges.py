"""challenges enrolment teams locations

Revision ID: 0003_challenges
Revises: 0002_scoring
"""


revision = '0003_challenges'
down_revision = '0002_scoring'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
