"""Organisations, users, tokens and browser sessions (administrators and the CLI)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from hub.access import require_admin
from hub.auth import Principal, hash_password, new_token, token_digest, verify_password
from hub.context import Hub
from hub.errors import HubError
from models import ApiToken, Organisation, User
from models.base import utcnow
from models.shapes import OrganisationIn, UserIn


async def add_organisation(
    hub: Hub, principal: Principal | None, payload: OrganisationIn
) -> dict[str, Any]:
    if principal is not None:
        require_admin(principal)
    try:
        async with hub.db.write() as session:
            organisation = Organisation(name=payload.name, kind=payload.kind)
            session.add(organisation)
    except IntegrityError:
        raise HubError("conflict", f"an organisation named {payload.name!r} exists") from None
    return {"id": organisation.id, "name": organisation.name, "kind": organisation.kind}


async def add_user(hub: Hub, principal: Principal | None, payload: UserIn) -> dict[str, Any]:
    if principal is not None:
        require_admin(principal)
    # argon2 takes ~100 ms of CPU on purpose: off the event loop, so sockets keep flowing.
    password_hash = (
        await asyncio.to_thread(hash_password, payload.password) if payload.password else None
    )
    try:
        async with hub.db.write() as session:
            organisation = await session.scalar(
                select(Organisation).where(col(Organisation.name) == payload.organisation)
            )
            if organisation is None:
                raise HubError("not_found", f"no organisation named {payload.organisation!r}")
            user = User(
                username=payload.username,
                display_name=payload.display_name or payload.username,
                discipline=payload.discipline,
                is_admin=payload.is_admin,
                organisation_id=organisation.id,
                password_hash=password_hash,
            )
            session.add(user)
    except IntegrityError:
        raise HubError("conflict", f"a user named {payload.username!r} exists") from None
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "organisation": organisation.name,
        "discipline": user.discipline,
        "is_admin": user.is_admin,
    }


async def create_token(
    hub: Hub, principal: Principal | None, username: str, *, kind: str = "api"
) -> tuple[str, str]:
    """A new token for a user: (token id, raw token). The raw token is shown once, never stored."""
    raw = new_token()
    async with hub.db.write() as session:
        user = await session.scalar(select(User).where(col(User.username) == username))
        if user is None or not user.active:
            raise HubError("not_found", f"no active user named {username!r}")
        if principal is not None and principal.user_id != user.id:
            require_admin(principal)
        token = ApiToken(user_id=user.id, token_hash=token_digest(raw), kind=kind)
        session.add(token)
    return token.id, raw


async def revoke_token(hub: Hub, principal: Principal | None, token_id: str) -> None:
    """Revoke a token; its sockets are disconnected on every instance."""
    async with hub.db.write() as session:
        token = await session.get(ApiToken, token_id)
        if token is None:
            raise HubError("not_found", "no such token")
        if principal is not None and principal.user_id != token.user_id:
            require_admin(principal)
        await session.execute(
            update(ApiToken)
            .where(col(ApiToken.id) == token_id, col(ApiToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
    await hub.notifier.control({"type": "token.revoked", "token_id": token_id})


async def login(hub: Hub, username: str, password: str, *, client: str = "") -> str:
    """Check a password and open a browser session; returns the raw session token.

    Failed guesses are throttled per username and address and per address (LoginThrottle),
    and the argon2 check runs off the event loop so a flood of logins does not stall
    everyone's sockets.
    """
    hub.logins.check(username, client)
    async with hub.db.read() as session:
        user = await session.scalar(select(User).where(col(User.username) == username))
    password_hash = user.password_hash if user else None
    if not await asyncio.to_thread(verify_password, password_hash, password) or user is None:
        raise HubError("unauthorized", "wrong username or password")
    hub.logins.succeeded(username, client)
    if not user.active:
        raise HubError("unauthorized", "this account is disabled")
    _, raw = await create_token(hub, None, username, kind="session")
    return raw


# Suggestions stop at this many: enough to pick from, too few to list the directory of users.
SUGGEST_MAX = 10


def _like_prefix(text: str) -> str:
    """`text` as a LIKE prefix pattern, its own % and _ taken literally (escape \\)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped.lower()}%"


async def suggest_users(hub: Hub, principal: Principal, q: str) -> list[dict[str, str]]:
    """Active users whose username or any word of whose name starts with `q` (case ignored),
    by username, for a manager typing a member's name. What it tells (username, name,
    organisation, discipline) is what every feed entry shows of its author."""
    text = q.strip()
    if len(text) < 2:
        raise HubError("invalid", "q needs at least 2 characters")
    prefix = _like_prefix(text)
    name = func.lower(col(User.display_name))
    async with hub.db.read() as session:
        rows = await session.execute(
            select(
                col(User.username),
                col(User.display_name),
                col(Organisation.name),
                col(User.discipline),
            )
            .join(Organisation, col(Organisation.id) == col(User.organisation_id))
            .where(
                col(User.active).is_(True),
                or_(
                    func.lower(col(User.username)).like(prefix, escape="\\"),
                    name.like(prefix, escape="\\"),
                    name.like(f"% {prefix}", escape="\\"),
                ),
            )
            .order_by(col(User.username))
            .limit(SUGGEST_MAX)
        )
        return [
            {"username": u, "name": n, "organisation": o, "discipline": d} for u, n, o, d in rows
        ]
