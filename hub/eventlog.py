"""The per-incident sequence and durable event log (design principle 1)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.auth import Principal
from hub.errors import HubError
from hub.public import envelope, event_public
from models import Event, Incident, Status
from models.events import ActorPublic, EventPublic, EventType


async def take_seq(session: AsyncSession, incident_id: str, *, open_only: bool = False) -> int:
    """Reserve the incident's next seq inside the caller's transaction.

    On PostgreSQL the UPDATE locks the incident row until commit, so writers of one incident
    are ordered and seq has no holes: a rolled-back change gives its number back.

    `open_only` (the writes a closed incident refuses): the status is checked by the same
    UPDATE, under its lock, so an incident closed after the caller's role check still refuses,
    as the feed's batched UPDATE does (hub/actions/feed.py).
    """
    statement = update(Incident).where(col(Incident.id) == incident_id)
    if open_only:
        statement = statement.where(col(Incident.status) != Status.CLOSED.value)
    result = await session.execute(
        statement.values(last_seq=col(Incident.last_seq) + 1).returning(col(Incident.last_seq))
    )
    seq = result.scalar_one_or_none()
    if seq is None:
        raise HubError("forbidden", "this incident is closed")
    return int(seq)


def log_event(
    session: AsyncSession,
    incident_id: str,
    seq: int,
    kind: EventType,
    actor: Principal | ActorPublic,
    data: Mapping[str, Any],
) -> EventPublic:
    """Add the log row for a change; returns the `incident.event` payload to emit on commit.

    `data` is the model of EVENT_DATA[kind] (models/events.py), built by its one builder."""
    event = Event(
        incident_id=incident_id,
        seq=seq,
        type=kind,
        actor=dict(actor.actor() if isinstance(actor, Principal) else actor),
        data=dict(data),
    )
    session.add(event)
    return event_public(event)


async def events_since(
    session: AsyncSession,
    incident_id: str,
    since: int,
    limit: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[EventPublic]:
    """The log after `since`, in seq order; with `start` or `end`, only what was logged from
    `start` to `end` (both included: GET …/events?from=&to=, the timeline)."""
    # Columns, not ORM objects: a reconnect storm runs this once per client.
    query = select(
        col(Event.incident_id),
        col(Event.seq),
        col(Event.type),
        col(Event.at),
        col(Event.actor),
        col(Event.data),
    ).where(col(Event.incident_id) == incident_id, col(Event.seq) > since)
    if start is not None:
        query = query.where(col(Event.at) >= start)
    if end is not None:
        query = query.where(col(Event.at) <= end)
    rows = await session.execute(query.order_by(col(Event.seq)).limit(limit))
    return [envelope(*row) for row in rows]


# The (incident, since, limit) asks answered by one events_since_many at most: one branch of a
# UNION ALL per incident, below SQLite's 500.
MAX_REPLAYS_PER_READ = 200


async def events_since_many(
    session: AsyncSession, wanted: list[tuple[str, int, int]]
) -> dict[tuple[str, int, int], list[EventPublic]]:
    """events_since(session, incident_id, since, limit) for each (incident_id, since, limit)
    of `wanted`, in one query (the rejoins of a reconnect storm, hub/actions/join.py). The asks
    of an incident whose sinces lie close together share a branch of the UNION ALL, which reads
    from their lowest since as many events as the one that needs the most (its since's distance
    from the lowest, plus its limit); each ask then gets the first `limit` of those above its
    since, as its own events_since would. An ask far behind the others (a client that was away)
    has a branch of its own, so no branch reads more than twice the largest limit."""
    groups: list[tuple[str, int, int]] = []  # incident, lowest since, events to read
    group_of: dict[tuple[str, int, int], int] = {}
    for incident_id, since, limit in sorted(set(wanted)):
        last = groups[-1] if groups else None
        if last is not None and last[0] == incident_id and since - last[1] <= limit:
            groups[-1] = (incident_id, last[1], max(last[2], since - last[1] + limit))
        else:
            groups.append((incident_id, since, limit))
        group_of[(incident_id, since, limit)] = len(groups) - 1
    if len(groups) > MAX_REPLAYS_PER_READ:
        raise ValueError(f"at most {MAX_REPLAYS_PER_READ} branches per read")
    columns = (
        col(Event.seq),
        col(Event.type),
        col(Event.at),
        col(Event.actor),
        col(Event.data),
    )
    branches = [
        select(literal(number).label("branch"), *columns)
        .where(col(Event.incident_id) == incident_id, col(Event.seq) > since)
        .order_by(col(Event.seq))
        .limit(count)
        .subquery()
        for number, (incident_id, since, count) in enumerate(groups)
    ]
    read: list[list[EventPublic]] = [[] for _ in groups]
    if len(branches) == 1:
        rows = await session.execute(select(*branches[0].c))
    else:
        rows = await session.execute(union_all(*(select(*branch.c) for branch in branches)))
    for number, *event in rows:
        read[number].append(envelope(groups[number][0], *event))
    for events in read:
        events.sort(key=lambda event: event["seq"])
    return {ask: [e for e in read[group_of[ask]] if e["seq"] > ask[1]][: ask[2]] for ask in wanted}


async def latest_events(
    session: AsyncSession, incident_id: str, kind: EventType, limit: int
) -> list[EventPublic]:
    """The last `limit` events of one type, in seq order: what a page that opens late needs of
    a stream no snapshot carries (the Convoys tab's vehicle alerts, GET …/convoy-alerts). The
    (incident_id, seq) index is walked back from the end; no index on the type, since an
    incident holds thousands of events, not millions."""
    query = (
        select(
            col(Event.incident_id),
            col(Event.seq),
            col(Event.type),
            col(Event.at),
            col(Event.actor),
            col(Event.data),
        )
        .where(col(Event.incident_id) == incident_id, col(Event.type) == kind)
        .order_by(col(Event.seq).desc())
        .limit(limit)
    )
    rows = list(await session.execute(query))
    return [envelope(*row) for row in reversed(rows)]
