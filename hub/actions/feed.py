"""Post and correct feed entries (append-only), with group commit.

Concurrent posts share one transaction (as fixes do in hub/convoys/pipeline.py): each still takes
its own seq and writes its entry and its event log row in that transaction, and is acked and
emitted only after the commit (design principle 1). Refusals (not a member, closed incident)
are decided per post inside the transaction and fail only that post. A unique-constraint
violation (an idempotent `client_id` retry) rolls the batch back and it is written again one
post per transaction, so a retry answers with the first result and writes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, insert, label, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import check_role, require_role
from hub.auth import Principal
from hub.context import Hub
from hub.errors import HubError
from hub.eventlog import take_seq
from hub.public import author_public, entry_public, envelope
from models import (
    EntryKind,
    Event,
    FeedEntry,
    Incident,
    Membership,
    Organisation,
    Priority,
    Role,
    Status,
    User,
)
from models.base import new_id, utcnow
from models.events import EventPublic, EventType, FeedEntryPublic
from models.shapes import FeedCorrectIn, FeedPostIn

# Posts in one transaction at most; more wait for the next one.
BATCH_MAX = 256
FEED_ENTRY = FeedEntry.__table__  # type: ignore[attr-defined]


async def post_entry(hub: Hub, principal: Principal, payload: FeedPostIn) -> FeedEntryPublic:
    return await _append(hub, principal, payload, corrects=None, reason=None)


async def correct_entry(hub: Hub, principal: Principal, payload: FeedCorrectIn) -> FeedEntryPublic:
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
        written_at=payload.written_at,
    )
    return await _append(hub, principal, post, corrects=payload.entry_id, reason=payload.reason)


async def _append(
    hub: Hub,
    principal: Principal,
    payload: FeedPostIn,
    *,
    corrects: str | None,
    reason: str | None,
) -> FeedEntryPublic:
    hub.check_rate(principal.user_id)
    if hub.feed_commits is None:  # a hub built without FeedCommits (hub/context.py)
        raise HubError("unavailable", "this hub does not post feed entries")
    entry: FeedEntryPublic = await hub.feed_commits.submit(
        _Post(principal, payload, corrects, reason)
    )
    return entry


@dataclass(slots=True)
class _Post:
    principal: Principal
    payload: FeedPostIn
    corrects: str | None
    reason: str | None
    future: asyncio.Future[FeedEntryPublic] | None = None
    # filled in by the transaction that stores it
    entry: FeedEntryPublic | None = None
    event: EventPublic | None = None
    refused: HubError | None = None


class FeedCommits:
    """Group commit for feed posts, one per hub. No background task to manage: the first
    post finding no writer starts one, which writes whatever has queued up (while the
    previous transaction committed) and stops when nothing is left."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._queue: list[_Post] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, post: _Post) -> FeedEntryPublic:
        loop = asyncio.get_running_loop()
        post.future = loop.create_future()
        self._queue.append(post)
        if self._writer is None:
            self._writer = loop.create_task(self._drain(), name="feed-commits")
        return await post.future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:BATCH_MAX], self._queue[BATCH_MAX:]
                await self._commit(batch)
        except BaseException:
            for post in self._queue:
                _settle(post, error=HubError("unavailable", "the hub is stopping; retry"))
            self._queue = []
            raise
        finally:
            self._writer = None

    async def _commit(self, batch: list[_Post]) -> None:
        """Never raises: a failed batch fails its callers (who retry), not the writer."""
        try:
            try:
                await _write(self.hub, batch)
            except IntegrityError:
                # Most likely a client_id retry: write each post on its own, so the retry
                # answers with the first result and the others are stored.
                for post in batch:
                    await _write_alone(self.hub, post)
            else:
                for post in batch:
                    if post.event is not None:
                        await self.hub.notifier.incident_event(post.event)
                for post in batch:
                    _settle(post)
        except Exception as error:
            for post in batch:
                _settle(post, error=error)
        except BaseException:
            for post in batch:
                _settle(post, error=HubError("unavailable", "the hub is stopping; retry"))
            raise


