"""scoring engine: points ledger, leaderboard totals, badges

Revision ID: 0002_scoring
Revises: 0001_service
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_scoring'
down_revision = '0001_service'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('badge_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.Column('contest_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_definitions')),
    sa.UniqueConstraint('code', name=op.f('uq_badge_definitions_code'))
    )
    with op.batch_alter_table('badge_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_definitions_contest_id'), ['contest_id'], unique=False)

    op.create_table('leaderboard_totals',
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('user', 'team', 'organisation', name='leaderboard_scope', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('contest_id', 'scope', 'period_key', 'subject_id', name=op.f('pk_leaderboard_totals'))
    )
    with op.batch_alter_table('leaderboard_totals', schema=None) as batch_op:
        batch_op.create_index('ix_leaderboard_totals_rank', ['contest_id', 'scope', 'period_key', 'points', 'subject_id'], unique=False)

    op.create_table('leaderboard_buckets',
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Enum('user', 'team', 'organisation', name='leaderboard_bucket_scope', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('contest_id', 'scope', 'period_key', 'bucket', name=op.f('pk_leaderboard_buckets'))
    )
    op.create_table('badge_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('badge_id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['badge_id'], ['badge_definitions.id'], name=op.f('fk_badge_awards_badge_id_badge_definitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_badge_awards_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_awards')),
    sa.UniqueConstraint('user_id', 'badge_id', 'contest_id', name=op.f('uq_badge_awards_user_id_badge_id_contest_id'))
    )
    with op.batch_alter_table('badge_awards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_awards_user_id'), ['user_id'], unique=False)

    op.create_table('points_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('entry_key', sa.String(length=300), nullable=False),
    sa.Column('source_key', sa.String(length=255), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('activity', 'reversal', 'cap_adjust', 'bonus', name='points_entry_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('type_code', sa.String(length=40), nullable=True),
    sa.Column('metric_value', sa.Double(), nullable=False),
    sa.Column('uncapped_points', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('rule', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_points_entries_organisation_id_organisations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_points_entries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries')),
    sa.UniqueConstraint('contest_id', 'entry_key', name=op.f('uq_points_entries_contest_id_entry_key'))
    )
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.create_index('ix_points_entries_source_contest', ['source_key', 'contest_id'], unique=False)
        batch_op.create_index('ix_points_entries_contest_user_day', ['contest_id', 'user_id', 'local_day'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_entries_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_entries_user_id'))
        batch_op.drop_index('ix_points_entries_contest_user_day')
        batch_op.drop_index('ix_points_entries_source_contest')

    op.drop_table('points_entries')
    with op.batch_alter_table('badge_awards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_awards_user_id'))

    op.drop_table('badge_awards')
    op.drop_table('leaderboard_buckets')
    with op.batch_alter_table('leaderboard_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_leaderboard_totals_rank')

    op.drop_table('leaderboard_totals')
    with op.batch_alter_table('badge_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_definitions_contest_id'))

    op.drop_table('badge_definitions')
    # ### end Alembic commands ###
