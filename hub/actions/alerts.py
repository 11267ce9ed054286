"""Population alerts (BE-Alert): draft, edit, send, update and cancel, each a sequenced
incident event (alert.drafted, alert.sent, alert.updated, alert.cancelled), and the reads
and previews that drafting needs.

Who may do what: members read; contributors and managers draft and edit drafts; only a
manager sends, updates or cancels (the act of an authority). An incident of kind exercise
only ever sends CAP Exercise; Exercise and Test alerts reach only the test audience.

The area and its audience estimate are worked out before the write transaction (a read),
so that SQLite's single writer is not held while an area's registrations are counted; the
area is then frozen in the alert as drafted or updated.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_role
from hub.actions.anchors import live_anchors
from hub.actions.registrations import check_count_rate
from hub.actions.self_registration import unsubscribe_signer
from hub.alerts import cap
from hub.alerts.area import AreaError, from_anchors, from_geometry
from hub.alerts.outbox import TIERS, Perimeter, Plan, Queued, queue, site_of
from hub.alerts.progress import progress_of
from hub.alerts.registrations import audience
from hub.alerts.texts import Text, email_message, sms_segments, sms_text, voice_text
from hub.auth import Principal
from hub.context import Hub
from hub.convoys.geo import zone_from_anchor
from hub.db import driver_connection
from hub.errors import HubError
from hub.eventlog import log_event, take_seq
from hub.public import alert_public, audience_counts
from models import Alert, AlertMessage, AlertState, CapStatus, Incident, IncidentKind, MsgType
from models.alert import Channel
from models.base import new_id, utcnow
from models.events import AlertArea, AlertPublic, AudienceCounts, EventType
from models.incident import Role
from models.outbox import OutboxChannel, OutboxMessage, OutboxPurpose
from models.shapes import (
    AlertAreaIn,
    AlertDraftIn,
    AlertEditIn,
    AlertEstimateIn,
    AlertFieldsIn,
    AlertPreviewIn,
    AlertVersionIn,
)

log = logging.getLogger(__name__)

# The fields of AlertFieldsIn stored as they come (area and info are worked out).
_PLAIN = ("event", "category", "urgency", "severity", "certainty", "expires", "channels")


def status_for(incident: Incident, chosen: str) -> str:
    """What an alert of this incident sends: Exercise in an exercise, whatever was chosen."""
    if incident.kind == IncidentKind.EXERCISE.value:
        return CapStatus.EXERCISE.value
    return chosen


def test_only(cap_status: str) -> bool:
    """Exercise and Test alerts reach only the registrations of the test audience."""
    return cap_status != CapStatus.ACTUAL.value


@dataclass(frozen=True, slots=True)
class Prepared:
    area: AlertArea
    estimate: AudienceCounts


async def _prepare(
    hub: Hub, session: AsyncSession, incident_id: str, area: AlertAreaIn, cap_status: str
) -> Prepared:
    """The area from its anchors (or as drawn) and how many it reaches."""
    try:
        if area.geometry is not None:
            resolved = from_geometry(area.geometry)
        else:
            resolved = from_anchors(area.anchor_ids, await live_anchors(session, incident_id))
    except AreaError as error:
        raise HubError("invalid", str(error)) from None
    driver = await driver_connection(session)
    counted = await audience(
        driver, hub.db.is_sqlite, resolved["geometry"], test_only=test_only(cap_status)
    )
    return Prepared(resolved, audience_counts(counted))


def _check_expires(hub: Hub, expires: datetime | None) -> None:
    if expires is None:
        return
    now = utcnow()
    if expires <= now:
        raise HubError("invalid", "expires is in the past: an alert must still be in force")
    if expires > now + timedelta(hours=hub.settings.alert_max_hours):
        raise HubError(
            "invalid", f"expires is more than {hub.settings.alert_max_hours:g} hours ahead"
        )


# writes --------------------------------------------------------------------------------------


async def draft_alert(hub: Hub, principal: Principal, payload: AlertDraftIn) -> AlertPublic:
    hub.check_rate(principal.user_id)
    _check_expires(hub, payload.expires)
    async with hub.db.read() as session:
        incident, _ = await require_role(
            session, principal, payload.incident_id, Role.CONTRIBUTOR, write=True
        )
        cap_status = status_for(incident, payload.cap_status)
        prepared = await _prepare(hub, session, payload.incident_id, payload.area, cap_status)
    async with hub.db.write() as session:
        await require_role(session, principal, payload.incident_id, Role.CONTRIBUTOR, write=True)
        seq = await take_seq(session, payload.incident_id, open_only=True)
        alert = Alert(
            incident_id=payload.incident_id,
            cap_status=cap_status,
            anchor_ids=prepared.area["anchor_ids"],
            area_labels=prepared.area["labels"],
            geometry=prepared.area["geometry"],
            polygons=prepared.area["polygons"],
            circles=[dict(circle) for circle in prepared.area["circles"]],
            channels=[channel.value for channel in payload.channels],
            info=_info(payload.info),
            event=payload.event,
            category=payload.category.value,
            urgency=payload.urgency.value,
            severity=payload.severity.value,
            certainty=payload.certainty.value,
            expires=payload.expires,
            estimate=dict(prepared.estimate),
            created_by=principal.user_id,
        )
        session.add(alert)
        public = alert_public(alert, [])
        event = log_event(session, payload.incident_id, seq, "alert.drafted", principal, public)
    log.info(
        "alert %s drafted in incident %s by %s", alert.id, alert.incident_id, principal.username
    )
    await hub.notifier.incident_event(event)
    return public


async def edit_alert(hub: Hub, principal: Principal, payload: AlertEditIn) -> AlertPublic:
    """A draft's new text, area, fields or status (Actual or Test); `alert.drafted` again."""
    return await _change(hub, principal, payload, MsgType.ALERT, edit=True)


