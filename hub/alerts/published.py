"""Reads of what population alerts have published (no writes: hub/actions/alerts.py writes).

The public sees Actual messages only: the CAP Atom feed lists the alerts in force (sent or
updated, not cancelled, not expired, their latest message Actual), each Actual message is
public by its identifier (the Cancel of an alert too, so that whoever holds the alert learns it
is over), and each alert that sent an Actual message has its page. Exercise and Test messages
are never public: they answer not_found, as a message that does not exist.

A document is served only when `hub/alerts/cap.py` `cap_problems` finds nothing wrong in it:
otherwise the error is logged with its problems, the feed leaves the alert out and its
document answers `unavailable`, so that a malformed message never reaches a notice board.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_role
from hub.alerts import cap
from hub.auth import Principal
from hub.errors import HubError
from hub.settings import Settings
from models import Role
from models.alert import Alert, AlertMessage, AlertState, CapStatus, MsgType
from models.base import utcnow

log = logging.getLogger(__name__)

# The feed's bound: more alerts in force at once than any authority sends.
FEED_LIMIT = 200
IN_FORCE = (AlertState.SENT.value, AlertState.UPDATED.value)


@dataclass(frozen=True, slots=True)
class Published:
    """An alert and the message of it that is shown."""

    alert: Alert
    message: AlertMessage


def order(message: AlertMessage) -> tuple[int, datetime]:
    """A message's place in its alert: its number (several may share a second of `sent`)."""
    return (message.number, message.sent)


async def _messages(session: AsyncSession, alert_ids: Sequence[str]) -> dict[str, AlertMessage]:
    """The latest message of each of these alerts."""
    latest: dict[str, AlertMessage] = {}
    if not alert_ids:
        return latest
    rows = await session.execute(
        select(AlertMessage).where(col(AlertMessage.alert_id).in_(list(alert_ids)))
    )
    for message in rows.scalars():
        current = latest.get(message.alert_id)
        if current is None or order(message) > order(current):
            latest[message.alert_id] = message
    return latest


async def in_force(session: AsyncSession, now: datetime | None = None) -> list[Published]:
    """The Actual alerts in force and their latest message, the most recently sent first."""
    now = now or utcnow()
    alerts = (
        await session.execute(
            select(Alert)
            .where(
                col(Alert.state).in_(IN_FORCE),
                col(Alert.cap_status) == CapStatus.ACTUAL.value,
                col(Alert.expires) > now,
            )
            .order_by(col(Alert.sent_at).desc(), col(Alert.id))
            .limit(FEED_LIMIT)
        )
    ).scalars()
    by_id = {alert.id: alert for alert in alerts}
    latest = await _messages(session, list(by_id))
    shown = [
        Published(by_id[alert_id], message)
        for alert_id, message in latest.items()
        if message.cap_status == CapStatus.ACTUAL.value
        and message.msg_type != MsgType.CANCEL.value
        and datetime.fromisoformat(str(message.content["expires"])) > now
    ]
    shown.sort(key=lambda published: published.message.sent, reverse=True)
    return shown


async def feed_updated(session: AsyncSession, now: datetime | None = None) -> datetime | None:
    """When the feed last changed: its latest Actual message, or the latest expiry passed
    since (an alert leaving the feed changes it too). None before any Actual message."""
    now = now or utcnow()
    sent = (
        await session.execute(
            select(func.max(col(AlertMessage.sent))).where(
                col(AlertMessage.cap_status) == CapStatus.ACTUAL.value
            )
        )
    ).scalar()
    expired = (
        await session.execute(
            select(func.max(col(Alert.expires))).where(
                col(Alert.cap_status) == CapStatus.ACTUAL.value,
                col(Alert.state).in_(IN_FORCE),
                col(Alert.expires) <= now,
            )
        )
    ).scalar()
    times = [time for time in (sent, expired) if time is not None]
    return max(times) if times else None


async def public_message(session: AsyncSession, identifier: str) -> AlertMessage:
    """An Actual message by its identifier; any other is not_found."""
    message = await session.get(AlertMessage, identifier)
    if message is None or message.cap_status != CapStatus.ACTUAL.value:
        raise HubError("not_found", "no such CAP message")
    return message


async def public_alert(session: AsyncSession, alert_id: str) -> Published:
    """An alert the public may see (one that sent an Actual message) and its latest message."""
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.cap_status != CapStatus.ACTUAL.value:
        raise HubError("not_found", "no such alert")
    message = (await _messages(session, [alert.id])).get(alert.id)
    if message is None or message.cap_status != CapStatus.ACTUAL.value:
        raise HubError("not_found", "no such alert")
    return Published(alert, message)


async def member_message(
    session: AsyncSession, principal: Principal, alert_id: str, identifier: str | None
) -> AlertMessage:
    """The latest message of an alert, or the one named, for members of its incident (any
    status: Exercise and Test included)."""
    alert = await session.get(Alert, alert_id)
    if alert is None:
        raise HubError("not_found", "no such alert")
    await require_role(session, principal, alert.incident_id, Role.VIEWER)
    if identifier is not None:
        message = await session.get(AlertMessage, identifier)
        if message is None or message.alert_id != alert.id:
            raise HubError("not_found", "this alert has no CAP message with that identifier")
        return message
    latest = (await _messages(session, [alert.id])).get(alert.id)
    if latest is None:
        raise HubError("not_found", "this alert is a draft: it has no CAP message until it is sent")
    return latest


def page_url(base: str, alert_id: str) -> str:
    return f"{base}/alerts/{alert_id}"


def document_url(base: str, identifier: str) -> str:
    return f"{base}/cap/{identifier}.xml"


def _checked(message: AlertMessage, settings: Settings, base: str) -> tuple[bytes, list[str]]:
    """The CAP document of `message` and what cap_problems finds in it."""
    xml = cap.render(
        message, sender_name=settings.cap_sender_name, page_url=page_url(base, message.alert_id)
    )
    return xml, cap.cap_problems(xml)


def document(
    settings: Settings, message: AlertMessage, base: str, *, explain: bool = False
) -> bytes:
    """The CAP document of `message`, checked; `base` is the public address of the hub
    (PUBLIC_URL, else the request's). A document with problems is never served (the send
    refuses such a message, so this guards against what a later version would render);
    `explain` (the incident's members) names them in the refusal."""
    xml, problems = _checked(message, settings, base)
    if problems:
        log.error(
            "CAP message %s of alert %s withheld: %s",
            message.identifier,
            message.alert_id,
            "; ".join(problems),
        )
        reason = "this CAP message failed the hub's checks and is withheld"
        raise HubError("unavailable", f"{reason}: {'; '.join(problems)}" if explain else reason)
    return xml


def servable(message: AlertMessage, settings: Settings, base: str) -> bool:
    """Whether the feed may list `message` (cap_problems finds nothing in its document)."""
    _, problems = _checked(message, settings, base)
    if problems:
        log.error(
            "CAP message %s of alert %s left out of the feed: %s",
            message.identifier,
            message.alert_id,
            "; ".join(problems),
        )
    return not problems
