"""An alert's deliveries, for the members of its incident: the list (filtered, paged by id)
and the CSV report. Contact points are personal data: each is masked but its last 3
characters (hub/logs.py `masked`), and every read is logged with who read it."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator

from sqlalchemy import func, select
from sqlmodel import col

from hub.access import require_role
from hub.auth import Principal
from hub.context import Hub
from hub.errors import HubError
from hub.logs import masked
from models import Alert
from models.base import iso
from models.events import DeliveryPublic, FailureCount
from models.incident import Role
from models.outbox import OutboxChannel, OutboxMessage, OutboxState

log = logging.getLogger(__name__)

MAX_PAGE = 1_000
_REPORT_PAGE = 5_000
REPORT_COLUMNS = (
    "id",
    "message_identifier",
    "channel",
    "address",
    "language",
    "state",
    "attempts",
    "error",
    "updated_at",
)
_STATES = frozenset(state.value for state in OutboxState)
_CHANNELS = frozenset(channel.value for channel in OutboxChannel)


def delivery_public(row: OutboxMessage) -> DeliveryPublic:
    assert row.id is not None
    return {
        "id": row.id,
        "message_identifier": row.message_identifier,
        "channel": row.channel,
        "address": masked(row.address),
        "language": row.language,
        "state": row.state,
        "attempts": row.attempts,
        "error": row.error,
        "updated_at": iso(row.updated_at),
    }


async def _check(hub: Hub, principal: Principal, alert_id: str) -> None:
    async with hub.db.read() as session:
        alert = await session.get(Alert, alert_id)
        if alert is None:
            raise HubError("not_found", "no such alert")
        await require_role(session, principal, alert.incident_id, Role.VIEWER)


async def _page(
    hub: Hub,
    alert_id: str,
    *,
    state: str | None,
    channel: str | None,
    limit: int,
    after: int,
) -> list[OutboxMessage]:
    statement = select(OutboxMessage).where(
        col(OutboxMessage.alert_id) == alert_id, col(OutboxMessage.id) > after
    )
    if state is not None:
        statement = statement.where(col(OutboxMessage.state) == state)
    if channel is not None:
        statement = statement.where(col(OutboxMessage.channel) == channel)
    async with hub.db.read() as session:
        return list(await session.scalars(statement.order_by(col(OutboxMessage.id)).limit(limit)))


def _filters(state: str | None, channel: str | None) -> None:
    if state is not None and state not in _STATES:
        raise HubError("invalid", f"state must be one of {', '.join(sorted(_STATES))}")
    if channel is not None and channel not in _CHANNELS:
        raise HubError("invalid", f"channel must be one of {', '.join(sorted(_CHANNELS))}")


async def list_deliveries(
    hub: Hub,
    principal: Principal,
    alert_id: str,
    *,
    state: str | None = None,
    channel: str | None = None,
    limit: int = 100,
    after: int = 0,
) -> tuple[list[DeliveryPublic], int | None]:
    """A page of the alert's deliveries in id order (the queue's order), after `after`;
    with the `after` of the next page, None on the last."""
    _filters(state, channel)
    await _check(hub, principal, alert_id)
    rows = await _page(hub, alert_id, state=state, channel=channel, limit=limit + 1, after=after)
    log.info("deliveries of alert %s listed by %s", alert_id, principal.username)
    more = len(rows) > limit
    page = [delivery_public(row) for row in rows[:limit]]
    return page, (page[-1]["id"] if more and page else None)


MAX_REASONS = 100


async def failures(hub: Hub, principal: Principal, alert_id: str) -> list[FailureCount]:
    """The alert's failed deliveries grouped by reason (the last error), most frequent
    first, by channel; superseded ones are no failure (hub/alerts/progress.py)."""
    await _check(hub, principal, alert_id)
    async with hub.db.read() as session:
        rows = await session.execute(
            select(col(OutboxMessage.channel), col(OutboxMessage.error), func.count())
            .where(
                col(OutboxMessage.alert_id) == alert_id,
                col(OutboxMessage.state) == OutboxState.FAILED.value,
                ~func.coalesce(col(OutboxMessage.error), "").startswith("superseded"),
            )
            .group_by(col(OutboxMessage.channel), col(OutboxMessage.error))
            .order_by(func.count().desc(), col(OutboxMessage.channel))
            .limit(MAX_REASONS)
        )
        return [
            {"channel": channel, "error": error or "", "count": int(count)}
            for channel, error, count in rows.all()
        ]


async def report(hub: Hub, principal: Principal, alert_id: str) -> AsyncIterator[str]:
    """The CSV report, every delivery of the alert, produced page by page."""
    await _check(hub, principal, alert_id)
    log.info("delivery report of alert %s read by %s", alert_id, principal.username)

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(REPORT_COLUMNS)
        after = 0
        while True:
            rows = await _page(
                hub, alert_id, state=None, channel=None, limit=_REPORT_PAGE, after=after
            )
            for row in rows:
                public = delivery_public(row)
                writer.writerow([public[name] for name in REPORT_COLUMNS])  # type: ignore[literal-required]
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < _REPORT_PAGE:
                return
            after = public["id"]

    return lines()
