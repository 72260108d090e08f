"""Fixtures of the notifications tests: a fake FCM server and a real firebase-admin sender aimed at it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from notifications import fcm_seam
from notifications.sender import FcmSender
from tests.notifications.fake_fcm import FakeFcm


@pytest.fixture(scope="session")
def fake_fcm_server() -> Iterator[FakeFcm]:
    server = FakeFcm().start()
    yield server
    server.stop()


@pytest.fixture
def fcm(app: Flask, fake_fcm_server: FakeFcm) -> Iterator[FakeFcm]:
    """The fake server, with the app's push sender set to firebase-admin (its own named app) pointed at it."""
    fake_fcm_server.reset()
    firebase_app = fcm_seam.init_app(f"test-{uuid.uuid4().hex[:8]}", fake_fcm_server.service_account,
                                     fcm_base_url=fake_fcm_server.base_url)
    sender = FcmSender(firebase_app)
    app.extensions["vcc_push_sender"] = sender
    fake_fcm_server.sender = sender  # type: ignore[attr-defined]
    try:
        yield fake_fcm_server
    finally:
        app.extensions.pop("vcc_push_sender", None)
        fcm_seam.delete_app(firebase_app)
