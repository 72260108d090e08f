"""Accounts: users, organisations, memberships, invitations, refresh tokens, consents, idempotency records;
and the job runner's tables (leases, APScheduler's job store).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Column,
    Enum,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.clock import utcnow
from service.db import Base


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store enum values (not names) as VARCHAR + CHECK so both SQLite and PostgreSQL agree."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


class OrgKind(enum.StrEnum):
    MUNICIPALITY = "municipality"
    EMPLOYER = "employer"
    CLUB = "club"
    SCHOOL = "school"
    PARTNER = "partner"


class MembershipPolicy(enum.StrEnum):
    """How people become members of an organisation (service.membership), chosen by its admins."""

    INVITATION = "invitation"
    OPEN = "open"
    EMAIL_DOMAIN = "email_domain"


class JoinedVia(enum.StrEnum):
    """How a membership came about; one made by e-mail domain lasts while the address admits it."""

    INVITATION = "invitation"
    OPEN = "open"
    EMAIL_DOMAIN = "email_domain"


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANISER = "organiser"
    MEMBER = "member"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    firebase_uid: Mapped[str | None] = mapped_column(String(128), unique=True)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    hide_from_leaderboards: Mapped[bool] = mapped_column(default=False)
    alias: Mapped[str | None] = mapped_column(String(40))
    """The name boards show instead of the display name (chosen by the person); signed-out readers see only this."""
    show_full_name: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Opt-in: boards show ``display_name`` in full; otherwise the alias, or first name and initial."""
    weight_kg: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    health_data_consent_at: Mapped[datetime | None]
    health_data_consent_version: Mapped[str | None] = mapped_column(String(40))
    email_verified_at: Mapped[datetime | None]
    """When the person used a link mailed to ``email`` (service.mail.verification); cleared when it changes."""

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(str_enum(OrgKind, "org_kind"))
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    membership_policy: Mapped[MembershipPolicy] = mapped_column(
        str_enum(MembershipPolicy, "membership_policy"), default=MembershipPolicy.INVITATION,
        server_default=MembershipPolicy.INVITATION.value)
    email_domains: Mapped[list[str] | None] = mapped_column(JSON)
    """Lower-case domains whose verified addresses admit their owner (policy ``email_domain``)."""
    areas: Mapped[list[str] | None] = mapped_column(JSON)
    """Postcodes or districts a person joining by themselves picks one of (stored on the membership)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organisation",
                                                         cascade="all, delete-orphan")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 index=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "membership_role"), default=Role.MEMBER)
    joined_via: Mapped[JoinedVia | None] = mapped_column(str_enum(JoinedVia, "membership_joined_via"))
    """None: made by an admin, the organisation's creator or before 0016."""
    area: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class Invitation(Base):
    """An invitation to join an organisation, by short code or by link carrying the same code; with a
    challenge (and a team of it) accepting also enrols the person there."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "invitation_role"), default=Role.MEMBER)
    email: Mapped[str | None] = mapped_column(String(254))
    max_uses: Mapped[int | None]
    uses: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """Rotating refresh tokens, stored as SHA-256 hashes; a family is revoked when a used one returns."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The first answer to a retried write, replayed for the same user, key and request body."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key", "endpoint"),
                      Index("ix_idempotency_records_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    endpoint: Mapped[str] = mapped_column(String(120))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[dict | list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRecord(Base):
    """Append-only: each grant and withdrawal of a consent, with the notice version the person was shown, so the
    operator can show who consented to what and when (GDPR art. 7(1)); the user row holds the current state."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    notice_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditNote(Base):
    """Small operator-visible trail of security-relevant events (logins refused, families revoked)."""

    __tablename__ = "audit_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """The audit trail of organiser and admin actions (service.audit): who did what, when, on what, in which
    organisation. Readable by the organisation's admins; purged after AUDIT_RETENTION_DAYS. ``detail`` holds
    what the action changed (field names, roles, counts), never anyone's health figures."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_organisation_id_id", "organisation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None]
    detail: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LoginThrottle(Base):
    """Failed sign-ins in a row for one email address, whether or not an account has it (so answers do not tell
    which exist), and until when the next attempt must wait (service.login_throttle). Keyed by a keyed hash of
    the normalised address: guessed addresses of people who have no account are not kept."""

    __tablename__ = "login_throttles"

    account_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime] = mapped_column(index=True)


class Lease(Base):
    """A named lock with an expiry, taken by a conditional UPDATE, so one replica runs each job at a time."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None]
    acquired_at: Mapped[datetime | None]
    # how the last run under this lease ended (job leases; ``vcc scheduler --check`` reads them)
    last_finished_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(120))  # the exception's class name only


# APScheduler's SQLAlchemyJobStore table, declared here with exactly the columns APScheduler 3.11 gives it
# (apscheduler/jobstores/sqlalchemy.py), so the migration creates it and the drift check knows it; the job
# store's own ``create(checkfirst=True)`` then finds it in place.
scheduler_jobs = Table(
    "apscheduler_jobs", Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
