"""privacy: who sees individual boards, how people appear, erasure that detaches the ledger, the audit trail

- ``challenges.board_visibility`` (public | participants | none; NULL: the setting's default, challenges.privacy);
- ``users.alias`` and ``users.show_full_name``: boards show the alias, or first name and initial, unless the
  person opts in to their full name;
- ``points_entries.user_id`` becomes nullable: an erased person's ledger lines keep only what team, organisation
  and collective totals need, detached from the person;
- ``audit_events``: organiser and admin actions per organisation (service.audit).

Revision ID: 0014_privacy
Revises: 0013_login_throttles
"""
import sqlalchemy as sa
from alembic import op


revision = '0014_privacy'
down_revision = '0013_login_throttles'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('board_visibility', sa.Enum(
            'public', 'participants', 'none', name='challenge_board_visibility', native_enum=False,
            create_constraint=True, length=32), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alias', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('show_full_name', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target_type', sa.String(length=32), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_audit_events_organisation_id_organisations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_organisation_id_id', ['organisation_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index('ix_audit_events_organisation_id_id')
    op.drop_table('audit_events')
    op.execute("DELETE FROM points_entries WHERE user_id IS NULL")
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('show_full_name')
        batch_op.drop_column('alias')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_constraint('challenge_board_visibility', type_='check')
        batch_op.drop_column('board_visibility')
