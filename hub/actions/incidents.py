"""Incidents and their members: create, change phase/status, add and remove members."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_manager, require_role
from hub.actions.evaluation import open_counts
from hub.auth import Principal
from hub.context import Hub
from hub.errors import HubError
from hub.eventlog import log_event, take_seq
from hub.public import actor_public, incident_public, incident_with_role
from models import Incident, IncidentKind, Membership, Organisation, Phase, Role, Status, User
from models.base import utcnow
from models.events import (
    IncidentListed,
    IncidentPublic,
    IncidentWithRole,
    MemberAdded,
    MemberPublic,
    MemberRemoved,
)
from models.shapes import IncidentCreateIn, IncidentUpdateIn, MemberIn

# Who acts when the operator runs the CLI: recorded in the log as such.
SYSTEM_ACTOR = actor_public("system", "CrisisHub operator", "system")


async def create_incident(
    hub: Hub,
    principal: Principal | None,
    payload: IncidentCreateIn,
    members: list[MemberIn] | None = None,
) -> IncidentPublic:
    """Any user may open an incident and becomes its manager (the CLI passes no principal)."""
    async with hub.db.write() as session:
        incident = Incident(
            title=payload.title,
            kind=payload.kind,
            phase=payload.phase,
            created_by=principal.user_id if principal else None,
        )
        session.add(incident)
        await session.flush()
        wanted: dict[str, str] = {}
        if principal is not None:
            wanted[principal.user_id] = Role.MANAGER.value
        for member in members or []:
            user = await _user_by_name(session, member.username)
            wanted[user.id] = member.role.value
        for user_id, role in wanted.items():
            session.add(Membership(incident_id=incident.id, user_id=user_id, role=role))
        public = incident_public(incident)
    return public


async def update_incident(
    hub: Hub, principal: Principal, incident_id: str, payload: IncidentUpdateIn
) -> IncidentPublic:
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise HubError("invalid", "nothing to change: give title, phase or status")
    hub.check_rate(principal.user_id)
    async with hub.db.write() as session:
        incident, _ = await require_role(session, principal, incident_id, Role.MANAGER)
        # A closed incident refuses writes, except the manager reopening it.
        if incident.status == Status.CLOSED.value and changes.get("status") != Status.OPEN.value:
            raise HubError("forbidden", "this incident is closed; reopen it first")
        seq = await take_seq(session, incident_id)
        await session.refresh(incident)
        for key, value in changes.items():
            setattr(incident, key, value)
        if changes.get("status") == Status.CLOSED.value:
            incident.closed_at = utcnow()
        elif changes.get("status") == Status.OPEN.value:
            incident.closed_at = None
        session.add(incident)
        public = incident_public(incident)
        event = log_event(session, incident_id, seq, "incident.updated", principal, public)
    await hub.notifier.incident_event(event)
    return public


async def get_incident(hub: Hub, principal: Principal, incident_id: str) -> IncidentWithRole:
    async with hub.db.read() as session:
        incident, role = await require_role(session, principal, incident_id, Role.VIEWER)
        return incident_with_role(incident, role.value)


async def list_incidents(
    hub: Hub,
    principal: Principal,
    *,
    status: str | None = None,
    kind: str | None = None,
    phase: str | None = None,
) -> list[IncidentListed]:
    """The incidents the caller is a member of, newest first, with their open evaluation
    points counted."""
    query = (
        select(Incident, col(Membership.role))
        .join(Membership, col(Membership.incident_id) == col(Incident.id))
        .where(col(Membership.user_id) == principal.user_id)
        .order_by(col(Incident.created_at).desc())
        .limit(500)
    )
    for name, column, value, values in (
        ("status", col(Incident.status), status, Status),
        ("kind", col(Incident.kind), kind, IncidentKind),
        ("phase", col(Incident.phase), phase, Phase),
    ):
        if value is not None:
            if value not in {member.value for member in values}:
                choices = ", ".join(member.value for member in values)
                raise HubError("invalid", f"{name} must be one of {choices}")
            query = query.where(column == value)
    async with hub.db.read() as session:
        rows = (await session.execute(query)).all()
        counts = await open_counts(session, [incident.id for incident, _ in rows])
        return [
            {**incident_with_role(incident, role), "open_points": counts.get(incident.id, 0)}
            for incident, role in rows
        ]


async def set_member(
    hub: Hub, principal: Principal | None, incident_id: str, payload: MemberIn
) -> MemberAdded:
    """Add a member or change their role (manager only; the CLI passes no principal)."""
    async with hub.db.write() as session:
        await require_manager(session, principal, incident_id, operator_on_closed=True)
        user = await _user_by_name(session, payload.username)
        membership = await session.get(Membership, (incident_id, user.id))
        if membership is None:
            membership = Membership(incident_id=incident_id, user_id=user.id, role=payload.role)
        else:
            membership.role = payload.role
        session.add(membership)
        seq = await take_seq(session, incident_id)
        organisation = await session.get(Organisation, user.organisation_id)
        data: MemberAdded = {
            "user_id": user.id,
            "username": user.username,
            "name": user.display_name,
            "organisation": organisation.name if organisation else None,
            "role": payload.role.value,
        }
        event = log_event(
            session, incident_id, seq, "member.added", principal or SYSTEM_ACTOR, data
        )
    await hub.notifier.incident_event(event)
    return data


async def remove_member(
    hub: Hub, principal: Principal | None, incident_id: str, username: str
) -> MemberRemoved:
    async with hub.db.write() as session:
        await require_manager(session, principal, incident_id, operator_on_closed=True)
        user = await _user_by_name(session, username)
        membership = await session.get(Membership, (incident_id, user.id))
        if membership is None:
            raise HubError("not_found", f"{username} is not a member of this incident")
        await session.delete(membership)
        seq = await take_seq(session, incident_id)
        data: MemberRemoved = {
            "user_id": user.id,
            "username": user.username,
            "name": user.display_name,
        }
        event = log_event(
            session, incident_id, seq, "member.removed", principal or SYSTEM_ACTOR, data
        )
    # Their sockets leave the room on every instance before the room hears of it.
    await hub.notifier.control(
        {"type": "member.removed", "incident_id": incident_id, "user_id": user.id}
    )
    await hub.notifier.incident_event(event)
    return data


async def list_members(hub: Hub, principal: Principal, incident_id: str) -> list[MemberPublic]:
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        rows = await session.execute(
            select(col(Membership.role), User, col(Organisation.name))
            .join(User, col(User.id) == col(Membership.user_id))
            .join(Organisation, col(Organisation.id) == col(User.organisation_id))
            .where(col(Membership.incident_id) == incident_id)
            .order_by(col(User.username))
        )
        members: list[MemberPublic] = [
            {
                "user_id": user.id,
                "username": user.username,
                "name": user.display_name,
                "organisation": organisation,
                "discipline": user.discipline,
                "role": role,
            }
            for role, user, organisation in rows
        ]
        return members


async def _user_by_name(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(col(User.username) == username))
    if user is None:
        raise HubError("not_found", f"no user named {username!r}")
    return user
