"""Database leases: one holder at a time, until the lease expires or is released."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from service import leases
from service.clock import utcnow


def test_a_lease_is_held_by_one_holder_until_it_expires_or_is_released(app: Flask, session: Session) -> None:
    ttl = timedelta(minutes=2)
    assert leases.acquire(session, "job", "a", ttl)
    assert not leases.acquire(session, "job", "b", ttl)
    assert leases.acquire(session, "job", "a", ttl)  # the holder may extend it
    with time_machine.travel(utcnow() + ttl + timedelta(seconds=1)):
        assert not leases.renew(session, "job", "a", ttl)
        assert leases.acquire(session, "job", "b", ttl)  # a crashed holder's lease simply runs out
    leases.release(session, "job", "b")
    assert leases.acquire(session, "job", "c", ttl)
