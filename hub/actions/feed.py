"""Post and correct feed entries (append-only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.access import require_role
from hub.auth import Principal
from hub.context import Hub
from hub.errors import HubError
from hub.eventlog import log_event, take_seq
from hub.public import entry_public
from models import EntryKind, FeedEntry, Organisation, Priority, Role, User
from models.shapes import FeedCorrectIn, FeedPostIn


async def post_entry(hub: Hub, principal: Principal, payload: FeedPostIn) -> dict[str, Any]:
    return await _append(hub, principal, payload, corrects=None, reason=None)


async def correct_entry(hub: Hub, principal: Principal, payload: FeedCorrectIn) -> dict[str, Any]:
    """A correction is a new entry pointing at the original, which stays as it was.

    It keeps the original's kind, priority and location, so a corrected flash stays a flash.
    """
    async with hub.db.read() as session:
        original = await session.get(FeedEntry, payload.entry_id)
        if original is None or original.incident_id != payload.incident_id:
            await require_role(session, principal, payload.incident_id, Role.VIEWER)
            raise HubError("not_found", "no such feed entry in this incident")
    post = FeedPostIn(
        incident_id=payload.incident_id,
        client_id=payload.client_id,
        text=payload.text,
        kind=EntryKind(original.kind),
        priority=Priority(original.priority),
        location=original.location,
    )
    return await _append(hub, principal, post, corrects=payload.entry_id, reason=payload.reason)


async def _append(
    hub: Hub,
    principal: Principal,
    payload: FeedPostIn,
    *,
    corrects: str | None,
    reason: str | None,
) -> dict[str, Any]:
    hub.check_rate(principal.user_id)
    try:
        async with hub.db.write() as session:
            await require_role(
                session, principal, payload.incident_id, Role.CONTRIBUTOR, write=True
            )
            earlier = await _by_client_id(session, payload.incident_id, payload.client_id)
            if earlier is not None:
                return earlier
            seq = await take_seq(session, payload.incident_id)
            entry = FeedEntry(
                incident_id=payload.incident_id,
                seq=seq,
                client_id=payload.client_id,
                author_id=principal.user_id,
                kind=payload.kind,
                priority=payload.priority,
                text=payload.text,
                location=payload.location,
                corrects=corrects,
                reason=reason,
            )
            session.add(entry)
            public = entry_public(entry, principal.author())
            event = log_event(
                session,
                payload.incident_id,
                seq,
                "feed.corrected" if corrects else "feed.posted",
                principal,
                public,
            )
    except IntegrityError:
        # Another instance stored the same client_id first: answer with its result.
        async with hub.db.read() as session:
            earlier = await _by_client_id(session, payload.incident_id, payload.client_id)
        if earlier is None:
            raise
        return earlier
    await hub.notifier.incident_event(event)
    return public


async def _by_client_id(
    session: AsyncSession, incident_id: str, client_id: str
) -> dict[str, Any] | None:
    rows = await _entries_with_authors(
        session,
        (FeedEntry.incident_id == incident_id) & (FeedEntry.client_id == client_id),
        limit=1,
    )
    return rows[0] if rows else None


async def recent_entries(
    session: AsyncSession, incident_id: str, limit: int
) -> list[dict[str, Any]]:
    """The last `limit` entries, oldest first."""
    rows = await _entries_with_authors(
        session,
        FeedEntry.incident_id == incident_id,
        limit=limit,
        newest_first=True,
    )
    rows.reverse()
    return rows


async def list_entries(
    hub: Hub, principal: Principal, incident_id: str, *, limit: int, before_seq: int | None = None
) -> list[dict[str, Any]]:
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        condition = FeedEntry.incident_id == incident_id
        if before_seq is not None:
            condition = condition & (FeedEntry.seq < before_seq)
        rows = await _entries_with_authors(session, condition, limit=limit, newest_first=True)
    rows.reverse()
    return rows


async def _entries_with_authors(
    session: AsyncSession, condition: Any, *, limit: int, newest_first: bool = False
) -> list[dict[str, Any]]:
    order = FeedEntry.seq.desc() if newest_first else FeedEntry.seq
    result = await session.execute(
        select(FeedEntry, User, Organisation.name)
        .join(User, User.id == FeedEntry.author_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(condition)
        .order_by(order)
        .limit(limit)
    )
    return [
        entry_public(
            entry,
            {
                "id": user.id,
                "name": user.display_name,
                "organisation": organisation,
                "discipline": user.discipline,
            },
        )
        for entry, user, organisation in result
    ]
