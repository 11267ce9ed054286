"""CAP 1.2 and the public's side of population alerts, on a real hub: every message an alert
sends (Alert, Update, Cancel) is valid against the official OASIS schema
(../shared/standards/CAP-v1.2.xsd) and passes `cap_problems`; the Atom feed lists the Actual
alerts in force and no other; each Actual message is public, Exercise and Test ones are not;
the public page speaks the reader's language. The session's database is shared by every test
module, so the feed is checked for this module's own alerts only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
import xmlschema
from lxml import etree
from sqlalchemy import update
from sqlmodel import col

from hub.alerts.cap import MEDIA_TYPE, NS, cap_problems
from models.alert import Alert
from tests import test_alerts
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_convoys import bearer

XSD = Path(__file__).resolve().parents[1] / ".." / "shared" / "standards" / "CAP-v1.2.xsd"
Q = "{" + NS + "}"
TEXTS = {
    **test_alerts.TEXTS,  # fr, nl
    "de": {
        "headline": "Chemiebrand in Ruisbroek",
        "description": "Eine Rauchwolke zieht nach Nordosten.",
        "instruction": "Bleiben Sie drinnen, schließen Sie Türen und Fenster.",
    },
    "en": {
        "headline": "Chemical fire in Ruisbroek",
        "description": "A smoke cloud is drifting north-east.",
        "instruction": "Stay indoors, close doors and windows.",
    },
}
CAP_LANGUAGES = ["fr-BE", "nl-BE", "de-BE", "en-GB"]


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def later(hours: float = 6) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


class Incident:
    """An incident with a manager, a viewer and an outsider, and two perimeter anchors: an
    exclusion zone (a polygon) and an isolation zone (a circle: a Point with radius_m)."""

    def __init__(self, server: HubProcess, seed: Seeder) -> None:
        self.server, self.seed = server, seed

    async def build(self, kind: str = "emergency") -> Incident:
        self.manager = await self.seed.user("cap-manager")
        self.viewer = await self.seed.user("cap-viewer")
        self.outsider = await self.seed.user("cap-outsider")
        self.id = await self.seed.incident(
            {self.manager: "manager", self.viewer: "viewer"}, kind=kind, title="CAP"
        )
        ring = [[4.3, 50.8], [4.35, 50.8], [4.35, 50.85], [4.3, 50.85], [4.3, 50.8]]
        self.square = await self.anchor(
            "exclusion_zone", "Zone rouge", {"type": "Polygon", "coordinates": [ring]}
        )
        self.circle = await self.anchor(
            "isolation_zone",
            "Cercle Nord",
            {"type": "Point", "coordinates": [4.4, 50.9]},
            {"radius_m": 800},
        )
        return self

    def http(self, user: TestUser | None = None) -> httpx.AsyncClient:
        headers = bearer(user) if user is not None else {}
        return httpx.AsyncClient(base_url=self.server.url, headers=headers, timeout=20)

    async def anchor(
        self, kind: str, label: str, geometry: dict[str, Any], properties: Any = None
    ) -> str:
        body: dict[str, Any] = {"client_id": str(uuid.uuid4()), "kind": kind, "label": label}
        body |= {"geometry": geometry, "properties": properties or {}}
        async with self.http(self.manager) as http:
            response = await http.post(f"/api/incidents/{self.id}/anchors", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["anchor"]["id"])

    async def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        async with self.http(self.manager) as http:
            response = await http.request(method, path, json=body)
        assert response.status_code in (200, 201), response.text
        alert: dict[str, Any] = response.json()["alert"]
        return alert

    async def draft(self, **extra: Any) -> dict[str, Any]:
        body = {
            "area": {"anchor_ids": [self.square, self.circle]},
            "info": TEXTS,
            "event": "Chemical fire",
            "category": "Fire",
            "urgency": "Immediate",
            "severity": "Severe",
            "certainty": "Observed",
            "expires": later(),
            "channels": ["sms", "email", "public"],
            **extra,
        }
        return await self.call("POST", f"/api/incidents/{self.id}/alerts", body)

    async def act(self, alert: dict[str, Any], verb: str, **extra: Any) -> dict[str, Any]:
        body = {"version": alert["version"], **extra}
        return await self.call("POST", f"/api/alerts/{alert['id']}/{verb}", body)

    async def cap(self, alert_id: str, identifier: str | None = None) -> bytes:
        params = {"identifier": identifier} if identifier else {}
        async with self.http(self.viewer) as http:
            response = await http.get(f"/api/alerts/{alert_id}/cap", params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == MEDIA_TYPE
        return response.content


@pytest.fixture
async def incident(hub_server: HubProcess, seed: Seeder) -> Incident:
    return await Incident(hub_server, seed).build()


def checked(schema: xmlschema.XMLSchema, document: bytes) -> Any:
    """The parsed document, once it is valid and has no problem."""
    schema.validate(document.decode())
    assert cap_problems(document) == []
    return etree.fromstring(document)


def feed(server: HubProcess) -> Any:
    response = httpx.get(f"{server.url}/cap/alerts.atom")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def listed(server: HubProcess) -> dict[str, Any]:
    """The feed's entries by the identifier of the CAP document they link."""
    entries = {}
    for entry in feed(server).entries:
        [cap] = [link for link in entry.links if link.get("type") == MEDIA_TYPE]
        entries[cap["href"].rsplit("/", 1)[-1].removesuffix(".xml")] = entry
    return entries


