"""service: explicit consent to processing health data (activity), its current state and its record

Activity histories are health data (GDPR art. 9), processed on explicit consent. The user row holds whether
and when consent was given and to which notice version; ``consent_records`` keeps every grant and withdrawal.
Existing accounts start without consent: their apps ask for it before the next activity is logged (or the
operator sets HEALTH_DATA_CONSENT_REQUIRED=false where consent is collected outside this service).

Revision ID: 0010_health_data_consent
Revises: 0009_distance_sample_added
"""
import sqlalchemy as sa
from alembic import op


revision = '0010_health_data_consent'
down_revision = '0009_distance_sample_added'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health_data_consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('health_data_consent_version', sa.String(length=40), nullable=True))
    op.create_table(
        'consent_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('notice_version', sa.String(length=40), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consent_records_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records')),
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_records_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_records_user_id'))
    op.drop_table('consent_records')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('health_data_consent_version')
        batch_op.drop_column('health_data_consent_at')
