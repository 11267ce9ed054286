"""The public page of a population alert, `/alerts/{alert_id}`: no login, in the reader's
language (FR/NL/DE/EN), with the instruction first, the description, the expiry, whether the
alert is still in force, and a map of the area on the offline base layer.

The page is whole without its script (the text is all in the HTML); `public-alert.js` adds
the map from the area in `config`. Only alerts that sent an Actual message have a page:
drafts, Exercise and Test alerts answer 404 (hub/alerts/published.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from hub.alerts import published
from hub.alerts.cap import area_labels, cap_time, languages
from hub.errors import HubError
from models.alert import AlertState, MsgType
from models.base import utcnow
from web.http import hub_of

WEB = Path(__file__).resolve().parent
DIST = WEB / "static" / "dist"
PAGE_LANGS = ("fr", "nl", "de", "en")
# Times as Belgians read them.
BRUSSELS = ZoneInfo("Europe/Brussels")
MAX_AGE = 10

templates = Jinja2Templates(directory=str(WEB / "templates"))

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Alerte à la population",
        "instruction": "Que faire",
        "description": "Situation",
        "area": "Zone concernée",
        "expires": "Valable jusqu'au",
        "sent": "Dernier message",
        "in_force": "En vigueur",
        "cancelled": "Levée : cette alerte n'est plus en vigueur.",
        "expired": "Expirée : cette alerte n'est plus en vigueur.",
        "cap": "Document CAP",
        "languages": "Langues",
        "map": "Carte de la zone concernée",
        "time_zone": "heure belge",
        "missing": "Cette alerte n'existe pas.",
    },
    "nl": {
        "title": "Alarmering van de bevolking",
        "instruction": "Wat moet u doen",
        "description": "Situatie",
        "area": "Betrokken gebied",
        "expires": "Geldig tot",
        "sent": "Laatste bericht",
        "in_force": "Van kracht",
        "cancelled": "Opgeheven: deze alarmering is niet meer van kracht.",
        "expired": "Verlopen: deze alarmering is niet meer van kracht.",
        "cap": "CAP-document",
        "languages": "Talen",
        "map": "Kaart van het betrokken gebied",
        "time_zone": "Belgische tijd",
        "missing": "Deze alarmering bestaat niet.",
    },
    "de": {
        "title": "Warnung der Bevölkerung",
        "instruction": "Was ist zu tun",
        "description": "Lage",
        "area": "Betroffenes Gebiet",
        "expires": "Gültig bis",
        "sent": "Letzte Meldung",
        "in_force": "In Kraft",
        "cancelled": "Aufgehoben: diese Warnung gilt nicht mehr.",
        "expired": "Abgelaufen: diese Warnung gilt nicht mehr.",
        "cap": "CAP-Dokument",
        "languages": "Sprachen",
        "map": "Karte des betroffenen Gebiets",
        "time_zone": "belgische Zeit",
        "missing": "Diese Warnung gibt es nicht.",
    },
    "en": {
        "title": "Public alert",
        "instruction": "What to do",
        "description": "Situation",
        "area": "Area",
        "expires": "Valid until",
        "sent": "Latest message",
        "in_force": "In force",
        "cancelled": "Cancelled: this alert is no longer in force.",
        "expired": "Expired: this alert is no longer in force.",
        "cap": "CAP document",
        "languages": "Languages",
        "map": "Map of the area",
        "time_zone": "Belgian time",
        "missing": "There is no such alert.",
    },
}


def wanted_languages(request: Request) -> list[str]:
    """The reader's languages, best first: `?lang=`, then Accept-Language by its q values."""
    wanted: list[str] = []
    chosen = request.query_params.get("lang", "").lower()
    if chosen in PAGE_LANGS:
        wanted.append(chosen)
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(request.headers.get("accept-language", "").split(",")):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = code.strip().lower()[:2]
        if language in PAGE_LANGS and quality > 0:
            ranked.append((-quality, index, language))
    wanted += [language for _, _, language in sorted(ranked)]
    return wanted


def page_language(request: Request, available: list[str]) -> str:
    """The first wanted language the alert has, else its first (hub/alerts/cap.py
    `languages`: fr, nl, de, en)."""
    for language in wanted_languages(request):
        if language in available:
            return language
    return available[0]


def local_time(value: datetime | str, language: str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(BRUSSELS)
    return f"{local:%d/%m/%Y %H:%M} ({TEXTS[language]['time_zone']})"


def missing(request: Request) -> Response:
    wanted = wanted_languages(request)
    response = templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": 404,
            "code": "not_found",
            "messages": [(language, TEXTS[language]["missing"]) for language in PAGE_LANGS],
            "lang": wanted[0] if wanted else "fr",
            "hint": "",
            "styled": (DIST / "app.css").is_file(),
        },
        status_code=404,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def alert_page(request: Request) -> Response:
    hub = hub_of(request)
    base = hub.settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    try:
        async with hub.db.read() as session:
            shown = await published.public_alert(session, request.path_params["alert_id"])
    except HubError as error:
        if error.code == "not_found":
            return missing(request)
        raise
    alert, message = shown.alert, shown.message
    content: dict[str, Any] = message.content
    info: dict[str, dict[str, str]] = content.get("info") or {}
    language = page_language(request, languages(content))
    texts = TEXTS[language]
    expires = datetime.fromisoformat(str(content["expires"]))
    if alert.state == AlertState.CANCELLED.value or message.msg_type == MsgType.CANCEL.value:
        state = "cancelled"
    elif expires <= utcnow():
        state = "expired"
    else:
        state = "in_force"
    area = content.get("area") or {}
    response = templates.TemplateResponse(
        request,
        "public_alert.html",
        {
            "lang": language,
            "t": texts,
            "text": info[language],
            "event": content.get("event", ""),
            "state": state,
            "expires": local_time(expires, language),
            "expires_iso": cap_time(expires),
            "sent": local_time(message.sent, language),
            "sent_iso": cap_time(message.sent),
            "area_labels": area_labels(message.content),
            "languages": languages(content),
            "cap_url": published.document_url(base, message.identifier),
            "styled": (DIST / "public-alert.css").is_file(),
            "map_built": (DIST / "public-alert.js").is_file(),
            "config": {
                "lang": language,
                "map_label": texts["map"],
                "tile_url": hub.settings.tile_url or None,
                "area": {
                    "geometry": area.get("geometry"),
                    "polygons": area.get("polygons"),
                    "circles": area.get("circles") or [],
                },
            },
        },
    )
    # The same for every reader of a language: shared caches may keep it a few seconds.
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["Vary"] = "Accept-Language"
    return response