async def send_alert(hub: Hub, principal: Principal, payload: AlertVersionIn) -> AlertPublic:
    """The manager's act: CAP Alert, to everyone in the area (Exercise, Test: test audience)."""
    return await _change(hub, principal, AlertEditIn(**payload.model_dump()), MsgType.ALERT)


async def update_alert(hub: Hub, principal: Principal, payload: AlertEditIn) -> AlertPublic:
    """CAP Update: new text or area of a sent alert, referencing every earlier message."""
    if payload.cap_status is not None:
        raise HubError("invalid", "a sent alert keeps its status: cancel it and draft another")
    return await _change(hub, principal, payload, MsgType.UPDATE)


async def cancel_alert(hub: Hub, principal: Principal, payload: AlertVersionIn) -> AlertPublic:
    """CAP Cancel, referencing every earlier message. Possible in a closed incident too: an
    alert must stay cancellable whatever became of its incident."""
    return await _change(hub, principal, AlertEditIn(**payload.model_dump()), MsgType.CANCEL)


_STEP: dict[MsgType, tuple[AlertState, EventType]] = {
    MsgType.ALERT: (AlertState.SENT, "alert.sent"),
    MsgType.UPDATE: (AlertState.UPDATED, "alert.updated"),
    MsgType.CANCEL: (AlertState.CANCELLED, "alert.cancelled"),
}


