"""board indexes: the rank index in board order, and an index by subject

- ``ix_leaderboard_totals_rank`` becomes (contest_id, scope, period_key, points DESC, subject_id): every
  board read (top, keyset pages, around me, rank counts) is then a range read without a sort, whatever the
  planner's statistics say;
- ``ix_leaderboard_totals_subject`` (scope, subject_id, contest_id, period_key, INCLUDE points on
  PostgreSQL): a person's lines across contests (the personal export) and the reconcile's subject ranges.

Revision ID: 0017_board_indexes
Revises: 0016_membership
"""
import sqlalchemy as sa
from alembic import op


revision = '0017_board_indexes'
down_revision = '0016_membership'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_leaderboard_totals_rank', table_name='leaderboard_totals')
    op.create_index('ix_leaderboard_totals_rank', 'leaderboard_totals',
                    ['contest_id', 'scope', 'period_key', sa.text('points DESC'), 'subject_id'])
    op.create_index('ix_leaderboard_totals_subject', 'leaderboard_totals',
                    ['scope', 'subject_id', 'contest_id', 'period_key'], postgresql_include=['points'])


def downgrade():
    op.drop_index('ix_leaderboard_totals_subject', table_name='leaderboard_totals')
    op.drop_index('ix_leaderboard_totals_rank', table_name='leaderboard_totals')
    op.create_index('ix_leaderboard_totals_rank', 'leaderboard_totals',
                    ['contest_id', 'scope', 'period_key', 'points', 'subject_id'])
