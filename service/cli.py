"""The ``vcc`` command: Flask's run/routes, Flask-Migrate's ``db``, plus our own commands."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from service.app import create_app


def _factory() -> object:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_factory, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Operate the VCC challenge backend."""


@main.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="Administrator")
@with_appcontext
def create_admin(email: str, password: str, display_name: str) -> None:
    """Create (or promote) a platform administrator."""
    from service.accounts import create_superuser
    from service.db import db
    from service.errors import DomainError

    try:
        user = create_superuser(db.session, email=email, password=password, display_name=display_name)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    db.session.commit()
    click.echo(f"administrator {user.email} (id {user.id}) is ready")


@main.group("users")
def users_group() -> None:
    """Accounts the operator looks after: erasure requests that arrive by letter."""


@users_group.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Erase without asking to confirm.")
@with_appcontext
def erase_user(email: str, yes: bool) -> None:
    """Erase the account with this email address, as DELETE /api/v1/me does; prints counts only."""
    from service import audit
    from service.accounts import delete_user, find_user_by_email
    from service.db import db

    user = find_user_by_email(db.session, email)
    if user is None:
        click.echo(f"no account has the email address {email.strip()!r}; nothing was erased", err=True)
        sys.exit(1)
    erased_before = user.deleted_at is not None
    if not erased_before and not yes:
        click.confirm(f"Erase account {user.id} and everything it holds? This cannot be undone", abort=True)
    counts = delete_user(db.session, user, secret=current_app.config["SECRET_KEY"])
    removed = {kind: n for kind, n in sorted(counts.items()) if n}
    if erased_before and not removed:
        db.session.commit()
        click.echo(f"account {user.id} was already erased; nothing changed")
        return
    audit.record(db.session, actor=None, organisation_id=None, action="user.erased", target_type="user",
                 target_id=user.id, detail=removed)
    db.session.commit()
    what = "the rest of account" if erased_before else "account"
    click.echo(f"erased {what} {user.id}" + "".join(f"\n  {kind}: {n}" for kind, n in removed.items()))


@main.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--scheduler/--no-scheduler", default=True, help="Also start `vcc scheduler` beside the API.")
def serve(host: str, port: int, scheduler: bool) -> None:
    """Serve the API and dashboard with the scheduler in its own process (development and demos)."""
    import signal
    import subprocess

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    proc = None
    if scheduler:
        proc = subprocess.Popen([sys.executable, "-m", "service.cli", "scheduler"])
    try:
        # Not app.run(): Flask ignores it inside a `flask`-style CLI command (FLASK_RUN_FROM_CLI).
        from werkzeug.serving import run_simple

        run_simple(host, port, create_app(), use_reloader=False, threaded=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


@main.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when demo data is already there.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the demo: a city challenge with teams, activity and leaderboards."""
    from challenges.demo import seed as seed_challenges
    from notifications.demo import seed as seed_notifications
    from service.db import db
    from service.demo import demo_exists, seed_accounts

    if if_empty and demo_exists(db.session):
        click.echo("demo data already present; nothing to do")
        return
    accounts = seed_accounts(db.session)
    lines = [f"demo city '{accounts.city.name}' is ready"]
    lines += seed_challenges(db.session, accounts.city)
    lines += seed_notifications(db.session)
    db.session.commit()
    lines.append(f"log in as {accounts.organiser_email} / {accounts.password} "
                 f"(POST /api/v1/auth/token, or the dashboard at {_base_url()}/dashboard)")
    click.echo("\n".join(lines))


def _base_url() -> str:
    return current_app.extensions["vcc_settings"].public_base_url


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
