"""The HTML pages (Jinja2) and the built front end under /static.

Pages carry only what the scripts need to start (`config`, see web/frontend/README.md); all
data then comes from the JSON API and the socket like for any other client. Every page and
static file goes out with a Content-Security-Policy that allows the hub's own origin only
(plus the configured tile server for images), so nothing is ever loaded from elsewhere.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.actions import incidents
from hub.auth import Principal
from hub.errors import HubError
from hub.settings import Settings
from hub.timeline.zone import INCIDENT_ZONE
from web.alert_page import alert_page
from web.basemap import BASEMAP_PATH, basemap_app, basemap_url
from web.http import caller, hub_of, nul_in_url
from web.public_pages import public_page_routes

WEB = Path(__file__).resolve().parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
DIST = STATIC / "dist"
LANGS = ("fr", "nl", "en")

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=str(TEMPLATES))


# security headers ------------------------------------------------------------------------------


def tile_source(tile_url: str | None) -> str | None:
    """The CSP source for a Leaflet tile URL template: `https://{s}.tile.example/{z}/…` gives
    `https://*.tile.example`; a template whose host cannot be expressed gives its scheme."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.replace("{s}", "*")
    if "{" in host or "}" in host or "@" in host:
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def content_security_policy(settings: Settings) -> str:
    # data: images are part of the page itself (the drawing toolbar's CSS inlines its icons):
    # nothing is fetched from anywhere for them.
    images = ["'self'", "data:"]
    tiles = tile_source(settings.tile_url)
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        # 'self' covers the same-origin ws:/wss: socket in CSP level 3 browsers.
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }


class SecureHeaders:
    """ASGI wrapper adding the security headers to every response of the wrapped app."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.raw]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# helpers ---------------------------------------------------------------------------------------


def page_lang(request: Request) -> str:
    """The first of FR/NL/EN the browser asks for; the page's own switch and saved choice win."""
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "fr"


def frontend_built() -> bool:
    return all((DIST / name).is_file() for name in ("app.js", "list.js", "login.js", "app.css"))


def render(
    request: Request, template: str, config: dict[str, Any] | None, status: int = 200
) -> Response:
    response = templates.TemplateResponse(
        request, template, {"config": config or {}}, status_code=status
    )
    # Pages carry the user's name and role: never cache them in shared caches.
    response.headers["Cache-Control"] = "no-store"
    return response


ERRORS: dict[int, tuple[str, dict[str, str]]] = {
    403: (
        "forbidden",
        {
            "fr": "Vous n'êtes pas membre de cet incident.",
            "nl": "U bent geen lid van dit incident.",
            "en": "You are not a member of this incident.",
        },
    ),
    404: (
        "not_found",
        {
            "fr": "Cette page n'existe pas.",
            "nl": "Deze pagina bestaat niet.",
            "en": "This page does not exist.",
        },
    ),
    503: (
        "unavailable",
        {
            "fr": "Service momentanément indisponible. Réessayez dans un instant.",
            "nl": "Dienst tijdelijk niet beschikbaar. Probeer het zo dadelijk opnieuw.",
            "en": "Service temporarily unavailable. Try again in a moment.",
        },
    ),
}

NOT_BUILT = {
    "fr": "L'interface web n'est pas construite.",
    "nl": "De webinterface is niet gebouwd.",
    "en": "The web front end is not built.",
}


def error_page(
    request: Request, status: int, messages: dict[str, str] | None = None, hint: str = ""
) -> Response:
    code, default = ERRORS[status]
    response = templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "code": code,
            "messages": [(lang, (messages or default)[lang]) for lang in LANGS],
            "lang": page_lang(request),
            "hint": hint,
            "styled": frontend_built(),
        },
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


def not_built(request: Request) -> Response:
    return error_page(
        request,
        503,
        NOT_BUILT,
        hint="cd web/frontend && npm ci && npm run build   (or: scripts/setup)",
    )


def to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


async def page_user(request: Request) -> Principal | Response:
    """The session's user, or the page to show instead: the front end is not built, or the
    login page (pages redirect rather than answer 401)."""
    if not frontend_built():
        return not_built(request)
    try:
        return await caller(request)
    except HubError as error:
        if error.code == "unauthorized":
            return to_login(request)
        raise


# pages -----------------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    return RedirectResponse("/incidents", status_code=303)


async def login_page(request: Request) -> Response:
    if not frontend_built():
        return not_built(request)
    return render(request, "login.html", {"lang": page_lang(request)})