def _settle(post: _Post, error: BaseException | None = None) -> None:
    if post.future is None or post.future.done():
        return  # the caller went away; what was committed stays committed
    if error is None:
        error = post.refused
    if error is not None:
        post.future.set_exception(error)
    else:
        assert post.entry is not None
        post.future.set_result(post.entry)


async def _write_alone(hub: Hub, post: _Post) -> None:
    """One post in its own transaction; a duplicate client_id answers with the first."""
    post.entry = post.event = post.refused = None
    try:
        try:
            await _write(hub, [post])
        except IntegrityError:
            async with hub.db.read() as session:
                earlier = await _by_client_id(
                    session, post.payload.incident_id, post.payload.client_id
                )
            if earlier is None:
                raise
            post.entry = earlier
        if post.event is not None:
            await hub.notifier.incident_event(post.event)
        _settle(post)
    except Exception as error:
        _settle(post, error=error)


async def _write(hub: Hub, batch: list[_Post]) -> None:
    """One transaction for the batch: per post its role and the incident's status, its seq,
    its entry and its event. Sets `refused`, or after the commit `entry` and `event`, on
    each post; raises (and sets nothing but refusals) if the transaction rolls back."""
    async with hub.db.write() as session:
        admitted = await _admit(session, batch)
        by_incident: dict[str, list[_Post]] = {}
        for post in admitted:
            by_incident.setdefault(post.payload.incident_id, []).append(post)
        entries: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        stored: list[tuple[_Post, FeedEntryPublic, EventPublic]] = []
        for incident_id in sorted(by_incident):  # one lock order for every writer
            posts = by_incident[incident_id]
            # Take len(posts) seqs at once. The status condition closes the gap between
            # the check above and this row lock (PostgreSQL): a just-closed incident refuses.
            last = await session.scalar(
                update(Incident)
                .where(col(Incident.id) == incident_id, col(Incident.status) != Status.CLOSED.value)
                .values(last_seq=col(Incident.last_seq) + len(posts))
                .returning(col(Incident.last_seq))
            )
            if last is None:
                for post in posts:
                    post.refused = HubError("forbidden", "this incident is closed")
                continue
            for seq, post in enumerate(posts, start=int(last) - len(posts) + 1):
                entry, event, public, emitted = _rows(post, seq)
                entries.append(entry)
                events.append(event)
                stored.append((post, public, emitted))
        if entries:
            await session.execute(insert(FeedEntry), entries)
            await session.execute(insert(Event), events)
    # Committed: only now do the posts carry what is acked and emitted.
    for post, public, emitted in stored:
        post.entry, post.event = public, emitted


async def add_entry(
    session: AsyncSession, principal: Principal, payload: FeedPostIn
) -> tuple[FeedEntryPublic, EventPublic | None]:
    """Posts an entry inside the caller's transaction, for a change whose record belongs with
    it (a plan's activation and its `decision`): the caller checks the role, commits, then
    emits. Bypasses the group commit, which owns its transactions. An entry whose `client_id`
    is taken is answered as it is, with no event."""
    earlier = await _by_client_id(session, payload.incident_id, payload.client_id)
    if earlier is not None:
        return earlier, None
    seq = await take_seq(session, payload.incident_id, open_only=True)
    entry, event, public, emitted = _rows(_Post(principal, payload, None, None), seq)
    await session.execute(insert(FeedEntry), [entry])
    await session.execute(insert(Event), [event])
    return public, emitted


