"""notifications

Revision ID: 0005_notifications
Revises: 0004_activities
"""


revision = '0005_notifications'
down_revision = '0004_activities'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
