"""Fixtures of the challenge tests: an organisation with an admin, an organiser, a member and an outsider."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from service.models import Organisation, Role, User
from tests.factories import auth_headers, make_org
from tests.factories import quick_user as make_user


@dataclass
class Cast:
    org: Organisation
    other_org: Organisation
    admin: User
    organiser: User
    member: User
    outsider: User
    foreign_organiser: User

    def headers(self, app: Flask, who: str) -> dict[str, str]:
        return auth_headers(app, getattr(self, who))


@pytest.fixture
def cast(session) -> Cast:  # type: ignore[no-untyped-def]
    admin, organiser, member = make_user(session), make_user(session), make_user(session)
    outsider, foreign = make_user(session), make_user(session)
    org = make_org(session, name="Tampere", members={admin: Role.ADMIN, organiser: Role.ORGANISER,
                                                     member: Role.MEMBER})
    other = make_org(session, name="Espoo", members={foreign: Role.ORGANISER})
    session.commit()
    return Cast(org, other, admin, organiser, member, outsider, foreign)


class FreshUserClient(FlaskClient):
    """While the ``session`` fixture holds an app context, requests share its ``g``; drop the cached
    signed-in user before each request so every request authenticates from its own header."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(RuntimeError):
            g.pop("current_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = FreshUserClient
    try:
        return app.test_client()
    finally:
        app.test_client_class = None
