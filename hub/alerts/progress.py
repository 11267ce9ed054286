"""Where an alert's delivery stands: its outbox rows counted by channel and state, in one
GROUP BY on the alert_id index. `sending` counts as queued (not handed over yet); deliveries
superseded by a later message of the alert (failed, "superseded …") are not counted at all:
they are no failure, their recipients get the later message instead."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.events import ChannelProgress
from models.outbox import OutboxMessage, OutboxState

_SUPERSEDED = "superseded"
_BUCKET = {
    OutboxState.QUEUED.value: "queued",
    OutboxState.SENDING.value: "queued",
    OutboxState.SENT.value: "sent",
    OutboxState.DELIVERED.value: "delivered",
    OutboxState.FAILED.value: "failed",
}


def empty() -> ChannelProgress:
    return {"queued": 0, "sent": 0, "delivered": 0, "failed": 0}


async def progress_of(
    session: AsyncSession, alert_ids: Iterable[str]
) -> dict[str, dict[str, ChannelProgress]]:
    """{alert_id: {channel: counts}}; an alert with no delivery is absent."""
    ids = list(alert_ids)
    if not ids:
        return {}
    state = case(
        (
            (col(OutboxMessage.state) == OutboxState.FAILED.value)
            & col(OutboxMessage.error).startswith(_SUPERSEDED),
            _SUPERSEDED,
        ),
        else_=col(OutboxMessage.state),
    )
    rows = await session.execute(
        select(col(OutboxMessage.alert_id), col(OutboxMessage.channel), state, func.count())
        .where(col(OutboxMessage.alert_id).in_(ids))
        .group_by(col(OutboxMessage.alert_id), col(OutboxMessage.channel), state)
    )
    found: dict[str, dict[str, ChannelProgress]] = {}
    for alert_id, channel, bucket, count in rows.all():
        if alert_id is None:
            continue
        counts = found.setdefault(alert_id, {}).setdefault(channel, empty())
        if bucket == _SUPERSEDED:
            continue
        key = _BUCKET.get(bucket)
        if key is not None:
            counts[key] += int(count)  # type: ignore[literal-required]  # one of the four keys
    return found
