"""Self-registration for BE-Alert, the public's JSON routes (no login): register, confirm with
the code, unsubscribe with the token of the link. The pages (web/public_pages.py) do the same
through forms, for browsers without scripts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hub.actions import self_registration
from hub.errors import HubError
from models.responses import ConfirmedOut, Empty, SelfRegistrationOut
from models.shapes import ConfirmIn, SelfRegistrationIn
from web.api.endpoint import Endpoint
from web.http import hub_of, read_json

REGISTRATION = "/public/registrations/{registration_id}"


def client_address(request: Request) -> str:
    """The caller's address as uvicorn saw it: X-Forwarded-For only from TRUSTED_PROXIES
    (hub/serving.py), as for the login throttle."""
    return request.client.host if request.client else ""


def check_origin(request: Request) -> None:
    """A browser's cross-site write is refused: its Origin must be the hub's own or an
    allowed one (ALLOWED_ORIGINS), as for the session cookie's writes. Clients that send no
    Origin (scripts, apps) are no browser acting for someone else."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    settings = hub_of(request).settings
    allowed = settings.allowed_origins or [f"{request.url.scheme}://{request.url.netloc}"]
    if settings.public_url:
        allowed = [*allowed, settings.public_url]
    if origin.rstrip("/") not in allowed:
        raise HubError("forbidden", "this origin may not register on this hub")


def request_base(request: Request) -> str:
    return str(request.base_url)


async def register(request: Request) -> Any:
    check_origin(request)
    payload = await read_json(request, SelfRegistrationIn)
    created = await self_registration.register(
        hub_of(request),
        payload,
        client=client_address(request),
        request_base=request_base(request),
    )
    return {"id": created.id, "confirmed": False, "channel": created.channel.value}


async def confirm(request: Request) -> Any:
    check_origin(request)
    registration_id = request.path_params["registration_id"]
    payload = await read_json(request, ConfirmIn)
    await self_registration.confirm(
        hub_of(request), registration_id, payload.code, client=client_address(request)
    )
    return {"id": registration_id, "confirmed": True}


async def unsubscribe(request: Request) -> Any:
    check_origin(request)
    token = request.query_params.get("token", "")
    await self_registration.unsubscribe(
        hub_of(request),
        request.path_params["registration_id"],
        token,
        client=client_address(request),
    )
    return {}


TOKEN = {"type": "string", "description": "the unsubscribe token of the message's link"}

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST",
        "/public/registrations",
        "Register for BE-Alert (no login): an unconfirmed registration, whose code is sent on "
        "its first channel (sms, else voice, else email)",
        register,
        SelfRegistrationIn,
        SelfRegistrationOut,
        public=True,
        status=201,
    ),
    Endpoint(
        "POST",
        f"{REGISTRATION}/confirm",
        "Confirm a registration with the code it was sent",
        confirm,
        ConfirmIn,
        ConfirmedOut,
        public=True,
    ),
    Endpoint(
        "DELETE",
        REGISTRATION,
        "Unsubscribe: delete the registration, its places and its messages",
        unsubscribe,
        response=Empty,
        query={"token": ("the token of the unsubscribe link", TOKEN)},
        public=True,
    ),
]
