"""Challenges' part of erasure (``service.users.user_deleted``): the person's activity and check-ins go.

Activities carry times, durations, distances and raw source references (file names and hashes, a store's
record ids): enough for an employer who knows who rides at 08:00 to re-identify someone, so every activity
of the person goes with its entries in each challenge and the distance samples merged into it, and so does
every check-in. What they scored stays in the ledger, detached from the person (``scoring.ledger.detach_user``),
and the enrolments stay with the tombstone, so team and organisation sizes do not change. Where the person
acted as an organiser (created a challenge or team, reviewed an entry) only the reference to them is cleared.

Connected when challenges.api is imported by the factory.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from challenges.activities.distance_samples import DistanceSample
from challenges.activities.models import Activity, ActivityEntry
from challenges.models import Challenge, CheckIn, Team
from service.db_dialect import rows_affected
from service.users import user_deleted


@user_deleted.connect
def _erase(session: Session, user_id: int, **_: Any) -> dict[str, int]:
    """Deletes children first: SQLite enforces no foreign keys here, so nothing cascades by itself."""
    mine = select(Activity.id).where(Activity.user_id == user_id)
    counts = {
        "distance_samples": rows_affected(session, delete(DistanceSample).where(
            (DistanceSample.user_id == user_id) | DistanceSample.activity_id.in_(mine))),
        "activity_entries": rows_affected(session, delete(ActivityEntry).where(ActivityEntry.activity_id.in_(mine))),
    }
    counts["activities"] = rows_affected(session, delete(Activity).where(Activity.user_id == user_id))
    counts["checkins"] = rows_affected(session, delete(CheckIn).where(CheckIn.user_id == user_id))
    for model, column in ((ActivityEntry, ActivityEntry.reviewed_by_id), (Challenge, Challenge.created_by_id),
                          (Team, Team.created_by_id)):
        rows_affected(session, update(model).where(column == user_id).values({column: None}))
    return counts
