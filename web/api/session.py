"""Browser sessions: log in (the session cookie), log out, who is calling."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.actions import directory
from hub.auth import SESSION_COOKIE, SESSION_LIFETIME, Principal, principal_for_token
from models.responses import (
    CallerOut,
    Empty,
)
from models.shapes import (
    LoginIn,
)
from web.api.endpoint import Endpoint
from web.http import JSON, hub_of, read_json

log = logging.getLogger(__name__)


async def login(request: Request) -> Response:
    hub = hub_of(request)
    payload = await read_json(request, LoginIn)
    client = request.client.host if request.client else ""
    raw = await directory.login(hub, payload.username, payload.password, client=client)
    async with hub.db.read() as session:
        principal = await principal_for_token(session, raw)
    assert principal is not None and hub.cookies is not None
    response = JSON({"user": principal.public()})
    response.set_cookie(
        SESSION_COOKIE,
        hub.cookies.dump(raw),
        httponly=True,
        samesite="lax",
        # https as the browser sees it: uvicorn takes the scheme from X-Forwarded-Proto when
        # the proxy is trusted (TRUSTED_PROXIES); a production hub listening on a public
        # address is assumed to be reached over TLS too.
        secure=request.url.scheme == "https"
        or (hub.settings.environment == "production" and not hub.settings.host.startswith("127.")),
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )
    return response


async def logout(request: Request, principal: Principal) -> Response:
    await directory.revoke_token(hub_of(request), principal, principal.token_id)
    response = JSON({})
    response.delete_cookie(SESSION_COOKIE)
    return response


async def me(request: Request, principal: Principal) -> Any:
    return {"user": principal.public()}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST",
        "/api/session",
        "Log in: sets the session cookie",
        login,
        LoginIn,
        CallerOut,
        public=True,
    ),
    Endpoint("DELETE", "/api/session", "Log out: revokes the session", logout, response=Empty),
    Endpoint("GET", "/api/me", "The calling user", me, response=CallerOut),
]
