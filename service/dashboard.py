"""Browser-facing pages: the organiser dashboard, the invitation landing page and local Swagger UI assets.

The dashboard is static HTML + JS that talks only to the public JSON API (token, organisations,
challenges, leaderboards, report), so the service package stays free of domain imports and the page
shows exactly what any API client would see. The join page (service.join_page) is rendered on the server
from the invitation's public preview and signs people up through the same API.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, send_from_directory
from flask.typing import ResponseReturnValue

from service import join_page

STATIC = Path(__file__).parent / "static" / "dashboard"
JOIN_STATIC = Path(__file__).parent / "static" / "join"
SWAGGER_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@4.15.5/"

bp = Blueprint("dashboard", __name__, static_folder=str(STATIC), static_url_path="/dashboard/static")


def _swagger_dir() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


@bp.get("/dashboard")
@bp.get("/dashboard/")
def dashboard() -> ResponseReturnValue:
    return send_from_directory(STATIC, "index.html", max_age=0)


@bp.get("/join/<code>")
def join(code: str) -> ResponseReturnValue:
    """The invitation link lands here, signed in or not: 404 or 410 pages for codes that cannot be used."""
    return join_page.render(code)


@bp.get("/join/static/<path:filename>")
def join_asset(filename: str) -> ResponseReturnValue:
    return send_from_directory(JOIN_STATIC, filename, max_age=300)


@bp.get("/api/docs/static/<path:filename>")
def swagger_asset(filename: str) -> ResponseReturnValue:
    """Swagger UI files from the ``swagger-ui-bundle`` package, so /api/docs works offline; CDN otherwise."""
    directory = _swagger_dir()
    if directory is None:
        return redirect(SWAGGER_CDN + filename)
    if not (directory / filename).is_file():
        abort(404)
    return send_from_directory(directory, filename, max_age=3600)
