"""Role checks: only members see an incident; writes need a role and an open incident."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.auth import Principal
from hub.errors import HubError
from models import Incident, Membership, Role, Status


async def require_role(
    session: AsyncSession,
    principal: Principal,
    incident_id: str,
    minimum: Role,
    *,
    write: bool = False,
) -> tuple[Incident, Role]:
    """The incident and the caller's role in it, or the contract's error."""
    row = (
        await session.execute(
            select(Incident, col(Membership.role))
            .outerjoin(
                Membership,
                (col(Membership.incident_id) == col(Incident.id))
                & (col(Membership.user_id) == principal.user_id),
            )
            .where(col(Incident.id) == incident_id)
        )
    ).first()
    if row is None:
        raise HubError("not_found", "no such incident")
    incident, role_name = row
    return incident, check_role(role_name, incident.status, minimum, write=write)


# The (user, incident) pairs answered by one roles_of at most (bound parameters).
MAX_ROLES_PER_READ = 400


async def roles_of(
    session: AsyncSession, wanted: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Incident, str | None]]:
    """For each (user_id, incident_id) of `wanted`, the incident and the user's role name in
    it (None: not a member), in two queries for all (the joins in flight,
    hub/actions/join.py); a pair whose incident does not exist is absent. What require_role
    reads, for check_role to decide on."""
    if len(wanted) > MAX_ROLES_PER_READ:
        raise ValueError(f"at most {MAX_ROLES_PER_READ} pairs per read")
    incident_ids = {incident_id for _, incident_id in wanted}
    user_ids = {user_id for user_id, _ in wanted}
    incidents = {
        incident.id: incident
        for incident in (
            await session.scalars(select(Incident).where(col(Incident.id).in_(incident_ids)))
        )
    }
    roles = {
        (user_id, incident_id): role
        for incident_id, user_id, role in await session.execute(
            select(col(Membership.incident_id), col(Membership.user_id), col(Membership.role))
            .where(col(Membership.incident_id).in_(incident_ids))
            .where(col(Membership.user_id).in_(user_ids))
        )
    }
    return {
        (user_id, incident_id): (incidents[incident_id], roles.get((user_id, incident_id)))
        for user_id, incident_id in wanted
        if incident_id in incidents
    }


async def incidents_by_id(session: AsyncSession, wanted: list[str]) -> dict[str, Incident]:
    """The incidents of `wanted` that exist, in one query."""
    if len(wanted) > MAX_ROLES_PER_READ:
        raise ValueError(f"at most {MAX_ROLES_PER_READ} incidents per read")
    found = await session.scalars(select(Incident).where(col(Incident.id).in_(wanted)))
    return {incident.id: incident for incident in found}


def check_role(role_name: str | None, status: str, minimum: Role, *, write: bool = False) -> Role:
    """The caller's role, or the contract's refusal, given their membership and the incident's
    status: shared by require_role and the feed's batched check (hub/actions/feed.py)."""
    if role_name is None:
        raise HubError("forbidden", "you are not a member of this incident")
    role = Role(role_name)
    if role.rank < minimum.rank:
        raise HubError("forbidden", f"this needs the {minimum.value} role in this incident")
    if write and status == Status.CLOSED.value:
        raise HubError("forbidden", "this incident is closed")
    return role


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise HubError("forbidden", "this needs an administrator")


async def require_manager(
    session: AsyncSession,
    principal: Principal | None,
    incident_id: str,
    *,
    operator_on_closed: bool = False,
) -> None:
    """Managers change an incident's members, convoys and devices; so does the operator (the
    CLI, principal None). A closed incident takes no change from anyone, except, with
    `operator_on_closed`, the operator's member changes (to let evaluators read it later)."""
    if principal is not None:
        await require_role(session, principal, incident_id, Role.MANAGER, write=True)
        return
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise HubError("not_found", "no such incident")
    if incident.status == Status.CLOSED.value and not operator_on_closed:
        raise HubError("forbidden", "this incident is closed")
