"""Test-data factories: plain functions that build real rows through the real use cases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from service.accounts import create_organisation, register_user, set_membership
from service.models import Organisation, OrgKind, Role, User

_seq = itertools.count(1)

PASSWORD = "correct horse battery"
CONSENTED = {"health_data_consent_at": datetime(2026, 1, 1, tzinfo=UTC), "health_data_consent_version": "test"}


def make_user(session: Session, *, email: str | None = None, display_name: str | None = None,
              timezone: str = "Europe/Helsinki", locale: str = "en", password: str = PASSWORD,
              **attrs: Any) -> User:
    """A registered person who has already consented to processing health data (as the app's onboarding asks);
    pass ``health_data_consent_at=None`` for one who has not."""
    n = next(_seq)
    user = register_user(session, email=email or f"user{n}@example.org", password=password,
                         display_name=display_name or f"User {n}", timezone=timezone, locale=locale)
    attrs = {**CONSENTED, **attrs}
    for key, value in attrs.items():
        setattr(user, key, value)
    session.flush()
    return user


def make_org(session: Session, *, name: str | None = None, kind: OrgKind | str = OrgKind.MUNICIPALITY,
             timezone: str = "Europe/Helsinki", members: dict[User, Role | str] | None = None) -> Organisation:
    org = create_organisation(session, creator=None, kind=kind, name=name or f"Org {next(_seq)}",
                              country="FI", timezone=timezone)
    for user, role in (members or {}).items():
        set_membership(session, user=user, organisation=org, role=role)
    return org


def auth_headers(app: Flask, user: User) -> dict[str, str]:
    """A bearer header for ``user``, issued the same way the token endpoint issues it."""
    from service.auth import issue_access_token

    with app.test_request_context():
        token, _ = issue_access_token(user)
    return {"Authorization": f"Bearer {token}"}


_HASH: list[str] = []


def quick_user(session: Session, *, display_name: str | None = None, timezone: str = "Europe/Helsinki",
               **attrs: Any) -> User:
    """A consenting person without paying for an argon2 hash each time (all share one precomputed hash): for
    tests that need many people, who can still sign in with ``PASSWORD``."""
    from service.accounts import hash_password

    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    n = next(_seq)
    user = User(email=f"quick{n}@example.org", display_name=display_name or f"Person {n}", timezone=timezone,
                password_hash=_HASH[0], **{**CONSENTED, **attrs})
    session.add(user)
    session.flush()
    return user


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: Any, **headers: str) -> Samples:
    """The samples of one ``GET /metrics``, by name and labels: tests read how far a series moved between two
    scrapes, since the metrics of one test process are shared by every app and test in it."""
    from prometheus_client.parser import text_string_to_metric_families

    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    text = resp.get_data(as_text=True)
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How far the series ``name{labels}`` moved between two scrapes (a series first seen counts from 0)."""
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)