async def _admit(session: AsyncSession, batch: list[_Post]) -> list[_Post]:
    """The posts whose author may write to their incident: one query for the whole batch
    (role and incident status); the others get their refusal from check_role, as require_role
    would give it."""
    incident_ids = {post.payload.incident_id for post in batch}
    user_ids = {post.principal.user_id for post in batch}
    rows = await session.execute(
        select(
            col(Incident.id), col(Incident.status), col(Membership.user_id), col(Membership.role)
        )
        .outerjoin(
            Membership,
            (col(Membership.incident_id) == col(Incident.id))
            & col(Membership.user_id).in_(user_ids),
        )
        .where(col(Incident.id).in_(incident_ids))
    )
    status: dict[str, str] = {}
    roles: dict[tuple[str, str], str] = {}
    for incident_id, incident_status, user_id, member_role in rows:
        status[incident_id] = incident_status
        if user_id is not None:
            roles[(incident_id, user_id)] = member_role
    admitted = []
    for post in batch:
        incident_id = post.payload.incident_id
        if incident_id not in status:
            post.refused = HubError("not_found", "no such incident")
            continue
        role = roles.get((incident_id, post.principal.user_id))
        try:
            check_role(role, status[incident_id], Role.CONTRIBUTOR, write=True)
        except HubError as refusal:
            post.refused = refusal
        else:
            admitted.append(post)
    return admitted


def _rows(
    post: _Post, seq: int
) -> tuple[dict[str, Any], dict[str, Any], FeedEntryPublic, EventPublic]:
    """The entry and event rows of a post (Core inserts), the entry as acked and the event as
    emitted, each built by its one builder (hub/public.py)."""
    payload, principal = post.payload, post.principal
    now = utcnow()
    entry = {
        "id": new_id(),
        "incident_id": payload.incident_id,
        "seq": seq,
        "client_id": payload.client_id,
        "author_id": principal.user_id,
        "kind": payload.kind.value,
        "priority": payload.priority.value,
        "text": payload.text,
        "location": payload.location,
        "corrects": post.corrects,
        "reason": post.reason,
        "created_at": now,
        "written_at": payload.written_at,
    }
    public = entry_public(entry, principal.author())
    kind: EventType = "feed.corrected" if post.corrects else "feed.posted"
    actor = principal.actor()
    event = {
        "incident_id": payload.incident_id,
        "seq": seq,
        "type": kind,
        "at": now,
        "actor": actor,
        "data": public,
    }
    return entry, event, public, envelope(payload.incident_id, seq, kind, now, actor, public)


async def _by_client_id(
    session: AsyncSession, incident_id: str, client_id: str
) -> FeedEntryPublic | None:
    rows = await _entries_with_authors(
        session,
        (col(FeedEntry.incident_id) == incident_id) & (col(FeedEntry.client_id) == client_id),
        limit=1,
    )
    return rows[0] if rows else None


async def recent_entries(
    session: AsyncSession, incident_id: str, limit: int, before_seq: int | None = None
) -> list[FeedEntryPublic]:
    """The last `limit` entries (before `before_seq` if given), oldest first."""
    condition = col(FeedEntry.incident_id) == incident_id
    if before_seq is not None:
        condition = condition & (col(FeedEntry.seq) < before_seq)
    rows = await _entries_with_authors(session, condition, limit=limit, newest_first=True)
    rows.reverse()
    return rows


async def list_entries(
    hub: Hub, principal: Principal, incident_id: str, *, limit: int, before_seq: int | None = None
) -> list[FeedEntryPublic]:
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        return await recent_entries(session, incident_id, limit, before_seq)


async def _entries_with_authors(
    session: AsyncSession, condition: ColumnElement[bool], *, limit: int, newest_first: bool = False
) -> list[FeedEntryPublic]:
    # Columns, not ORM objects: every snapshot reads a hundred entries.
    order = col(FeedEntry.seq).desc() if newest_first else col(FeedEntry.seq)
    result = await session.execute(
        select(
            *FEED_ENTRY.c,
            label("author_name", col(User.display_name)),
            label("author_discipline", col(User.discipline)),
            label("author_organisation", col(Organisation.name)),
        )
        .join(User, col(User.id) == col(FeedEntry.author_id))
        .join(Organisation, col(Organisation.id) == col(User.organisation_id))
        .where(condition)
        .order_by(order)
        .limit(limit)
    )
    return [
        entry_public(
            cast(Mapping[str, Any], row),  # keyed by column name, as selected
            author_public(
                row["author_id"],
                row["author_name"],
                row["author_organisation"],
                row["author_discipline"],
            ),
        )
        for row in result.mappings()
    ]
