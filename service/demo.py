"""Demo accounts: a demo city with an organiser who can log in straight away."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts import create_organisation, find_user_by_email, register_user, set_membership
from service.models import Organisation, OrgKind, Role

DEMO_ORGANISER_EMAIL = "organiser@demo.vcc"
DEMO_PASSWORD = "demo-password"
DEMO_CITY_SLUG = "demo-city"


@dataclass
class DemoAccounts:
    city: Organisation
    organiser_email: str
    password: str


def demo_exists(session: Session) -> bool:
    return session.scalar(select(Organisation.id).where(Organisation.slug == DEMO_CITY_SLUG)) is not None


def seed_accounts(session: Session) -> DemoAccounts:
    organiser = find_user_by_email(session, DEMO_ORGANISER_EMAIL) or register_user(
        session, email=DEMO_ORGANISER_EMAIL, password=DEMO_PASSWORD, display_name="Demo Organiser",
        timezone="Europe/Helsinki")
    city = session.scalar(select(Organisation).where(Organisation.slug == DEMO_CITY_SLUG))
    if city is None:
        city = create_organisation(session, creator=None, kind=OrgKind.MUNICIPALITY, name="Demo City",
                                   country="FI", region="Uusimaa", timezone="Europe/Helsinki")
        city.slug = DEMO_CITY_SLUG
    set_membership(session, user=organiser, organisation=city, role=Role.ORGANISER)
    session.flush()
    return DemoAccounts(city=city, organiser_email=DEMO_ORGANISER_EMAIL, password=DEMO_PASSWORD)