def public(server: HubProcess, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers)


async def test_an_alert_its_update_and_its_cancel_are_valid_cap_and_public(
    incident: Incident, schema: xmlschema.XMLSchema
) -> None:
    server = incident.server
    draft = await incident.draft()
    async with incident.http(incident.viewer) as http:
        response = await http.get(f"/api/alerts/{draft['id']}/cap")
    assert response.status_code == 404
    assert "draft" in response.json()["error"]["message"]

    sent = await incident.act(draft, "send")
    first = checked(schema, await incident.cap(sent["id"]))
    assert first.findtext(Q + "status") == "Actual"
    assert first.findtext(Q + "msgType") == "Alert"
    assert first.find(Q + "references") is None
    infos = first.findall(Q + "info")
    assert [info.findtext(Q + "language") for info in infos] == CAP_LANGUAGES
    for info, language in zip(infos, TEXTS, strict=True):
        assert info.findtext(Q + "headline") == TEXTS[language]["headline"]
        assert info.findtext(Q + "web") == f"{server.url}/alerts/{sent['id']}?lang={language}"
        area = info.find(Q + "area")
        assert area.findtext(Q + "areaDesc") == "Zone rouge, Cercle Nord"
        [polygon] = [p.text for p in area.findall(Q + "polygon")]
        assert polygon.split()[0] == polygon.split()[-1] == "50.8,4.3"
        assert [c.text for c in area.findall(Q + "circle")] == ["50.9,4.4 0.8"]
    alert_id = first.findtext(Q + "identifier")

    entries = listed(server)
    assert alert_id in entries
    entry = entries[alert_id]
    assert entry.title == TEXTS["fr"]["headline"]
    assert TEXTS["fr"]["instruction"] in entry.summary
    assert f"/alerts/{sent['id']}" in [
        link["href"].removeprefix(server.url) for link in entry.links
    ]

    document = public(server, f"/cap/{alert_id}.xml")
    assert document.status_code == 200
    assert document.headers["content-type"] == MEDIA_TYPE
    assert document.content == await incident.cap(sent["id"], alert_id)
    again = public(server, f"/cap/{alert_id}.xml", **{"If-None-Match": document.headers["etag"]})
    assert again.status_code == 304

    updated = await incident.act(
        sent,
        "update",
        info={**TEXTS, "en": {**TEXTS["en"], "instruction": "Stay indoors until 18:00."}},
    )
    second = checked(schema, await incident.cap(updated["id"]))
    update_id = second.findtext(Q + "identifier")
    assert second.findtext(Q + "msgType") == "Update"
    sender = first.findtext(Q + "sender")
    first_ref = f"{sender},{alert_id},{first.findtext(Q + 'sent')}"
    assert second.findtext(Q + "references") == first_ref
    assert second.findall(Q + "info")[3].findtext(Q + "instruction") == "Stay indoors until 18:00."
    entries = listed(server)
    assert update_id in entries and alert_id not in entries  # the latest message only

    cancelled = await incident.act(updated, "cancel")
    third = checked(schema, await incident.cap(cancelled["id"]))
    cancel_id = third.findtext(Q + "identifier")
    assert third.findtext(Q + "msgType") == "Cancel"
    second_ref = f"{sender},{update_id},{second.findtext(Q + 'sent')}"
    assert third.findtext(Q + "references").split() == [first_ref, second_ref]
    assert len({alert_id, update_id, cancel_id}) == 3
    assert [m["identifier"] for m in cancelled["messages"]] == [alert_id, update_id, cancel_id]

    # every message stays as it was sent, by its identifier
    assert (
        etree.fromstring(await incident.cap(sent["id"], alert_id)).findtext(Q + "msgType")
        == "Alert"
    )
    entries = listed(server)
    assert not {alert_id, update_id, cancel_id} & set(entries)  # cancelled: out of the feed
    assert public(server, f"/cap/{cancel_id}.xml").status_code == 200  # those who hold it learn
    page = public(server, f"/alerts/{sent['id']}?lang=en")
    assert page.status_code == 200
    assert 'data-state="cancelled"' in page.text


