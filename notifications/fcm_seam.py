"""The ONE place that reaches into firebase-admin's internals: the FCM endpoint URL and its HTTP adapter.

firebase-admin 7.7 has no public option for the FCM endpoint (there is no FCM emulator), so tests and
benchmarks point an app's messaging service at a fake server by setting ``_fcm_url`` on the object that
``messaging._get_messaging_service(app)`` returns (checked against firebase_admin/messaging.py 7.7.0:
``_MessagingService.__init__`` builds ``self._fcm_url`` from ``FCM_URL`` and the project id, and
``send``/``send_each`` post to it). Nothing else in the code base touches private SDK attributes.

It also mounts the HTTP adapter for the endpoint on purpose. The SDK's default adapter retries 500/503
up to four times inside one call (sleeping up to ~7 s in a send thread) and those tries are invisible
to us. We keep its connection retries but let status errors surface, so our dispatcher records every
attempt and retries with its own backoff, jitter and Retry-After handling, without blocking a thread.
The pool is as large as one ``send_each`` chunk can use concurrently, so connections are reused.
"""

from __future__ import annotations

import logging
from typing import Any

import firebase_admin
import requests.adapters
from firebase_admin import credentials, messaging
from urllib3.util import retry

from service.firebase_credentials import load_service_account

log = logging.getLogger(__name__)

REAL_FCM_BASE = "https://fcm.googleapis.com"
POOL_SIZE = 500
CONNECTION_RETRIES = retry.Retry(connect=1, read=0, status=0, redirect=0, raise_on_status=False,
                                 allowed_methods=None)


def init_app(name: str, service_account: str | dict[str, Any], *, project_id: str | None = None,
             fcm_base_url: str | None = None) -> firebase_admin.App:
    """A named firebase-admin app (named, so several Flask apps or tests never share global state)."""
    info = load_service_account(service_account)
    options = {"projectId": project_id} if project_id else {}
    app = firebase_admin.initialize_app(credentials.Certificate(info), options=options, name=name)
    point_messaging_at(app, fcm_base_url)
    try:
        # Fetch the OAuth token once now: otherwise the first send_each chunk's 500 threads all find no
        # token and each fetch one. It also shows bad credentials at start-up rather than at the first nudge.
        app.credential.get_access_token()
    except Exception as exc:  # the token is fetched again on the first send
        log.warning("could not fetch an FCM access token at start-up: %s", exc)
    return app


def point_messaging_at(app: firebase_admin.App, base_url: str | None = None) -> str:
    """Aim the app's messaging service at ``base_url`` (default: the real FCM) and mount our adapter."""
    service = messaging._get_messaging_service(app)
    base = (base_url or REAL_FCM_BASE).rstrip("/")
    if "/v1/projects/" in base:  # a full endpoint URL was given (FCM_URL may be either)
        service._fcm_url = base
        base = base.split("/v1/projects/")[0]
    else:
        service._fcm_url = f"{base}/v1/projects/{service._project_id}/messages:send"
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE,
                                            max_retries=CONNECTION_RETRIES)
    service._client.session.mount(base, adapter)
    return service._fcm_url


def delete_app(app: firebase_admin.App) -> None:
    firebase_admin.delete_app(app)
