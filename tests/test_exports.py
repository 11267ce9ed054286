"""Exports and evaluation points (issue 15) against a live hub: the logbook PDF read back with
pypdf in each language, the feed CSV with the csv module, the anchors with shapely and fastkml,
the archive's members with their own readers; evaluation points recorded, edited, refused."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastkml import Document, Placemark, kml
from lxml import etree
from pypdf import PdfReader
from shapely.geometry import Point, shape

from hub.client import HubClient
from hub.timeline.logbook import stamp
from hub.timeline.zone import INCIDENT_ZONE
from models import events
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_alerts import draft_body, square
from tests.test_convoys import ROUTE, T0, along, aosmand, bearer, make_convoy, make_vehicle

BANNER = "EXERCISE — EXERCICE — OEFENING"
# Short enough never to wrap in the logbook, so each is found whole in the extracted text.
ENTRIES = [
    ("info", "normal", f"Quai {n} : évacuation en cours, blessés légers vers Saint-Pierre")
    for n in range(1, 41)
] + [
    ("decision", "urgent", "Décision : fermeture de la gare du Midi, périmètre élargi à 300 m"),
    ("request", "flash", "Vraag: extra ziekenwagens naar de Zuidstation, Ëvakuatie noord"),
    ("info", "normal", '=HYPERLINK("http://example.invalid") colis suspect, quai 7'),
]
CORRECTIONS = {
    2: ("Quai 2 : évacuation terminée, aucun blessé", "mauvais quai"),
    41: ("Décision : fermeture de la gare du Midi, périmètre élargi à 500 m", "rayon corrigé"),
}
RECORRECTED = "Quai 2 : évacuation terminée, deux blessés légers"
ZONE_LABEL = "Zone d'exclusion — Midi"
CP_LABEL = "Poste de commandement opérationnel"
GONE_LABEL = "Point de presse provisoire"
HEADLINE = "Incendie chimique à Ruisbroek"  # tests/test_alerts.py's French text
POINTS = [
    ("to_improve", "Le périmètre a été tracé trop tard", "Cellule de planification", "2030-03-31"),
    ("went_well", "Coördinatie met de NMBS verliep vlot", None, None),
]
PAGE_WORDS = {"en": "Page {} of {}", "fr": "Page {} sur {}", "nl": "Pagina {} van {}"}
TITLES = {"en": "Logbook", "fr": "Main courante", "nl": "Logboek"}
# How the decision (urgent) is marked, in each language.
DECISIONS = {
    "en": "[DECISION · URGENT]",
    "fr": "[DÉCISION · URGENT]",
    "nl": "[BESLISSING · DRINGEND]",
}


@dataclass
class Case:
    server: HubProcess
    incident: str
    manager: TestUser
    contributor: TestUser
    viewer: TestUser
    outsider: TestUser
    entries: list[dict[str, Any]]
    corrections: dict[int, dict[str, Any]]
    anchors: dict[str, dict[str, Any]]
    points: list[dict[str, Any]]
    fixes: int

    async def get(self, user: TestUser, path: str, **params: str) -> httpx.Response:
        async with httpx.AsyncClient(
            base_url=self.server.url, headers=bearer(user), timeout=60
        ) as http:
            url = f"/api/incidents/{self.incident}" + (f"/{path}" if path else "")
            return await http.get(url, params=params)


async def call(
    server: HubProcess, user: TestUser, method: str, path: str, body: Any = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(user), timeout=30) as http:
        return await http.request(method, path, json=body)


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.fixture(scope="module")
async def case(hub_server: HubProcess, seed: Seeder) -> Case:
    manager = await seed.user("manager", organisation="Police Bruxelles-Capitale", discipline="D3")
    contributor = await seed.user("pompier", organisation="SIAMU Bruxelles", discipline="D1")
    viewer = await seed.user("viewer", organisation="Croix-Rouge", discipline="D2")
    outsider = await seed.user("outsider")
    incident = await seed.incident(
        {manager: "manager", contributor: "contributor", viewer: "viewer"},
        title="Exercice évacuation — Gare du Midi",
        kind="exercise",
    )
    base = f"/api/incidents/{incident}"
    entries = []
    for number, (kind, priority, text) in enumerate(ENTRIES, 1):
        author = contributor if number % 2 else manager
        body: dict[str, Any] = {
            "client_id": str(uuid.uuid4()),
            "text": text,
            "kind": kind,
            "priority": priority,
        }
        if number == 1:
            body["location"] = {"type": "Point", "coordinates": [4.3355, 50.8357]}
        entries.append(
            ok(await call(hub_server, author, "POST", f"{base}/feed", body), 201)["entry"]
        )
    corrections = {}
    for number, (text, reason) in CORRECTIONS.items():
        entry = entries[number - 1]
        corrections[number] = ok(
            await call(
                hub_server,
                manager,
                "POST",
                f"{base}/feed/{entry['id']}/corrections",
                {"client_id": str(uuid.uuid4()), "text": text, "reason": reason},
            ),
            201,
        )["entry"]
    # a correction of the correction of entry 2: printed under entry 2 too
    corrections[0] = ok(
        await call(
            hub_server,
            contributor,
            "POST",
            f"{base}/feed/{corrections[2]['id']}/corrections",
            {"client_id": str(uuid.uuid4()), "text": RECORRECTED, "reason": "deux blessés"},
        ),
        201,
    )["entry"]
    anchors = {}
    for label, kind, geometry in [
        (ZONE_LABEL, "exclusion_zone", square(4.33, 50.83, 0.01)),
        (CP_LABEL, "command_post", {"type": "Point", "coordinates": [4.3371, 50.8363]}),
        (GONE_LABEL, "press_point", {"type": "Point", "coordinates": [4.34, 50.84]}),
    ]:
        anchors[label] = ok(
            await call(
                hub_server,
                contributor,
                "POST",
                f"{base}/anchors",
                {
                    "client_id": str(uuid.uuid4()),
                    "kind": kind,
                    "label": label,
                    "geometry": geometry,
                },
            ),
            201,
        )["anchor"]
    anchors[ZONE_LABEL] = ok(
        await call(
            hub_server,
            manager,
            "PATCH",
            f"{base}/anchors/{anchors[ZONE_LABEL]['id']}",
            {"version": 1, "geometry": square(4.33, 50.83, 0.02)},
        )
    )["anchor"]
    ok(
        await call(
            hub_server,
            manager,
            "DELETE",
            f"{base}/anchors/{anchors.pop(GONE_LABEL)['id']}",
            {"version": 1},
        )
    )
    # A population alert (the exercise reaches the test audience only: none here, far east).
    alert = ok(
        await call(
            hub_server,
            manager,
            "POST",
            f"{base}/alerts",
            draft_body({"geometry": square(170.0, -40.0)}, channels=["sms"]),
        ),
        201,
    )["alert"]
    ok(await call(hub_server, manager, "POST", f"/api/alerts/{alert['id']}/send", {"version": 1}))
    ok(await call(hub_server, manager, "POST", f"/api/alerts/{alert['id']}/cancel", {"version": 2}))
    # A convoy with four accepted fixes, for the archive's GPX.
    convoy = await make_convoy(hub_server, manager, incident, route=ROUTE)
    _, key = await make_vehicle(hub_server, manager, incident, convoy["id"], label="Bus évacuation")
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        for step in range(4):
            lon, lat = along(ROUTE, 0.1 + step * 0.1)
            response = await aosmand(http, key, lat, lon, T0 + timedelta(seconds=30 * step))
            assert response.status_code == 200, response.text
    points = []
    for (kind, text, owner, due), author in zip(POINTS, [contributor, manager], strict=True):
        body = {"client_id": str(uuid.uuid4()), "kind": kind, "text": text}
        if owner is not None and due is not None:
            body |= {"owner": owner, "due": due}
        points.append(
            ok(await call(hub_server, author, "POST", f"{base}/evaluation", body), 201)["point"]
        )
    return Case(
        hub_server,
        incident,
        manager,
        contributor,
        viewer,
        outsider,
        entries,
        corrections,
        anchors,
        points,
        4,
    )


# The case's anchors created (3), moved (1) and deleted (1) by hand each wrote a feed entry.
ANCHOR_ENTRIES = 5


def local_time(wire: str) -> str:
    return f"{datetime.fromisoformat(wire).astimezone(INCIDENT_ZONE):%d/%m/%Y %H:%M:%S}"


def read_kml(content: bytes) -> dict[str, Placemark]:
    """The placemarks of a KML file by name, read by fastkml."""
    [document] = list(kml.KML.parse(io.BytesIO(content), validate=True).features)
    assert isinstance(document, Document)
    found = {}
    for feature in document.features:
        assert isinstance(feature, Placemark) and feature.name is not None
        found[feature.name] = feature
    return found


def flat(text: str) -> str:
    """Extracted text with its line breaks and runs of spaces as one space."""
    return re.sub(r"\s+", " ", text)


# the logbook ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "nl", "en"])
async def test_the_logbook_holds_every_entry_and_correction_on_numbered_exercise_pages(
    case: Case, lang: str
) -> None:
    response = await case.get(case.viewer, "logbook.pdf", lang=lang)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    pages = [flat(page.extract_text()) for page in reader.pages]
    assert len(pages) >= 2  # 43 entries and the rest do not fit on one page
    for number, text in enumerate(pages, 1):
        assert BANNER in text, f"page {number} lacks the exercise banner"
        assert PAGE_WORDS[lang].format(number, len(pages)) in text, f"page {number}: {text[-80:]}"
    book = " ".join(pages)
    assert f"{TITLES[lang]} — Exercice évacuation — Gare du Midi" in book
    # every entry, in the order they were posted, each with its time, author and organisation
    at = -1
    for entry in case.entries:
        found = book.find(entry["text"], at + 1)
        assert found > at, f"entry {entry['seq']} is missing or out of order"
        header = book.rfind(f"#{entry['seq']} ", 0, found)
        assert header != -1
        assert book[header:found].count(local_time(entry["created_at"])) == 1
        author = entry["author"]
        who = f"{author['name']} ({author['organisation']}, {author['discipline']})"
        assert who in book[header:found]
        at = found
    decision = case.entries[40]
    assert f"{DECISIONS[lang]} {decision['text']}" in book
    # each correction right under its original, before the next entry (0: the correction of
    # entry 2's correction)
    for number, correction in case.corrections.items():
        original = book.find(case.entries[max(number, 2) - 1]["text"])
        following = book.find(case.entries[max(number, 2)]["text"], original)
        fixed = book.find(correction["text"], original)
        assert original < fixed < following, f"correction of entry {number} is not under it"
        assert correction["reason"] in book[fixed:following]
    again = book.find(RECORRECTED)
    assert book.find(case.corrections[2]["text"]) < again  # in the order they were made
    assert f"#{case.corrections[0]['seq']} (#{case.corrections[2]['seq']})" in book
    # the anchors' changes, the population alert's steps and the evaluation points
    assert book.count(ZONE_LABEL) >= 2 and CP_LABEL in book and GONE_LABEL in book
    assert book.count(HEADLINE) == 3  # drafted, sent, cancelled
    for point in case.points:
        assert point["text"] in book
    assert "Cellule de planification" in book and "31/03/2030" in book


async def test_the_logbook_of_an_incident_that_is_no_exercise_has_no_banner(
    hub_server: HubProcess, seed: Seeder
) -> None:
    manager = await seed.user("manager")
    incident = await seed.incident({manager: "manager"}, title="Inondation à Liège")
    base = f"/api/incidents/{incident}"
    body = {"client_id": str(uuid.uuid4()), "text": "La Meuse déborde à Chênée"}
    ok(await call(hub_server, manager, "POST", f"{base}/feed", body), 201)
    async with httpx.AsyncClient(base_url=hub_server.url, headers=bearer(manager)) as http:
        response = await http.get(f"{base}/logbook.pdf", params={"lang": "fr"})
    assert response.status_code == 200, response.text
    [page] = PdfReader(io.BytesIO(response.content)).pages
    text = flat(page.extract_text())
    assert "La Meuse déborde à Chênée" in text and "Page 1 sur 1" in text
    assert "EXERCI" not in text and "OEFENING" not in text


# the feed, the anchors ---------------------------------------------------------------------------


async def test_the_feed_csv_opens_in_a_spreadsheet(case: Case) -> None:
    response = await case.get(case.viewer, "feed.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel's cue for UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    posted = case.entries + list(case.corrections.values())
    # and the feed's entries of the anchors' changes by hand: three created, one moved, one deleted
    traced = [row["text"] for row in rows if row["text"].startswith("Anchor ")]
    assert len(traced) == ANCHOR_ENTRIES
    assert f"Anchor moved: {ZONE_LABEL} (exclusion_zone)" in traced
    assert len(rows) == len(posted) + ANCHOR_ENTRIES
    by_seq = {int(row["seq"]): row for row in rows}
    assert sorted(by_seq) == [int(row["seq"]) for row in rows]  # oldest first
    for entry in posted:
        row = by_seq[entry["seq"]]
        text = entry["text"]
        assert row["text"] == ("'" + text if text.startswith("=") else text)
        assert row["time"] == local_time(entry["created_at"])
        assert row["time_utc"] == entry["created_at"]
        assert row["author"] == entry["author"]["name"]
        assert row["organisation"] == entry["author"]["organisation"]
        assert row["discipline"] == entry["author"]["discipline"]
        assert row["kind"] == entry["kind"] and row["priority"] == entry["priority"]
    for number, correction in case.corrections.items():
        row = by_seq[correction["seq"]]
        corrected = case.corrections[2] if number == 0 else case.entries[number - 1]
        assert row["corrects_seq"] == str(corrected["seq"])
        assert row["reason"] == correction["reason"]
    first = by_seq[case.entries[0]["seq"]]
    assert (float(first["lon"]), float(first["lat"])) == (4.3355, 50.8357)


async def test_the_anchors_as_geojson_and_kml(case: Case) -> None:
    response = await case.get(case.viewer, "anchors.geojson")
    assert response.status_code == 200, response.text
    collection = json.loads(response.content)
    events.check(events.AnchorCollection, collection)
    features = {feature["properties"]["label"]: feature for feature in collection["features"]}
    assert set(features) == set(case.anchors)  # the deleted one is gone
    zone = shape(features[ZONE_LABEL]["geometry"])
    assert zone.is_valid and zone.bounds == pytest.approx((4.33, 50.83, 4.35, 50.85))

    response = await case.get(case.viewer, "anchors.kml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.google-earth.kml+xml"
    placemarks = read_kml(response.content)
    assert set(placemarks) == set(case.anchors)
    post = placemarks[CP_LABEL]
    assert post.geometry is not None
    assert shape(post.geometry.__geo_interface__).equals(Point(4.3371, 50.8363))
    ring = placemarks[ZONE_LABEL].geometry
    assert ring is not None
    assert shape(ring.__geo_interface__).equals(zone)


# the archive ------------------------------------------------------------------------------------


async def test_the_archive_holds_the_whole_incident(case: Case) -> None:
    response = await case.get(case.manager, "archive.zip", lang="nl")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    names = archive.namelist()
    gpx = [name for name in names if name.startswith("tracks/")]
    assert sorted(set(names) - set(gpx)) == sorted(
        [
            "README.txt",
            "logbook.pdf",
            "feed.csv",
            "anchors.geojson",
            "anchors.kml",
            "events.jsonl",
            "evaluation.json",
        ]
    )
    logbook = PdfReader(io.BytesIO(archive.read("logbook.pdf")))
    assert "Logboek" in logbook.pages[0].extract_text()
    csv_rows = list(csv.reader(io.StringIO(archive.read("feed.csv").decode("utf-8-sig"))))
    assert len(csv_rows) == 1 + len(case.entries) + len(case.corrections) + ANCHOR_ENTRIES
    assert len(json.loads(archive.read("anchors.geojson"))["features"]) == len(case.anchors)
    assert set(read_kml(archive.read("anchors.kml"))) == set(case.anchors)
    logged = [json.loads(line) for line in archive.read("events.jsonl").splitlines()]
    incident = ok(await case.get(case.manager, ""))["incident"]
    assert [event["seq"] for event in logged] == list(range(1, incident["last_seq"] + 1))
    for event in logged:
        events.check_event(event)
    points = json.loads(archive.read("evaluation.json"))["points"]
    events.check(list[events.EvaluationPointPublic], points)
    listed = ok(await case.get(case.manager, "evaluation"))["points"]
    assert points == listed and {p["id"] for p in case.points} <= {p["id"] for p in points}
    # one GPX per convoy: the planned route and the vehicle's accepted fixes, in time order
    [track] = gpx
    root = etree.fromstring(archive.read(track))
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    assert len(root.findall(".//g:rtept", ns)) == len(ROUTE["coordinates"])
    times = [element.text for element in root.findall(".//g:trkpt/g:time", ns)]
    assert len(times) == case.fixes and times == sorted(times)
    assert root.findtext(".//g:trk/g:name", namespaces=ns) == "Bus évacuation (vip)"


# who may read ------------------------------------------------------------------------------------

EXPORTS = ["logbook.pdf", "feed.csv", "anchors.geojson", "anchors.kml", "archive.zip"]


async def test_only_members_read_the_exports(case: Case) -> None:
    for name in EXPORTS:
        response = await case.get(case.outsider, name)
        assert response.status_code == 403, (name, response.text)
        assert response.json()["error"]["code"] == "forbidden"
        async with httpx.AsyncClient(base_url=case.server.url) as http:
            response = await http.get(f"/api/incidents/{case.incident}/{name}")
        assert response.status_code == 401, name
        async with httpx.AsyncClient(base_url=case.server.url, headers=bearer(case.viewer)) as http:
            response = await http.get(f"/api/incidents/{uuid.uuid4().hex}/{name}")
        assert response.status_code == 404, name
    for name in ["logbook.pdf", "archive.zip"]:
        response = await case.get(case.viewer, name, lang="de")
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    # each read is logged with who read it
    log = case.server.log_path.read_text()
    assert f"logbook.pdf of incident {case.incident} read by {case.viewer.username}" in log


# evaluation points -------------------------------------------------------------------------------


async def test_evaluation_points_are_recorded_edited_closed_and_listed(
    case: Case, clients: Clients
) -> None:
    watcher = await clients(case.server, case.viewer)
    await watcher.join(case.incident)
    base = f"/api/incidents/{case.incident}/evaluation"
    body = {
        "client_id": str(uuid.uuid4()),
        "kind": "to_improve",
        "text": "  Les radios ASTRID ont saturé au PC-Ops  ",
        "owner": "D4 logistique",
        "due": "2030-06-30",
    }
    point = ok(await call(case.server, case.contributor, "POST", base, body), 201)["point"]
    events.check(events.EvaluationPointPublic, point)
    assert point["text"] == "Les radios ASTRID ont saturé au PC-Ops"
    assert (point["state"], point["version"], point["closed_at"]) == ("open", 1, None)
    assert point["author"]["name"] and point["author"]["discipline"] == "D1"
    # the same client id again is the same point, not a second one
    again = ok(await call(case.server, case.contributor, "POST", base, body), 201)["point"]
    assert again == point

    path = f"{base}/{point['id']}"
    edited = ok(
        await call(
            case.server, case.contributor, "PATCH", path, {"version": 1, "due": "2030-09-30"}
        )
    )["point"]
    assert (edited["due"], edited["version"], edited["owner"]) == ("2030-09-30", 2, "D4 logistique")
    # a stale version is a conflict that carries the current state and changes nothing
    response = await call(case.server, case.manager, "PATCH", path, {"version": 1, "text": "x"})
    assert response.status_code == 409
    assert response.json()["point"] == edited
    # the manager closes it (and clears the owner), then reopens it
    closed = ok(
        await call(
            case.server,
            case.manager,
            "PATCH",
            path,
            {"version": 2, "state": "closed", "owner": None},
        )
    )["point"]
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert closed["owner"] is None and closed["updated_by"] == case.manager.id
    reopened = ok(
        await call(case.server, case.contributor, "PATCH", path, {"version": 3, "state": "open"})
    )["point"]
    assert reopened["state"] == "open" and reopened["closed_at"] is None

    listed = ok(await call(case.server, case.viewer, "GET", base))["points"]
    assert listed[-1] == reopened and [p["id"] for p in listed[:2]] == [
        p["id"] for p in case.points
    ]
    # every change was an event to the room, in order
    await watcher_sees(
        watcher, case.incident, point["id"], ["evaluation.created"] + ["evaluation.updated"] * 3
    )
    # the incident list counts the open points
    incidents = ok(await call(case.server, case.viewer, "GET", "/api/incidents"))["incidents"]
    [listed_incident] = [i for i in incidents if i["id"] == case.incident]
    assert listed_incident["open_points"] == len(case.points) + 1
    ok(await call(case.server, case.manager, "PATCH", path, {"version": 4, "state": "closed"}))
    incidents = ok(await call(case.server, case.viewer, "GET", "/api/incidents"))["incidents"]
    [listed_incident] = [i for i in incidents if i["id"] == case.incident]
    assert listed_incident["open_points"] == len(case.points)


async def watcher_sees(watcher: HubClient, incident: str, point_id: str, kinds: list[str]) -> None:
    """Waits (bounded) until the watcher has every evaluation.* event of the point."""
    seen: list[str] = []
    for _ in range(200):
        seen = [
            event["type"]
            for event in watcher.incidents[incident].events
            if event["type"].startswith("evaluation.") and event["data"]["id"] == point_id
        ]
        if len(seen) >= len(kinds):
            break
        await asyncio.sleep(0.05)
    assert seen == kinds


async def test_who_may_record_and_change_evaluation_points(case: Case) -> None:
    base = f"/api/incidents/{case.incident}/evaluation"
    before = ok(await case.get(case.manager, ""))["incident"]["last_seq"]

    def body() -> dict[str, Any]:
        return {
            "client_id": str(uuid.uuid4()),
            "kind": "went_well",
            "text": "Accueil des impliqués",
        }

    response = await call(case.server, case.viewer, "POST", base, body())
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    response = await call(case.server, case.outsider, "POST", base, body())
    assert response.status_code == 403
    response = await call(case.server, case.outsider, "GET", base)
    assert response.status_code == 403
    response = await call(
        case.server, case.viewer, "POST", f"/api/incidents/{uuid.uuid4().hex}/evaluation", body()
    )
    assert response.status_code == 404
    # the manager's point: a contributor may not change it, nor a viewer
    managers = case.points[1]
    for user in (case.contributor, case.viewer):
        response = await call(
            case.server,
            user,
            "PATCH",
            f"{base}/{managers['id']}",
            {"version": 1, "state": "closed"},
        )
        assert response.status_code == 403, response.text
    response = await call(
        case.server,
        case.manager,
        "PATCH",
        f"{base}/{uuid.uuid4().hex}",
        {"version": 1, "text": "x"},
    )
    assert response.status_code == 404
    assert ok(await case.get(case.manager, ""))["incident"]["last_seq"] == before
    assert ok(await call(case.server, case.viewer, "GET", base))["points"][1] == managers


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"text": ""}, 400),
        ({"text": "   "}, 400),
        ({"text": "é" * 4_001}, 413),
        ({"kind": "meh"}, 400),
        ({"due": "2030-02-30"}, 400),
        ({"due": "next week"}, 400),
        ({"due": 1893456000}, 400),
        ({"due": "2001-01-01"}, 400),  # before the incident
        ({"due": "2999-01-01"}, 400),
        ({"owner": "x" * 201}, 413),
        ({"colour": "red"}, 400),
    ],
)
async def test_bad_evaluation_points_are_refused_and_write_nothing(
    case: Case, change: dict[str, Any], status: int
) -> None:
    base = f"/api/incidents/{case.incident}/evaluation"
    before = ok(await case.get(case.manager, ""))["incident"]["last_seq"]
    points = ok(await call(case.server, case.viewer, "GET", base))["points"]
    body = {"client_id": str(uuid.uuid4()), "kind": "to_improve", "text": "Briefing", **change}
    response = await call(case.server, case.contributor, "POST", base, body)
    assert response.status_code == status, response.text
    # the same change as an edit of an existing point
    mine = case.points[0]
    edit = {"version": mine["version"], **change}
    response = await call(case.server, case.contributor, "PATCH", f"{base}/{mine['id']}", edit)
    assert response.status_code == status, response.text
    assert ok(await case.get(case.manager, ""))["incident"]["last_seq"] == before
    assert ok(await call(case.server, case.viewer, "GET", base))["points"] == points


async def test_a_closed_incident_still_takes_its_evaluation(
    hub_server: HubProcess, seed: Seeder
) -> None:
    manager = await seed.user("manager")
    incident = await seed.incident({manager: "manager"}, title="Sommet européen")
    base = f"/api/incidents/{incident}"
    ok(await call(hub_server, manager, "PATCH", base, {"status": "closed"}))
    body = {"client_id": str(uuid.uuid4()), "text": "Trop tard"}
    response = await call(hub_server, manager, "POST", f"{base}/feed", body)
    assert response.status_code == 403  # the feed is closed
    point = ok(
        await call(
            hub_server,
            manager,
            "POST",
            f"{base}/evaluation",
            {
                "client_id": str(uuid.uuid4()),
                "kind": "to_improve",
                "text": "Badges remis trop tard",
            },
        ),
        201,
    )["point"]
    ok(
        await call(
            hub_server,
            manager,
            "PATCH",
            f"{base}/evaluation/{point['id']}",
            {"version": 1, "state": "closed"},
        )
    )
    async with httpx.AsyncClient(base_url=hub_server.url, headers=bearer(manager)) as http:
        response = await http.get(f"{base}/logbook.pdf")
    text = flat(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    )
    assert "Badges remis trop tard" in text and "Evaluation point changed" in text


def test_times_are_brussels_time_across_daylight_saving() -> None:
    assert stamp("2026-03-29T00:30:00Z") == "29/03/2026 01:30:00"  # CET
    assert stamp("2026-03-29T01:30:00Z") == "29/03/2026 03:30:00"  # CEST from 01:00 UTC
    assert datetime(2026, 7, 1, tzinfo=UTC).astimezone(INCIDENT_ZONE).utcoffset() == timedelta(
        hours=2
    )


async def test_an_incident_past_the_limits_is_refused_not_rendered(
    database_url: str, logs: Path, seed: Seeder
) -> None:
    server = HubProcess(database_url, log_dir=logs, export_max_events=6, export_max_fixes=2)
    server.start()
    try:
        manager = await seed.user("manager")
        big = await seed.incident({manager: "manager"}, title="Grand incident")
        for number in range(7):
            body = {"client_id": str(uuid.uuid4()), "text": f"Message {number}"}
            ok(await call(server, manager, "POST", f"/api/incidents/{big}/feed", body), 201)
        async with httpx.AsyncClient(base_url=server.url, headers=bearer(manager)) as http:
            for name in ["logbook.pdf", "feed.csv", "archive.zip"]:
                response = await http.get(f"/api/incidents/{big}/{name}")
                assert response.status_code == 413, (name, response.text)
                answer = response.json()
                assert answer["error"]["code"] == "too_large" and answer["limit"] == 6
                assert "/events" in answer["error"]["message"]  # where to read it instead
            # the anchors are not bounded by the events
            assert (await http.get(f"/api/incidents/{big}/anchors.geojson")).status_code == 200

        # within the events but past the fixes: the archive (which holds the tracks) is refused
        tracked = await seed.incident({manager: "manager"}, title="Convoi")
        convoy = await make_convoy(server, manager, tracked, route=ROUTE)
        _, key = await make_vehicle(server, manager, tracked, convoy["id"])
        async with httpx.AsyncClient(base_url=server.url, headers=bearer(manager)) as http:
            for step in range(3):
                lon, lat = along(ROUTE, 0.2 + step * 0.2)
                response = await aosmand(http, key, lat, lon, T0 + timedelta(seconds=20 * step))
                assert response.status_code == 200, response.text
            response = await http.get(f"/api/incidents/{tracked}/archive.zip")
            assert response.status_code == 413 and response.json()["limit"] == 2
            assert (await http.get(f"/api/incidents/{tracked}/logbook.pdf")).status_code == 200
    finally:
        server.stop()
