"""CAP 1.2 over HTTP: each message of an alert for the incident's members, and the public's
side, unauthenticated: the Atom feed of the Actual alerts in force (what notice boards, apps
and aggregators poll) and each Actual message's document (hub/alerts/published.py says what
is public). Public answers are cacheable for a few seconds and carry an ETag."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from starlette.requests import Request
from starlette.responses import Response

from hub.alerts import cap, published
from hub.alerts.cap import MEDIA_TYPE
from hub.auth import Principal
from hub.settings import Settings
from web.api.endpoint import Endpoint
from web.http import hub_of

ATOM = "application/atom+xml"
FEED_PATH = "/cap/alerts.atom"
# The feed changes when an alert is sent, updated, cancelled or expires: pollers may reuse it
# this long. A message's document never changes (its identifier is never reused).
FEED_MAX_AGE = 10
DOCUMENT_MAX_AGE = 300
# The feed's `updated` before any Actual message was ever sent.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def public_base(request: Request, settings: Settings) -> str:
    """The hub's address as the public reaches it: PUBLIC_URL, else this request's."""
    return settings.public_url or f"{request.url.scheme}://{request.url.netloc}"


def _cacheable(request: Request, body: bytes, media_type: str, name: str, max_age: int) -> Response:
    """`body` with its ETag and Cache-Control, or 304 when the client holds it already."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Content-Disposition": f'inline; filename="{name}"',
    }
    asked = request.headers.get("if-none-match", "")
    held = [tag.strip().removeprefix("W/") for tag in asked.split(",")]
    if etag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


async def member_cap(request: Request, principal: Principal) -> Response:
    hub = hub_of(request)
    identifier = request.query_params.get("identifier") or None
    async with hub.db.read() as session:
        message = await published.member_message(
            session, principal, request.path_params["alert_id"], identifier
        )
    xml = published.document(
        hub.settings, message, public_base(request, hub.settings), explain=True
    )
    return Response(
        xml,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'inline; filename="{message.identifier}.xml"',
            # the incident's own messages, Exercise and Test included: never in shared caches
            "Cache-Control": "private, no-store",
        },
    )


async def public_cap(request: Request) -> Response:
    hub = hub_of(request)
    async with hub.db.read() as session:
        message = await published.public_message(session, request.path_params["identifier"])
    xml = published.document(hub.settings, message, public_base(request, hub.settings))
    return _cacheable(request, xml, MEDIA_TYPE, f"{message.identifier}.xml", DOCUMENT_MAX_AGE)


class EntryLinks(BaseEntryExtension):  # type: ignore[misc]  # feedgen has no type hints
    """Puts back the `rel` and `type` of an entry's links, which feedgen 1.0.0 drops (its
    atom_entry tests the new element instead of the link it was given); the feed's own links
    are written right."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: Any) -> Any:
        for element, link in zip(entry.findall("link"), self.links, strict=True):
            element.attrib.update(link)
        return entry


def _summary(text: dict[str, str]) -> str:
    return " ".join(part for part in (text.get("description"), text.get("instruction")) if part)


async def cap_feed(request: Request) -> Response:
    hub = hub_of(request)
    base = public_base(request, hub.settings)
    async with hub.db.read() as session:
        shown = await published.in_force(session)
        updated = await published.feed_updated(session)
    feed = FeedGenerator()
    feed.id(base + FEED_PATH)
    feed.title(f"{hub.settings.cap_sender_name}: alerts in force")
    feed.subtitle("CAP 1.2 population alerts (Actual) in force; each entry links its CAP document")
    feed.author({"name": hub.settings.cap_sender_name})
    feed.link(href=base + FEED_PATH, rel="self", type=ATOM)
    feed.updated(updated or NEVER)
    for item in shown:
        message = item.message
        if not published.servable(message, hub.settings, base):
            continue
        info: dict[str, dict[str, str]] = message.content.get("info") or {}
        first = info[cap.languages(message.content)[0]]
        entry = feed.add_entry(order="append")
        entry.register_extension("cap_links", EntryLinks, atom=True, rss=False)
        entry.id(published.document_url(base, message.identifier))
        entry.title(first.get("headline") or str(message.content.get("event", "")))
        entry.summary(_summary(first))
        entry.updated(message.sent)
        entry.published(item.alert.sent_at or message.sent)
        entry.category(term=str(message.content.get("category", "")))
        links = [
            {
                "href": published.document_url(base, message.identifier),
                "rel": "alternate",
                "type": MEDIA_TYPE,
            },
            {
                "href": published.page_url(base, item.alert.id),
                "rel": "related",
                "type": "text/html",
            },
        ]
        entry.link(links)
        entry.cap_links.links = links
    body: bytes = feed.atom_str(pretty=False)
    return _cacheable(request, body, ATOM, "alerts.atom", FEED_MAX_AGE)


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        "/api/alerts/{alert_id}/cap",
        "The CAP 1.2 document of the alert's latest message, or of the one named (members)",
        member_cap,
        query={
            "identifier": (
                "a message of this alert (default: its latest)",
                {"type": "string", "maxLength": 100},
            )
        },
        media=MEDIA_TYPE,
    ),
    Endpoint(
        "GET",
        FEED_PATH,
        "Public Atom feed of the Actual alerts in force, each entry linking its CAP document",
        cap_feed,
        public=True,
        media=ATOM,
    ),
    Endpoint(
        "GET",
        "/cap/{identifier}.xml",
        "Public CAP 1.2 document of an Actual message (Exercise and Test: not_found)",
        public_cap,
        public=True,
        media=MEDIA_TYPE,
    ),
]
