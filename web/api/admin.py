"""Organisations, users and API tokens (administrators; tokens for oneself)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request

from hub.actions import directory
from hub.auth import Principal
from hub.errors import HubError
from models.responses import (
    Empty,
    OrganisationOut,
    TokenPublic,
    UserOut,
    UsersOut,
)
from models.shapes import (
    OrganisationIn,
    TokenIn,
    UserIn,
)
from web.api.endpoint import Endpoint
from web.http import hub_of, read_json

log = logging.getLogger(__name__)


async def add_organisation(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, OrganisationIn)
    return {"organisation": await directory.add_organisation(hub_of(request), principal, payload)}


async def add_user(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, UserIn)
    return {"user": await directory.add_user(hub_of(request), principal, payload)}


async def suggest_users(request: Request, principal: Principal) -> Any:
    q = request.query_params.get("q", "")
    if len(q) > 100:
        raise HubError("invalid", "q is at most 100 characters")
    return {"users": await directory.suggest_users(hub_of(request), principal, q)}


async def create_token(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, TokenIn)
    token_id, raw = await directory.create_token(
        hub_of(request), principal, payload.username or principal.username
    )
    return {"id": token_id, "token": raw}


async def revoke_token(request: Request, principal: Principal) -> Any:
    await directory.revoke_token(hub_of(request), principal, request.path_params["token_id"])
    return {}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST",
        "/api/organisations",
        "Add an organisation (admin)",
        add_organisation,
        OrganisationIn,
        OrganisationOut,
        status=201,
    ),
    Endpoint(
        "GET",
        "/api/users",
        "Users whose username or a word of whose name starts with q (a member's name typed)",
        suggest_users,
        response=UsersOut,
        query={
            "q": (
                "2 to 100 characters, case ignored",
                {"type": "string", "minLength": 2, "maxLength": 100},
            )
        },
    ),
    Endpoint("POST", "/api/users", "Add a user (admin)", add_user, UserIn, UserOut, status=201),
    Endpoint(
        "POST",
        "/api/tokens",
        "Create an API token (for yourself; admins for anyone)",
        create_token,
        TokenIn,
        TokenPublic,
        status=201,
    ),
    Endpoint("DELETE", "/api/tokens/{token_id}", "Revoke a token", revoke_token, response=Empty),
]
