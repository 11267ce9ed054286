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