async def _change(
    hub: Hub, principal: Principal, payload: AlertEditIn, step: MsgType, *, edit: bool = False
) -> AlertPublic:
    hub.check_rate(principal.user_id)
    minimum = Role.CONTRIBUTOR if edit else Role.MANAGER
    is_open = step is not MsgType.CANCEL
    _check_expires(hub, payload.expires)
    prepared: Prepared | None = None
    async with hub.db.read() as session:
        alert = await _alert(session, payload.alert_id)
        incident, _ = await require_role(
            session, principal, alert.incident_id, minimum, write=is_open
        )
        cap_status = status_for(incident, payload.cap_status or alert.cap_status)
        if payload.area is not None:
            prepared = await _prepare(hub, session, alert.incident_id, payload.area, cap_status)
        elif step is not MsgType.CANCEL:
            # The audience as it stands now: registrations come and go between drafting and
            # sending, and what the manager confirms is today's count.
            area = AlertAreaIn(geometry=alert.geometry)
            counted = await _prepare(hub, session, alert.incident_id, area, cap_status)
            prepared = Prepared(alert_public(alert, [])["area"], counted.estimate)
    async with hub.db.write() as session:
        await require_role(session, principal, alert.incident_id, minimum, write=is_open)
        # take_seq first: its row lock orders concurrent changes of this incident, so the
        # version read below is the committed one and one of two racing sends wins.
        seq = await take_seq(session, alert.incident_id, open_only=is_open)
        alert = await _alert(session, payload.alert_id, lock=True)
        messages = await _messages(session, [alert.id])
        _check_state(alert, step, edit=edit)
        if alert.version != payload.version:
            raise HubError(
                "conflict",
                f"the alert is at version {alert.version}, not {payload.version}: "
                "review its current state before you act on it",
                alert=alert_public(alert, messages.get(alert.id, [])),
            )
        if edit or step is MsgType.UPDATE:
            if not payload.model_fields_set - {"alert_id", "version"}:
                # An empty update would warn everyone again with the same text.
                raise HubError("invalid", "nothing to change: give the fields that change")
            _apply(alert, payload)
        if edit and payload.cap_status is not None:
            alert.cap_status = cap_status
        if prepared is not None:
            _apply_area(alert, prepared)
        if alert.expires <= utcnow() and step is not MsgType.CANCEL:
            raise HubError("invalid", "the alert has expired: set a later expiry first")
        now = utcnow()
        alert.version += 1
        alert.updated_at = now
        history = messages.get(alert.id, [])
        kind: EventType = "alert.drafted"
        queued: Queued | None = None
        if not edit:
            state, kind = _STEP[step]
            alert.state = state.value
            if step is MsgType.ALERT:
                alert.sent_by, alert.sent_at = principal.user_id, now
            message = _message(hub, session, alert, step, history)
            history = [*history, message]
            # In this transaction: the deliveries exist if and only if the message does.
            queued = await _queue_deliveries(hub, session, alert, message, now)
        session.add(alert)
        progress = (await progress_of(session, [alert.id])).get(alert.id) if queued else None
        public = alert_public(alert, history, progress)
        if not edit:
            history[-1].content = dict(public)
            _check_cap(hub, history[-1])
            if queued is not None:
                queued.by_channel["cap"] = _queue_operators(hub, session, alert, history[-1], now)
        event = log_event(session, alert.incident_id, seq, kind, principal, public)
    log.info(
        "alert %s %s (%s) by %s, version %d",
        alert.id,
        kind,
        alert.cap_status,
        principal.username,
        alert.version,
    )
    if queued is not None:
        log.info(
            "alert %s: %d deliveries queued (%s), %d queued ones superseded",
            alert.id,
            queued.total,
            ", ".join(f"{channel} {n}" for channel, n in queued.by_channel.items()) or "-",
            queued.superseded,
        )
    await hub.notifier.incident_event(event)
    return public


async def _queue_deliveries(
    hub: Hub, session: AsyncSession, alert: Alert, message: AlertMessage, now: datetime
) -> Queued:
    """The message's deliveries in the outbox (hub/alerts/outbox.py), in the caller's
    transaction: ordered by the alert's perimeters as they stand and the incident site."""
    anchors = await live_anchors(session, alert.incident_id)
    by_id = {anchor["id"]: anchor for anchor in anchors}
    perimeters: list[Perimeter] = []
    for anchor_id in alert.anchor_ids:
        anchor = by_id.get(anchor_id)
        tier = TIERS.get(anchor["kind"]) if anchor is not None else None
        if anchor is None or tier is None:
            continue
        zone = zone_from_anchor(
            anchor_id, anchor["kind"], anchor["label"], anchor["geometry"], anchor["properties"]
        )
        if zone is not None:
            perimeters.append(Perimeter(tier, zone.geometry))
    base = public_base(hub)
    assert hub.settings.secret_key is not None
    sign = unsubscribe_signer(hub.settings.secret_key)
    plan = Plan(
        alert_id=alert.id,
        identifier=message.identifier,
        msg_type=message.msg_type,
        cap_status=alert.cap_status,
        channels=frozenset(alert.channels),
        info=alert.info,
        page=f"{base}/alerts/{alert.id}",
        link=lambda registration_id: unsubscribe_link(base, registration_id, sign(registration_id)),
    )
    driver = await driver_connection(session)
    return await queue(
        driver,
        hub.db.is_sqlite,
        plan,
        geometry=alert.geometry,
        test_only=test_only(alert.cap_status),
        perimeters=perimeters,
        site=site_of(anchors, alert.geometry),
        now=now,
    )


