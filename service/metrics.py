"""Prometheus metrics: every metric object of every package is declared here, so each series has one owner
and one name, and the domain packages (which may import the platform) count through these objects.

Under gunicorn the workers are separate processes, each counting in its own memory, so a scrape served by
one worker would show that worker's share only. prometheus_client's multiprocess mode fixes this: when
``PROMETHEUS_MULTIPROC_DIR`` is in the environment *before this module is imported* (``gunicorn.conf.py``
sets it), every value lives in a per-process file in that directory and a scrape sums the files
(``MultiProcessCollector``). In that mode counters and histograms are summed across processes, including
workers that have died (their counts stay in the totals, as a counter must), and a gauge is combined by its
``multiprocess_mode``: ``max`` here (the newest success of a job, whichever process saw it). Process
collectors (CPU, memory) are per process and are left out in that mode; without the directory (the dev
server, ``vcc scheduler``) the default registry serves everything, process metrics included.

Labels never carry personal data: routes are their URL rule (``/api/v1/activities/<int:activity_id>``, not
the id), outcomes and error codes come from closed sets, and nothing is labelled by user, e-mail or token.

Who may scrape (see README): with ``METRICS_TOKEN`` set, ``GET /metrics`` wants it as a bearer token; without
one it is served openly in development and not at all in production (404). ``METRICS_PORT`` serves the same
text on a port of its own: from the gunicorn master (``gunicorn.conf.py``) and from ``vcc scheduler``, the
scheduler being its own process with its own counts.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from service.errors import NotFound, Unauthenticated

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # a URL no route knows: one series for all of them, not one per probed path

HTTP_REQUESTS = Counter("vcc_http_requests", "HTTP requests answered, by route, method and status",
                        ["endpoint", "method", "status"])
HTTP_LATENCY = Histogram("vcc_http_request_duration_seconds", "Time from the request's start to its answer",
                         ["endpoint", "method"])
INGEST_ITEMS = Counter("vcc_ingest_items", "Activity items taken in (single, batch, file), by outcome, counted "
                       "when the transaction that judged them commits", ["outcome"])
INGEST_OUTCOMES = ("accepted", "flagged", "rejected", "duplicate", "superseded")
JOB_RUNS = Counter("vcc_scheduler_job_runs", "Scheduler job runs by job id and result (ok, error, or skipped "
                   "because another replica held the lease)", ["job", "result"])
JOB_DURATION = Histogram("vcc_scheduler_job_duration_seconds", "Duration of the job runs this replica did",
                         ["job", "result"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900))
JOB_LAST_SUCCESS = Gauge("vcc_scheduler_job_last_success_timestamp_seconds", "When each job last succeeded here "
                         "(Unix time)", ["job"], multiprocess_mode="max")
NUDGES = Counter("vcc_nudges", "Nudges dispatched, by outcome (sent, failed, skipped, expired, retrying)",
                 ["outcome"])
MAILS = Counter("vcc_mails", "E-mails the outbox handled, by outcome (sent, retried, dead)", ["outcome"])
FCM_ERRORS = Counter("vcc_fcm_errors", "FCM sends that failed, by the error code firebase-admin reported", ["code"])
REDIS_FALLBACKS = Counter("vcc_redis_fallbacks", "Leaderboard reads and writes that fell back to the SQL totals "
                          "because Redis failed (operation: read or write)", ["operation"])

_PENDING = "vcc_metrics_pending"


def registry() -> Collector:
    """What a scrape reads: the files of every process in multiprocess mode, else this process's registry."""
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return REGISTRY
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged, path=path)
    return merged


def count_on_commit(session: Session, counter: Counter, by_label: Mapping[str, float]) -> None:
    """Count when the session's transaction commits, and not at all if it rolls back: a retried request whose
    first try was rolled back would otherwise be counted twice. Call it inside the transaction that wrote what
    is counted (a session that never began one has no rollback to drop the count with)."""
    pending: list[tuple[Counter, str, float]] = session.info.setdefault(_PENDING, [])
    pending.extend((counter, label, amount) for label, amount in by_label.items() if amount)


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter, label, amount in session.info.pop(_PENDING, ()):
        counter.labels(label).inc(amount)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    """After a commit the counts are gone already (``after_commit`` runs first); what is left was rolled back
    or closed without a commit."""
    if transaction.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(_PENDING, None)


def serve_port(port: int) -> None:
    """Serve the scrape text on ``port`` (all interfaces) from a daemon thread of this process."""
    start_http_server(port, registry=registry())  # type: ignore[arg-type]


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape() -> ResponseReturnValue:
    settings = current_app.extensions["vcc_settings"]
    token = settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthenticated("Scraping the metrics needs 'Authorization: Bearer <METRICS_TOKEN>'.",
                                  code="metrics-token")
    elif settings.production:
        raise NotFound("Metrics are not served here without METRICS_TOKEN; set it, or scrape METRICS_PORT.",
                       code="metrics-not-served")
    return Response(generate_latest(registry()), mimetype=CONTENT_TYPE_LATEST.split(";")[0],  # type: ignore[arg-type]
                    headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def _observe(response: Response) -> Response:
    """Runs for every answer, errors included (Flask finalises handled errors through after_request too)."""
    started = g.get("started")
    rule = request.url_rule
    endpoint = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in HTTP_METHODS else "OTHER"
    HTTP_REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    if started is not None:
        HTTP_LATENCY.labels(endpoint, method).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask, limiter: Any) -> None:
    """The request counters (timed from ``g.started``, which ``service.logs`` sets first) and ``/metrics``,
    exempt from rate limits: a scraper polls from one address for ever."""
    app.after_request(_observe)
    limiter.exempt(bp)
    app.register_blueprint(bp)
