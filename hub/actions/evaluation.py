"""Evaluation points: members record what went well and what must improve, who follows it up
and by when; edited with optimistic versions (a stale version is `conflict`, as anchors), each
change a sequenced `evaluation.*` event of the incident.

Who may do what, as a crisis cell runs its debriefing:
- viewers read the points (an evaluator invited as a viewer reads, and asks for a role to write);
- contributors and managers record points: every service that took part has findings;
- a point is edited, closed or reopened by its author or by a manager (who chairs the
  evaluation and decides when a follow-up is done), not by every contributor, so that one
  service cannot rewrite or close another's finding.
Evaluation comes after the incident as much as during it, so points are written on a closed
incident too: the only writes a closed incident takes.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_role
from hub.auth import Principal
from hub.context import Hub
from hub.errors import HubError
from hub.eventlog import log_event, take_seq
from hub.public import author_public
from hub.timeline.zone import local
from models import Incident, Organisation, Role, User
from models.base import iso, utcnow
from models.evaluation import EvaluationPoint, EvaluationState
from models.events import AuthorPublic, EvaluationPointPublic
from models.shapes import EvaluationCreateIn, EvaluationUpdateIn

# A due day further out than this is a typo (2207 for 2027), not a plan.
MAX_DUE_YEARS = 10


def point_public(point: EvaluationPoint, author: AuthorPublic) -> EvaluationPointPublic:
    return {
        "id": point.id,
        "incident_id": point.incident_id,
        "client_id": point.client_id,
        "kind": point.kind,
        "text": point.text,
        "owner": point.owner,
        "due": None if point.due is None else point.due.isoformat(),
        "state": point.state,
        "version": point.version,
        "author": author,
        "created_at": iso(point.created_at),
        "updated_at": iso(point.updated_at),
        "updated_by": point.updated_by,
        "closed_at": iso(point.closed_at),
    }


def _check_due(incident: Incident, due: date | None) -> None:
    if due is None:
        return
    start = local(incident.created_at).date()
    if due < start:
        raise HubError(
            "invalid", f"due: {due.isoformat()} is before the incident began ({start.isoformat()})"
        )
    if due > local(utcnow()).date() + timedelta(days=366 * MAX_DUE_YEARS):
        raise HubError("invalid", f"due: {due.isoformat()} is more than {MAX_DUE_YEARS} years away")


async def create_point(
    hub: Hub, principal: Principal, payload: EvaluationCreateIn
) -> EvaluationPointPublic:
    hub.check_rate(principal.user_id)
    try:
        async with hub.db.write() as session:
            # write=False: a closed incident still takes its evaluation (module docstring).
            incident, _ = await require_role(
                session, principal, payload.incident_id, Role.CONTRIBUTOR
            )
            earlier = await _by_client_id(session, payload.incident_id, payload.client_id)
            if earlier is not None:
                return earlier
            _check_due(incident, payload.due)
            seq = await take_seq(session, payload.incident_id)
            point = EvaluationPoint(
                incident_id=payload.incident_id,
                client_id=payload.client_id,
                kind=payload.kind.value,
                text=payload.text,
                owner=payload.owner,
                due=payload.due,
                created_by=principal.user_id,
                updated_by=principal.user_id,
            )
            session.add(point)
            public = point_public(point, principal.author())
            event = log_event(
                session, payload.incident_id, seq, "evaluation.created", principal, public
            )
    except IntegrityError:
        # The same client id committed by a concurrent retry: answer that one.
        async with hub.db.read() as session:
            found = await _by_client_id(session, payload.incident_id, payload.client_id)
        if found is None:
            raise
        return found
    await hub.notifier.incident_event(event)
    return public


async def update_point(
    hub: Hub, principal: Principal, payload: EvaluationUpdateIn
) -> EvaluationPointPublic:
    changes: dict[str, Any] = payload.model_dump(
        include={"kind", "text", "owner", "due", "state"}, exclude_unset=True
    )
    # kind, text and state cannot be cleared; owner and due can (given as null).
    changes = {
        key: value for key, value in changes.items() if value is not None or key in ("owner", "due")
    }
    if not changes:
        raise HubError("invalid", "nothing to change: give kind, text, owner, due or state")
    hub.check_rate(principal.user_id)
    async with hub.db.write() as session:
        incident, role = await require_role(
            session, principal, payload.incident_id, Role.CONTRIBUTOR
        )
        # take_seq first: its row lock orders concurrent edits of this incident, so the
        # version read below is the committed one and exactly one of two racing edits wins.
        seq = await take_seq(session, payload.incident_id)
        point = await session.scalar(
            select(EvaluationPoint)
            .where(
                col(EvaluationPoint.id) == payload.point_id,
                col(EvaluationPoint.incident_id) == payload.incident_id,
            )
            .with_for_update()
        )
        if point is None:
            raise HubError("not_found", "no such evaluation point in this incident")
        author = await _author(session, point.created_by)
        if role is not Role.MANAGER and point.created_by != principal.user_id:
            raise HubError(
                "forbidden", "an evaluation point is changed by its author or by a manager"
            )
        if point.version != payload.version:
            raise HubError(
                "conflict",
                f"the evaluation point is at version {point.version}, not {payload.version}: "
                "review its current state and apply your change again",
                point=point_public(point, author),
            )
        if "due" in changes:
            _check_due(incident, changes["due"])
        now = utcnow()
        for key, value in changes.items():
            if isinstance(value, StrEnum):
                value = value.value  # the column's text, as create writes it
            if key == "state":
                if value != point.state:
                    point.closed_at = now if value == EvaluationState.CLOSED.value else None
                point.state = value
            else:
                setattr(point, key, value)
        point.version += 1
        point.updated_at = now
        point.updated_by = principal.user_id
        session.add(point)
        public = point_public(point, author)
        event = log_event(
            session, payload.incident_id, seq, "evaluation.updated", principal, public
        )
    await hub.notifier.incident_event(event)
    return public


async def list_points(
    hub: Hub, principal: Principal, incident_id: str
) -> list[EvaluationPointPublic]:
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        return await incident_points(session, incident_id)


async def incident_points(session: AsyncSession, incident_id: str) -> list[EvaluationPointPublic]:
    """Every point of the incident with its author, oldest first (the panel, the exports)."""
    rows = await session.execute(
        _with_authors()
        .where(col(EvaluationPoint.incident_id) == incident_id)
        # The id breaks ties of one clock tick (a batch recorded by a script).
        .order_by(col(EvaluationPoint.created_at), col(EvaluationPoint.id))
    )
    return [_public_row(*row) for row in rows]


async def open_counts(session: AsyncSession, incident_ids: list[str]) -> dict[str, int]:
    """How many points are still open, by incident (the incident list)."""
    if not incident_ids:
        return {}
    rows = await session.execute(
        select(col(EvaluationPoint.incident_id), func.count())
        .where(
            col(EvaluationPoint.incident_id).in_(incident_ids),
            col(EvaluationPoint.state) == EvaluationState.OPEN.value,
        )
        .group_by(col(EvaluationPoint.incident_id))
    )
    return {incident_id: int(count) for incident_id, count in rows}


def _with_authors() -> Any:
    return (
        select(
            EvaluationPoint,
            col(User.display_name),
            col(Organisation.name),
            col(User.discipline),
        )
        .join(User, col(User.id) == col(EvaluationPoint.created_by))
        .join(Organisation, col(Organisation.id) == col(User.organisation_id))
    )


def _public_row(
    point: EvaluationPoint, name: str, organisation: str, discipline: str
) -> EvaluationPointPublic:
    return point_public(point, author_public(point.created_by, name, organisation, discipline))


async def _by_client_id(
    session: AsyncSession, incident_id: str, client_id: str
) -> EvaluationPointPublic | None:
    row = (
        await session.execute(
            _with_authors().where(
                col(EvaluationPoint.incident_id) == incident_id,
                col(EvaluationPoint.client_id) == client_id,
            )
        )
    ).first()
    return None if row is None else _public_row(*row)


async def _author(session: AsyncSession, user_id: str) -> AuthorPublic:
    row = (
        await session.execute(
            select(col(User.display_name), col(Organisation.name), col(User.discipline))
            .join(Organisation, col(Organisation.id) == col(User.organisation_id))
            .where(col(User.id) == user_id)
        )
    ).one()
    return author_public(user_id, row[0], row[1], row[2])