def _queue_operators(
    hub: Hub, session: AsyncSession, alert: Alert, message: AlertMessage, now: datetime
) -> int:
    """The message's CAP document, one delivery per operator gateway, first in the queue
    (cell broadcast reaches the whole area at once), when the alert uses `operators`.
    Actual alerts only: a gateway warns everyone in the area, and Exercise and Test alerts
    may reach the test audience alone."""
    urls = hub.settings.operator_cap_urls
    if Channel.OPERATORS.value not in alert.channels or not urls:
        return 0
    if alert.cap_status != CapStatus.ACTUAL.value:
        log.info("alert %s is %s: not posted to the operators", alert.id, alert.cap_status)
        return 0
    page = f"{public_base(hub)}/alerts/{alert.id}"
    document = cap.render(message, sender_name=hub.settings.cap_sender_name, page_url=page)
    session.add_all(
        OutboxMessage(
            channel=OutboxChannel.CAP.value,
            address=url,
            language=next(iter(alert.info)),
            text=document.decode(),
            purpose=OutboxPurpose.ALERT.value,
            alert_id=alert.id,
            message_identifier=message.identifier,
            rank=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        for url in urls
    )
    return len(urls)


def public_base(hub: Hub) -> str:
    """Where the links of alert messages point: PUBLIC_URL, else the first allowed origin,
    else the hub's own address (a deployment sets PUBLIC_URL)."""
    if hub.settings.public_url:
        return hub.settings.public_url
    if hub.settings.allowed_origins:
        return hub.settings.allowed_origins[0]
    return f"http://{hub.settings.host}:{hub.settings.port}"


def _check_cap(hub: Hub, message: AlertMessage) -> None:
    """A message whose CAP document would fail the checks the schema does not make is not
    sent at all (the transaction rolls back): the public side withholds such a document, so
    sending it would warn no one while the cell believes it did."""
    document = cap.render(message, sender_name=hub.settings.cap_sender_name, page_url=None)
    problems = cap.cap_problems(document)
    if problems:
        log.error("alert %s not sent, its CAP message fails: %s", message.alert_id, problems)
        raise HubError("invalid", "the CAP message would be invalid: " + "; ".join(problems))


def _check_state(alert: Alert, step: MsgType, *, edit: bool) -> None:
    state = AlertState(alert.state)
    if edit or step is MsgType.ALERT:
        if state is not AlertState.DRAFT:
            raise HubError(
                "conflict", f"the alert is {state.value}, no longer a draft: update or cancel it"
            )
    elif state not in (AlertState.SENT, AlertState.UPDATED):
        raise HubError(
            "conflict",
            "a draft is sent first" if state is AlertState.DRAFT else "the alert is cancelled",
        )


def _apply(alert: Alert, fields: AlertFieldsIn) -> None:
    given = fields.model_dump(include=set(_PLAIN), exclude_none=True, mode="json")
    for key in _PLAIN:
        if key in given:
            value = getattr(fields, key)
            setattr(alert, key, value if key == "expires" else given[key])
    if fields.info is not None:
        alert.info = _info(fields.info)


def _apply_area(alert: Alert, prepared: Prepared) -> None:
    alert.anchor_ids = list(prepared.area["anchor_ids"])
    alert.area_labels = list(prepared.area["labels"])
    alert.geometry = prepared.area["geometry"]
    alert.polygons = prepared.area["polygons"]
    alert.circles = [dict(circle) for circle in prepared.area["circles"]]
    alert.estimate = dict(prepared.estimate)


def _info(info: Any) -> dict[str, Any]:
    return {language.value: text.model_dump() for language, text in info.items()}


def _message(
    hub: Hub, session: AsyncSession, alert: Alert, step: MsgType, history: Sequence[AlertMessage]
) -> AlertMessage:
    """A new CAP message of the alert: a fresh identifier, and references to every earlier
    message (none for the first Alert). Times to the second: CAP has no fractions."""
    message = AlertMessage(
        identifier=f"crisishub-{new_id()}",
        alert_id=alert.id,
        number=len(history) + 1,
        msg_type=step.value,
        cap_status=alert.cap_status,
        sender=hub.settings.cap_sender,
        sent=utcnow().replace(microsecond=0),
        references=[cap.reference(earlier) for earlier in history],
        content={},
    )
    session.add(message)
    return message


# reads ----------------------------------------------------------------------------------------


async def _alert(session: AsyncSession, alert_id: str, *, lock: bool = False) -> Alert:
    statement = select(Alert).where(col(Alert.id) == alert_id)
    if lock:
        statement = statement.with_for_update()
    alert: Alert | None = await session.scalar(statement)
    if alert is None:
        raise HubError("not_found", "no such alert")
    return alert


async def _messages(session: AsyncSession, alert_ids: list[str]) -> dict[str, list[AlertMessage]]:
    rows = await session.scalars(
        select(AlertMessage)
        .where(col(AlertMessage.alert_id).in_(alert_ids))
        .order_by(col(AlertMessage.alert_id), col(AlertMessage.number))
    )
    found: dict[str, list[AlertMessage]] = {}
    for row in rows:
        found.setdefault(row.alert_id, []).append(row)
    return found


async def get_alert(hub: Hub, principal: Principal, alert_id: str) -> AlertPublic:
    async with hub.db.read() as session:
        alert = await _alert(session, alert_id)
        await require_role(session, principal, alert.incident_id, Role.VIEWER)
        messages = await _messages(session, [alert.id])
        progress = await progress_of(session, [alert.id])
    return alert_public(alert, messages.get(alert.id, []), progress.get(alert.id))


async def list_alerts(hub: Hub, principal: Principal, incident_id: str) -> list[AlertPublic]:
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        alerts = list(
            await session.scalars(
                select(Alert)
                .where(col(Alert.incident_id) == incident_id)
                .order_by(col(Alert.created_at).desc(), col(Alert.id))
            )
        )
        messages = await _messages(session, [alert.id for alert in alerts])
        progress = await progress_of(session, [alert.id for alert in alerts])
    return [
        alert_public(alert, messages.get(alert.id, []), progress.get(alert.id)) for alert in alerts
    ]


async def estimate_alert(
    hub: Hub, principal: Principal, payload: AlertEstimateIn
) -> tuple[Prepared, str]:
    """The area and audience of a draft in the making: (prepared, cap_status), at the pace
    of audience counts (it is one)."""
    check_count_rate(hub, principal)
    async with hub.db.read() as session:
        incident, _ = await require_role(session, principal, payload.incident_id, Role.CONTRIBUTOR)
        cap_status = status_for(incident, payload.cap_status)
        prepared = await _prepare(hub, session, payload.incident_id, payload.area, cap_status)
    log.info(
        "alert audience estimated by %s in incident %s: %d registrations",
        principal.username,
        payload.incident_id,
        prepared.estimate["registrations"],
    )
    return prepared, cap_status


# What a link in a message costs while it is not known: a registration's unsubscribe link and
# the alert's public page, at the length they will have.
_SAMPLE_ID = "0" * 32
_SAMPLE_TOKEN = "x" * 43


async def preview_alert(
    hub: Hub, principal: Principal, payload: AlertPreviewIn, base_url: str
) -> dict[str, Any]:
    """Each language's text on each channel, marked as it will be sent, and its SMS segments."""
    async with hub.db.read() as session:
        incident, _ = await require_role(session, principal, payload.incident_id, Role.CONTRIBUTOR)
    cap_status = status_for(incident, payload.cap_status)
    base = hub.settings.public_url or base_url.rstrip("/")
    unsubscribe = unsubscribe_link(base, _SAMPLE_ID, _SAMPLE_TOKEN)
    page = f"{base}/alerts/{_SAMPLE_ID}"
    languages: dict[str, Any] = {}
    for language, given in payload.info.items():
        text = Text(given.headline, given.description, given.instruction)
        sms = sms_text(text, cap_status, language.value, unsubscribe)
        segments = sms_segments(sms)
        subject, body = email_message(text, cap_status, language.value, page, unsubscribe)
        languages[language.value] = {
            "sms": {
                "text": sms,
                "encoding": segments.encoding,
                "units": segments.units,
                "segments": segments.segments,
            },
            "voice": {"text": voice_text(text, cap_status, language.value)},
            "email": {"subject": subject, "body": body},
        }
    return {"cap_status": cap_status, "languages": languages}


def unsubscribe_link(base: str, registration_id: str, token: str) -> str:
    return f"{base}/public/registrations/{registration_id}/unsubscribe?token={token}"
