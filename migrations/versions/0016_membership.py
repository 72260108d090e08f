"""membership: how people become members, and invitations that carry a challenge and a team

- ``organisations.membership_policy`` (invitation | open | email_domain; existing rows: invitation),
  ``organisations.email_domains`` and ``organisations.areas`` (JSON lists);
- ``memberships.joined_via`` (invitation | open | email_domain; NULL: by an admin or before this) and
  ``memberships.area`` (the postcode or district the person picked);
- ``invitations.challenge_id`` and ``invitations.team_id``: accepting enrols the person there too.

Revision ID: 0016_membership
Revises: 0015_mail
"""
import sqlalchemy as sa
from alembic import op


revision = '0016_membership'
down_revision = '0015_mail'
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('membership_policy', _enum('membership_policy', 'invitation', 'open',
                                                                 'email_domain'),
                                      server_default='invitation', nullable=False))
        batch_op.add_column(sa.Column('email_domains', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('areas', sa.JSON(), nullable=True))
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_via', _enum('membership_joined_via', 'invitation', 'open',
                                                          'email_domain'), nullable=True))
        batch_op.add_column(sa.Column('area', sa.String(length=80), nullable=True))
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('challenge_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_invitations_challenge_id_challenges'), 'challenges',
                                    ['challenge_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_invitations_team_id_teams'), 'teams', ['team_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invitations_team_id_teams'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_invitations_challenge_id_challenges'), type_='foreignkey')
        batch_op.drop_column('team_id')
        batch_op.drop_column('challenge_id')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('area')
        batch_op.drop_constraint('membership_joined_via', type_='check')
        batch_op.drop_column('joined_via')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('areas')
        batch_op.drop_column('email_domains')
        batch_op.drop_constraint('membership_policy', type_='check')
        batch_op.drop_column('membership_policy')
