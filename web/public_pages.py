"""The public's BE-Alert pages (no login), server-rendered and working without scripts: the
registration form (/register), the code (/register/{id}/confirm), the end (/register/done)
and the unsubscribe page of every message's link (/public/registrations/{id}/unsubscribe).
Forms post to the pages themselves, which call the same actions as the JSON routes
(hub/actions/self_registration.py); a GET never changes anything, since mail clients and link
scanners fetch links on their own. The only script (register.js) adds a map to pick places.

The language is `?lang=`, else the browser's Accept-Language, else French; the words are in
web/public_text.py."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hub.actions import self_registration
from hub.errors import HubError, from_validation
from models.registration import MAX_PLACES
from models.shapes import SelfRegistrationIn
from web.api.public_registrations import check_origin, client_address, request_base
from web.http import hub_of, read_body
from web.public_text import LANGUAGE_NAMES, PUBLIC_LANGS, texts

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 16_384
CHANNELS = ("sms", "voice", "email")


def public_lang(request: Request) -> str:
    chosen = request.query_params.get("lang", "").lower()
    if chosen in PUBLIC_LANGS:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in PUBLIC_LANGS:
            return code
    return "fr"


def _switcher(request: Request, lang: str) -> list[dict[str, Any]]:
    """The language links: this page with its query, `lang` changed."""
    links = []
    for code in PUBLIC_LANGS:
        query = {**dict(request.query_params), "lang": code}
        links.append(
            {
                "code": code,
                "name": LANGUAGE_NAMES[code],
                "href": f"{request.url.path}?{urlencode(query)}",
                "current": code == lang,
            }
        )
    return links


def _page(
    request: Request, template: str, lang: str, status: int = 200, **context: Any
) -> Response:
    from web.pages import templates

    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "t": texts(lang),
            "languages": _switcher(request, lang),
            **context,
        },
        status_code=status,
    )
    # Personal data (a code page, a token in the URL): never in a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _error_key(error: HubError) -> str:
    """The page's words for a refusal of the action (its messages are the API's)."""
    message = error.message
    if error.code == "invalid":
        if message.startswith("wrong code:"):
            return "err_wrong_code"
        if "wrong code" in message or "too many wrong" in message:
            return "err_no_tries"
        if "expired" in message:
            return "err_expired"
        field = message.split(":", 1)[0].split(".", 1)[0]
        return {
            "language": "err_language",
            "sms": "err_phone",
            "voice": "err_phone",
            "email": "err_email",
            "places": "err_places",
            "payload": "err_channel",
        }.get(field, "err_invalid")
    return f"err_{error.code}"


async def _form(request: Request) -> dict[str, str]:
    body = await read_body(request, MAX_FORM_BYTES)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=64)
    except (UnicodeDecodeError, ValueError):
        raise HubError("invalid", "the form is not readable") from None
    return {key: value.strip() for key, value in pairs}


def _places(form: dict[str, str]) -> list[dict[str, Any]]:
    """The form's place rows: empty rows skipped, numbers as numbers (a comma as a decimal
    point, as French, Dutch and German write them); text left for the shape to refuse."""
    places: list[dict[str, Any]] = []
    for index in range(MAX_PLACES):
        label, lat, lon = (
            form.get(f"place-{index}-{part}", "") for part in ("label", "lat", "lon")
        )
        if not (label or lat or lon):
            continue
        place: dict[str, Any] = {"label": label}
        for name, raw in (("lat", lat), ("lon", lon)):
            try:
                place[name] = float(raw.replace(",", "."))
            except ValueError:
                place[name] = raw  # not a number: the shape says `invalid`
        places.append(place)
    return places


def _registration(form: dict[str, str]) -> SelfRegistrationIn:
    data: dict[str, Any] = {"language": form.get("language", ""), "places": _places(form)}
    for channel in CHANNELS:
        value = form.get(channel, "").replace(" ", "")
        if value:
            data[channel] = value
    try:
        return SelfRegistrationIn.model_validate(data)
    except ValidationError as error:
        raise from_validation(error) from None


def _register_context(request: Request, lang: str, form: dict[str, str]) -> dict[str, Any]:
    hub = hub_of(request)
    rows = [
        {
            "index": index,
            "label": form.get(f"place-{index}-label", ""),
            "lat": form.get(f"place-{index}-lat", ""),
            "lon": form.get(f"place-{index}-lon", ""),
        }
        for index in range(MAX_PLACES)
    ]
    return {
        "form": form,
        "rows": rows,
        "language_names": LANGUAGE_NAMES,
        "chosen_language": form.get("language") or lang,
        "config": {
            "tile_url": hub.settings.tile_url or None,
            "basemap_url": "/static/dist/basemap.geojson",
            "map_hint": texts(lang)["map_hint"],
            "home": texts(lang)["home"],
        },
    }


async def register_page(request: Request) -> Response:
    lang = public_lang(request)
    if request.method != "POST":
        return _page(request, "register.html", lang, **_register_context(request, lang, {}))
    form: dict[str, str] = {}
    try:
        check_origin(request)
        form = await _form(request)
        payload = _registration(form)
        created = await self_registration.register(
            hub_of(request),
            payload,
            client=client_address(request),
            request_base=request_base(request),
        )
    except HubError as error:
        return _page(
            request,
            "register.html",
            lang,
            status=error.status,
            error=_error_key(error),
            **_register_context(request, lang, form),
        )
    query = urlencode({"lang": lang, "channel": created.channel.value})
    target = f"/register/{quote(created.id)}/confirm?{query}"
    return RedirectResponse(target, status_code=303)


async def confirm_page(request: Request) -> Response:
    lang = public_lang(request)
    registration_id = request.path_params["registration_id"]
    channel = request.query_params.get("channel", "")
    context: dict[str, Any] = {
        "registration_id": registration_id,
        "channel": channel if channel in CHANNELS else "",
        "action": f"/register/{quote(registration_id)}/confirm?{urlencode({'lang': lang})}",
    }
    if request.method != "POST":
        return _page(request, "register_confirm.html", lang, **context)
    try:
        check_origin(request)
        form = await _form(request)
        await self_registration.confirm(
            hub_of(request),
            registration_id,
            form.get("code", "")[:12],
            client=client_address(request),
        )
    except HubError as error:
        key = _error_key(error)
        final = key in ("err_no_tries", "err_expired", "err_not_found")
        return _page(
            request,
            "register_confirm.html",
            lang,
            status=error.status,
            error=key,
            final=final,
            **context,
        )
    return RedirectResponse(f"/register/done?{urlencode({'lang': lang})}", status_code=303)


async def done_page(request: Request) -> Response:
    return _page(request, "register_done.html", public_lang(request))


async def unsubscribe_page(request: Request) -> Response:
    """GET shows the button (link scanners fetch GETs: a GET must not delete); the form's
    POST deletes."""
    lang = public_lang(request)
    registration_id = request.path_params["registration_id"]
    token = request.query_params.get("token", "")
    context: dict[str, Any] = {
        "action": f"/public/registrations/{quote(registration_id)}/unsubscribe"
        f"?{urlencode({'lang': lang})}",
        "token": token,
    }
    if request.method != "POST":
        return _page(request, "unsubscribe.html", lang, **context)
    try:
        check_origin(request)
        form = await _form(request)
        await self_registration.unsubscribe(
            hub_of(request),
            registration_id,
            form.get("token", "") or token,
            client=client_address(request),
        )
    except HubError as error:
        return _page(
            request,
            "unsubscribe.html",
            lang,
            status=error.status,
            error=_error_key(error),
            **context,
        )
    return _page(request, "unsubscribe.html", lang, done=True, **context)


def public_page_routes(secure: Any) -> list[BaseRoute]:
    """The routes, each wrapped by `secure` (web/pages.py: the security headers and the
    database-trouble page)."""
    both = ["GET", "HEAD", "POST"]
    return [
        Route("/register", secure(register_page), methods=both),
        Route("/register/done", secure(done_page), methods=["GET", "HEAD"]),
        Route("/register/{registration_id}/confirm", secure(confirm_page), methods=both),
        Route(
            "/public/registrations/{registration_id}/unsubscribe",
            secure(unsubscribe_page),
            methods=both,
        ),
    ]
