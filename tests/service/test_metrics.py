"""/metrics: requests by route, method and status, who may scrape, no personal data in labels, and counts
that wait for the commit."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service import metrics
from tests.factories import auth_headers, make_user, moved, quick_user, scrape

REQUESTS = "vcc_http_requests_total"
TOKEN = "scrape-token-0123456789abcdef"


def test_each_request_is_counted_once_under_its_route_method_and_status(client: FlaskClient) -> None:
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    for path in ("/no-such-page", "/another/missing/page"):
        assert client.get(path).status_code == 404
    assert client.post("/healthz").status_code == 405
    after = scrape(client)
    assert moved(before, after, REQUESTS, endpoint="/healthz", method="GET", status="200") == 3
    assert moved(before, after, REQUESTS, endpoint="<unmatched>", method="GET", status="404") == 2
    assert moved(before, after, REQUESTS, endpoint="<unmatched>", method="POST", status="405") == 1
    assert moved(before, after, REQUESTS, endpoint="/metrics", method="GET", status="200") == 1  # the first scrape
    latency = "vcc_http_request_duration_seconds"
    assert moved(before, after, f"{latency}_count", endpoint="/healthz", method="GET") == 3
    assert moved(before, after, f"{latency}_bucket", endpoint="/healthz", method="GET", le="+Inf") == 3
    assert moved(before, after, f"{latency}_sum", endpoint="/healthz", method="GET") > 0


def test_no_label_names_a_person_or_an_id_only_routes_and_closed_sets(app: Flask, client: FlaskClient,
                                                                    session: Session) -> None:
    person = make_user(session, email="ada.private@example.org")
    session.commit()
    headers = auth_headers(app, person)
    before = scrape(client)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/challenges/987654", headers=headers).status_code == 404
    assert client.get(f"/api/v1/users/{person.id}/nothing", headers=headers).status_code == 404
    text = client.get("/metrics").get_data(as_text=True)
    assert "ada.private" not in text and "987654" not in text
    samples = scrape(client)
    endpoints = {dict(labels)["endpoint"] for (name, labels), value in samples.items()
                 if name == "vcc_http_requests_total" and value != before.get((name, labels), 0)}
    assert endpoints == {"/api/v1/me", "/api/v1/challenges/<int:challenge_id>", "<unmatched>", "/metrics"}
    names = {key for name, labels in samples if name.startswith("vcc_") for key, _ in labels}
    assert names <= {"endpoint", "method", "status", "outcome", "job", "result", "code", "operation", "le"}


def test_with_a_token_set_a_scrape_without_it_is_refused(side_app: Callable[..., Flask]) -> None:
    protected = side_app(METRICS_TOKEN=TOKEN).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        resp = protected.get("/metrics", headers=headers)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
        assert resp.get_json()["type"].endswith("/metrics-token") and "METRICS_TOKEN" in resp.get_json()["detail"]
    resp = protected.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert "vcc_http_requests_total" in resp.get_data(as_text=True)


def test_production_without_a_token_serves_no_metrics(side_app: Callable[..., Flask]) -> None:
    resp = side_app(VCC_ENV="production").test_client().get("/metrics")
    assert resp.status_code == 404 and resp.get_json()["type"].endswith("/metrics-not-served")
    assert "METRICS_PORT" in resp.get_json()["detail"]


def test_a_count_waits_for_the_commit_and_a_rollback_drops_it(client: FlaskClient, session: Session) -> None:
    before = scrape(client)
    quick_user(session)
    metrics.count_on_commit(session, metrics.INGEST_ITEMS, {"accepted": 2, "flagged": 0})
    session.rollback()
    quick_user(session)
    metrics.count_on_commit(session, metrics.INGEST_ITEMS, {"rejected": 1})
    assert moved(before, scrape(client), "vcc_ingest_items_total", outcome="rejected") == 0  # not committed yet
    session.commit()
    after = scrape(client)
    assert moved(before, after, "vcc_ingest_items_total", outcome="rejected") == 1
    assert moved(before, after, "vcc_ingest_items_total", outcome="accepted") == 0
