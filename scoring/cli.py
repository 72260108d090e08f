"""CLI commands of scoring, added to `vcc` by the app factory."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from scoring.ledger import rescore_contest
from service.db import db


@click.command("rescore")
@click.argument("challenge_id", type=int)
@with_appcontext
def rescore(challenge_id: int) -> None:
    """Rebuild a challenge's totals and leaderboards from the points ledger (same ranks): a subject range per
    transaction, so writers wait for one range at most; planner statistics refreshed after it."""
    chunks = 0

    def after_each() -> bool:
        nonlocal chunks
        db.session.commit()
        chunks += 1
        if chunks % 10 == 0:
            click.echo(f"rescoring challenge {challenge_id}: {chunks} chunks done", err=True)
        return True

    lines = rescore_contest(db.session, challenge_id, after_each)
    db.session.commit()
    click.echo(f"rescored challenge {challenge_id}: {lines} board lines rebuilt from the ledger")


commands: list[click.Command] = [rescore]
