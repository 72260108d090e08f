"""activities: distance samples merged into exercise sessions (each sample once, by the store's record id)

Revision ID: 0007_distance_samples
Revises: 0006_challenge_plausibility
"""
import sqlalchemy as sa
from alembic import op


revision = '0007_distance_samples'
down_revision = '0006_challenge_plausibility'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('distance_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('manual', 'wearable', 'health_connect', 'healthkit', 'garmin', 'strava', 'gpx', 'tcx', 'fit', name='activity_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('source_ref', sa.String(length=255), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('distance_m', sa.Double(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_distance_samples_activity_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_distance_samples_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distance_samples')),
    sa.UniqueConstraint('user_id', 'source', 'external_id', name=op.f('uq_distance_samples_user_id_source_external_id'))
    )
    with op.batch_alter_table('distance_samples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distance_samples_activity_id'), ['activity_id'], unique=False)


def downgrade():
    with op.batch_alter_table('distance_samples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distance_samples_activity_id'))

    op.drop_table('distance_samples')