async def test_the_public_page_in_each_language(incident: Incident) -> None:
    server = incident.server
    sent = await incident.act(await incident.draft(), "send")
    path = f"/alerts/{sent['id']}"
    for language, text in TEXTS.items():
        by_query = public(server, f"{path}?lang={language}")
        by_header = public(server, path, **{"Accept-Language": f"{language}-BE,{language};q=0.9"})
        for page in (by_query, by_header):
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert f'<html lang="{language}">' in page.text
            html = etree.fromstring(page.content, etree.HTMLParser())
            [instruction] = html.xpath("//section[@class='alert-instruction']/p/text()")
            assert instruction == text["instruction"]
            assert text["headline"] in html.xpath("//h1/text()")
            assert 'data-state="in_force"' in page.text
    # a language the alert lacks: its first language; the reader's second choice first
    only_nl = await incident.act(
        await incident.draft(info={"nl": TEXTS["nl"], "en": TEXTS["en"]}), "send"
    )
    page = public(server, f"/alerts/{only_nl['id']}", **{"Accept-Language": "de, en;q=0.5"})
    assert '<html lang="en">' in page.text
    page = public(server, f"/alerts/{only_nl['id']}?lang=fr")
    assert '<html lang="nl">' in page.text
    assert public(server, "/alerts/no-such-alert").status_code == 404
    assert public(server, f"/alerts/{(await incident.draft())['id']}").status_code == 404


async def test_exercise_and_test_messages_are_never_public(
    hub_server: HubProcess, seed: Seeder, schema: xmlschema.XMLSchema
) -> None:
    exercise = await Incident(hub_server, seed).build(kind="exercise")
    emergency = await Incident(hub_server, seed).build()
    drills = [
        (await exercise.act(await exercise.draft(), "send"), exercise, "Exercise", "EXERCICE"),
        (
            await emergency.act(await emergency.draft(cap_status="Test"), "send"),
            emergency,
            "Test",
            "TEST",
        ),
    ]
    entries = listed(hub_server)
    for alert, owner, status, word in drills:
        root = checked(schema, await owner.cap(alert["id"]))  # members still get it
        assert root.findtext(Q + "status") == status
        french = root.find(Q + "info")
        assert french.findtext(Q + "headline").startswith(word)
        assert french.find(Q + "web") is None  # no public page to link
        identifier = root.findtext(Q + "identifier")
        assert identifier not in entries
        refused = public(hub_server, f"/cap/{identifier}.xml")
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "not_found"
        assert public(hub_server, f"/alerts/{alert['id']}").status_code == 404


async def test_an_expired_alert_leaves_the_feed(incident: Incident, seed: Seeder) -> None:
    sent = await incident.act(await incident.draft(), "send")
    [identifier] = [m["identifier"] for m in sent["messages"]]
    assert identifier in listed(incident.server)
    # An hour later, as the database sees it: the alert expired a minute ago.
    past = datetime.now(UTC) - timedelta(minutes=1)
    async with seed.hub.db.write() as session:
        await session.execute(update(Alert).where(col(Alert.id) == sent["id"]).values(expires=past))
    assert identifier not in listed(incident.server)
    page = public(incident.server, f"/alerts/{sent['id']}")
    assert page.status_code == 200
    assert public(incident.server, f"/cap/{identifier}.xml").status_code == 200


async def test_only_members_read_the_incident_s_messages(incident: Incident) -> None:
    sent = await incident.act(await incident.draft(), "send")
    path = f"/api/alerts/{sent['id']}/cap"
    async with incident.http() as anonymous:
        assert (await anonymous.get(path)).status_code == 401
    async with incident.http(incident.outsider) as outsider:
        assert (await outsider.get(path)).status_code == 403
    async with incident.http(incident.viewer) as viewer:
        missing = await viewer.get(path, params={"identifier": "crisishub-unknown"})
        assert missing.status_code == 404
        assert (await viewer.get("/api/alerts/no-such-alert/cap")).status_code == 404
    assert public(incident.server, "/cap/crisishub-unknown.xml").status_code == 404
