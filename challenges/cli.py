"""CLI commands of challenges, added to `vcc` by the app factory: `vcc challenges list|qr|report`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from challenges import privacy
from challenges.access import get_challenge
from challenges.models import Challenge
from challenges.places import qr
from challenges.places.locations import list_locations
from challenges.standings import reports
from service.clock import utcnow
from service.db import db
from service.errors import NotFound, Unprocessable


def _challenge(challenge_id: int) -> Challenge:
    try:
        return get_challenge(db.session, challenge_id)
    except NotFound as exc:
        raise click.ClickException(exc.detail) from exc


@click.group("challenges")
def challenges_group() -> None:
    """Inspect challenges: list them, print check-in QR codes, print organiser reports."""


@challenges_group.command("list")
@with_appcontext
def list_command() -> None:
    """List every challenge with its phase."""
    for c in db.session.scalars(select(Challenge).order_by(Challenge.id)):
        click.echo(f"{c.id:>5}  {c.phase().value:<9} {c.format.value:<12} {c.metric.value:<15} {c.title}")


@challenges_group.command("qr")
@click.argument("challenge_id", type=int)
@with_appcontext
def qr_command(challenge_id: int) -> None:
    """Print the current QR token of each location (valid for this window and the next)."""
    challenge = _challenge(challenge_id)
    secret = current_app.extensions["vcc_settings"].secret_key
    window = int(current_app.config.get("QR_WINDOW_SECONDS", qr.DEFAULT_WINDOW_S))
    now = utcnow()
    for location in list_locations(db.session, challenge):
        click.echo(f"{location.id:>5}  {qr.token_for(location, now, secret, window)}  {location.name}")
    click.echo(f"codes rotate every {window} s; this one is current until {qr.expires_at(now, window).isoformat()}")


@challenges_group.command("report")
@click.argument("challenge_id", type=int)
@click.option("--min-group-size", type=int, default=None, help="raise the suppression threshold")
@with_appcontext
def report_command(challenge_id: int, min_group_size: int | None) -> None:
    """Print the organiser report (small groups suppressed) as JSON."""
    try:
        floor = privacy.group_floor(min_group_size)
    except Unprocessable as exc:
        raise click.UsageError(exc.detail) from exc
    body = reports.report(db.session, _challenge(challenge_id), floor)
    click.echo(json.dumps(body, indent=2, default=str))


commands: list[click.Command] = [challenges_group]
