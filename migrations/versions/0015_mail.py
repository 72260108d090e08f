"""mail: the e-mail outbox, single-use link tokens, verified addresses

- ``email_outbox``: mails to send (service.mail.outbox), unique ``dedupe_key``;
- ``email_tokens``: SHA-256 of the tokens that verify-address and password-reset links carry;
- ``users.email_verified_at``.

Revision ID: 0015_mail
Revises: 0014_privacy
"""
import sqlalchemy as sa
from alembic import op


revision = '0015_mail'
down_revision = '0014_privacy'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'email_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('kind', sa.Enum('verify_email', 'password_reset', 'invitation', 'weekly_summary', name='email_kind',
                                  native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=True),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('status', sa.Enum('pending', 'sent', 'dead', name='email_status', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=80), nullable=True),
        sa.Column('last_error', sa.String(length=120), nullable=True),
        sa.Column('dedupe_key', sa.String(length=160), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_outbox_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_outbox')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_email_outbox_dedupe_key')),
    )
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_email_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_outbox_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_outbox_created_at'), ['created_at'], unique=False)
    op.create_table(
        'email_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.Enum('verify_email', 'password_reset', name='email_token_purpose', native_enum=False,
                                     create_constraint=True, length=32), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_email_tokens_token_hash')),
    )
    with op.batch_alter_table('email_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_email_tokens_user_id_purpose', ['user_id', 'purpose'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_tokens_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('email_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_tokens_expires_at'))
        batch_op.drop_index('ix_email_tokens_user_id_purpose')
    op.drop_table('email_tokens')
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_outbox_created_at'))
        batch_op.drop_index(batch_op.f('ix_email_outbox_user_id'))
        batch_op.drop_index('ix_email_outbox_status_next_attempt_at')
    op.drop_table('email_outbox')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
