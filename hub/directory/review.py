"""The review cycle: every record is confirmed by its owners at least every six months, and
what is past its date is their review queue (`GET /api/contacts?due=true`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.contact import REVIEW_DAYS

REVIEW_PERIOD = timedelta(days=REVIEW_DAYS)


def next_review(now: datetime) -> datetime:
    """The review date of a record created, edited or confirmed at `now`: an edit is a review
    too, since its editor had the record in front of them."""
    return now + REVIEW_PERIOD


def overdue(review_due: datetime, now: datetime) -> bool:
    return review_due <= now
