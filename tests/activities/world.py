"""The activity tests' world: a community with residents and staff, and activities relative to the clock."""

from __future__ import annotations

from datetime import timedelta

from app.activities import activities
from app.core.clock import utcnow


def activity(session, community_id: int, *, title: str = "书法课", hours: float = 48, capacity: int = 2,
             place: str = "活动室", club_id: int | None = None):
    """An activity starting `hours` from now."""
    starts = utcnow().replace(microsecond=0) + timedelta(hours=hours)
    return activities.create_activity(session, community_id, title=title, starts_at=starts, minutes=90,
                                      place=place, capacity=capacity, club_id=club_id)