async def incidents_page(request: Request) -> Response:
    principal = await page_user(request)
    if isinstance(principal, Response):
        return principal
    return render(
        request,
        "incidents.html",
        # Any user may open an incident (and becomes its manager).
        {"user": principal.public(), "lang": page_lang(request), "can_create": True},
    )


async def directory_page(request: Request) -> Response:
    principal = await page_user(request)
    if isinstance(principal, Response):
        return principal
    return render(
        request, "directory.html", {"user": principal.public(), "lang": page_lang(request)}
    )


async def plans_page(request: Request) -> Response:
    principal = await page_user(request)
    if isinstance(principal, Response):
        return principal
    return render(
        request,
        "plans.html",
        {
            "user": principal.public(),
            "lang": page_lang(request),
            "tile_url": hub_of(request).settings.tile_url or None,
            "basemap_pmtiles": basemap_url(hub_of(request).settings),
        },
    )


async def layers_page(request: Request) -> Response:
    principal = await page_user(request)
    if isinstance(principal, Response):
        return principal
    return render(request, "layers.html", {"user": principal.public(), "lang": page_lang(request)})


async def incident_page(request: Request) -> Response:
    principal = await page_user(request)
    if isinstance(principal, Response):
        return principal
    hub = hub_of(request)
    incident_id = request.path_params["incident_id"]
    try:
        incident = await incidents.get_incident(hub, principal, incident_id)
    except HubError as error:
        if error.code in ("forbidden", "not_found"):
            # Same answer for both: a non-member learns nothing of which incidents exist.
            return error_page(request, 403)
        raise
    return render(
        request,
        "incident.html",
        {
            "incident_id": incident["id"],
            "user": {**principal.public(), "role": incident["role"]},
            "tile_url": hub.settings.tile_url or None,
            "basemap_pmtiles": basemap_url(hub.settings),
            "lang": page_lang(request),
            # The Convoys tab flags a tracker silent when the hub would (hub/convoys/rules.py).
            "silent_after_s": hub.settings.silent_after_s,
            # A weather anchor's "take the current observation" is offered with a feed only.
            "weather_feed": hub.settings.weather_url is not None,
            # The zone its times are shown in (hub/timeline/zone.py: incidents have none of
            # their own yet), as the logbook and the exports write them.
            "time_zone": str(INCIDENT_ZONE),
        },
    )


def guarded(endpoint: Any) -> Any:
    """A page endpoint whose database trouble shows the 503 page, not a stack trace."""

    async def run(request: Request) -> Response:
        if nul_in_url(request):
            return error_page(request, 404)  # no such page: nothing can be named with a NUL
        try:
            response: Response = await endpoint(request)
        except HubError as error:
            if error.code != "unavailable":
                raise
            return error_page(request, 503)
        except (OperationalError, DBAPIError, OSError):
            log.exception("database unavailable while rendering %s", request.url.path)
            return error_page(request, 503)
        return response

    return run


def page_routes(settings: Settings) -> list[BaseRoute]:
    headers = security_headers(settings)

    def secure(endpoint: Any) -> ASGIApp:
        handler = guarded(endpoint)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(Request(scope, receive))
            await response(scope, receive, send)

        return SecureHeaders(app, headers)

    STATIC.mkdir(exist_ok=True)  # StaticFiles checks the directory exists at start-up
    return [
        Route("/", secure(home), methods=["GET", "HEAD"]),
        Route("/login", secure(login_page), methods=["GET", "HEAD"]),
        Route("/incidents", secure(incidents_page), methods=["GET", "HEAD"]),
        Route("/directory", secure(directory_page), methods=["GET", "HEAD"]),
        Route("/plans", secure(plans_page), methods=["GET", "HEAD"]),
        Route("/layers", secure(layers_page), methods=["GET", "HEAD"]),
        Route("/incidents/{incident_id}", secure(incident_page), methods=["GET", "HEAD"]),
        Route("/alerts/{alert_id}", secure(alert_page), methods=["GET", "HEAD"]),  # public
        *public_page_routes(secure),  # BE-Alert's self-registration, no login
        # BASEMAP_PMTILES, read by Range requests (web/basemap.py); logged-in users only.
        Route(BASEMAP_PATH, SecureHeaders(basemap_app(), headers), methods=["GET", "HEAD"]),
        Mount("/static", app=SecureHeaders(StaticFiles(directory=STATIC), headers), name="static"),
    ]
