"""Emergency plans (issue 14) against a live hub: a plan's versions with real files (a PDF as
fpdf2 writes it, an Office document, a PNG), the title and place search, approval, upload
limits and bad types writing nothing, and the activation from an incident: its anchors as
sequenced `anchor.created`, its contacts listed, a `decision` entry, `plan.activated`, all
in seq order; idempotence; permissions; a non-member reading nothing."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import uuid
import zipfile
import zlib
from datetime import datetime, timedelta
from typing import Any

import httpx
from fpdf import FPDF

from hub.client import HubClient
from models.events import PlanActivated, PlanPublic, check
from models.plan import MAX_PLAN_FILE_BYTES, MAX_PLAN_FILES
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_contacts import add, bearer, unique

# A site in Ostend's port (far from the other tests' places): the plan's area around it.
SITE = (51.2300, 2.9300)  # lat, lon
AREA = {
    "type": "Polygon",
    "coordinates": [[[2.92, 51.22], [2.94, 51.22], [2.94, 51.24], [2.92, 51.24], [2.92, 51.22]]],
}


def pdf_bytes(title: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text=title)
    return bytes(pdf.output())


def png_bytes() -> bytes:
    """A one-pixel PNG, chunk by chunk as the format lays it down."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def docx_bytes() -> bytes:
    """The parts Word's OOXML package has at least (what filetype looks at is the zip)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def anchors_of(*features: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": geometry, "properties": {"kind": kind, "label": label}}
            for kind, label, geometry in features
        ],
    }


PLAN_ANCHORS = anchors_of(
    (
        "exclusion_zone",
        "Zone d'exclusion — terminal",
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [2.928, 51.228],
                    [2.932, 51.228],
                    [2.932, 51.232],
                    [2.928, 51.232],
                    [2.928, 51.228],
                ]
            ],
        },
    ),
    ("command_post", "PC-Ops", {"type": "Point", "coordinates": [2.935, 51.226]}),
    ("advanced_medical_post", "PMA", {"type": "Point", "coordinates": [2.937, 51.227]}),
)


async def new_plan(http: httpx.AsyncClient, user: TestUser, title: str, **extra: Any) -> PlanPublic:
    body = {"title": title, "kind": "special", "level": "municipal", "area": AREA, **extra}
    response = await http.post("/api/plans", json=body, headers=bearer(user))
    assert response.status_code == 201, response.text
    plan: PlanPublic = response.json()["plan"]
    check(PlanPublic, plan)
    return plan


async def upload(
    http: httpx.AsyncClient,
    user: TestUser,
    plan_id: str,
    files: list[tuple[str, bytes, str]],
    **fields: str,
) -> httpx.Response:
    return await http.post(
        f"/api/plans/{plan_id}/versions",
        files=[("files", file) for file in files],
        data=fields,
        headers=bearer(user),
    )


async def plan_of(http: httpx.AsyncClient, user: TestUser, plan_id: str) -> PlanPublic:
    response = await http.get(f"/api/plans/{plan_id}", headers=bearer(user))
    assert response.status_code == 200, response.text
    plan: PlanPublic = response.json()["plan"]
    check(PlanPublic, plan)
    return plan


async def test_a_plan_s_versions_files_search_and_approval(
    hub_server: HubProcess, seed: Seeder
) -> None:
    word = unique()
    author = await seed.user("plans", organisation=f"Ville {word}")
    reader = await seed.user("reader", organisation=f"Police {word}")
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=60) as http:
        plan = await new_plan(http, author, f"PPUI Écluse {word} — Port d'Ostende")
        assert plan["versions"] == [] and plan["approved_version"] is None
        assert plan["organisation"]["name"] == f"Ville {word}"

        pdf, png, docx = pdf_bytes(f"PPUI {word}"), png_bytes(), docx_bytes()
        response = await upload(
            http,
            author,
            plan["id"],
            [
                ("ppui.pdf", pdf, "application/pdf"),
                ("carte.png", png, "image/png"),
                # a browser's guess is not trusted: the content says what it is
                ("annexe-appel.docx", docx, "application/octet-stream"),
            ],
            anchors=json.dumps(PLAN_ANCHORS),
            note="première version",
        )
        assert response.status_code == 201, response.text
        version = response.json()["plan"]["versions"][0]
        assert version["number"] == 1 and version["status"] == "draft"
        assert version["created_by"]["id"] == author.id and version["note"] == "première version"
        types = {file["name"]: file["content_type"] for file in version["files"]}
        assert types == {
            "ppui.pdf": "application/pdf",
            "carte.png": "image/png",
            "annexe-appel.docx": (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ),
        }
        assert [f["properties"]["label"] for f in version["anchors"]["features"]] == [
            "Zone d'exclusion — terminal",
            "PC-Ops",
            "PMA",
        ]

        # every logged-in user reads the library and downloads the files, byte for byte
        pdf_file = next(file for file in version["files"] if file["name"] == "ppui.pdf")
        assert pdf_file["sha256"] == hashlib.sha256(pdf).hexdigest()
        assert pdf_file["size"] == len(pdf)
        download = await http.get(
            f"/api/plans/{plan['id']}/files/{pdf_file['id']}", headers=bearer(reader)
        )
        assert download.status_code == 200
        assert download.content == pdf
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
        other = await new_plan(http, author, f"Plan vide {word}")
        assert (
            await http.get(
                f"/api/plans/{other['id']}/files/{pdf_file['id']}", headers=bearer(reader)
            )
        ).status_code == 404

        # search: words of the title, accents and case ignored, the last one half typed
        async def titles(**params: str) -> list[str]:
            found = await http.get("/api/plans", params=params, headers=bearer(reader))
            assert found.status_code == 200, found.text
            return [p["title"] for p in found.json()["plans"]]

        assert await titles(q=f"ecluse {word}") == [plan["title"]]
        assert await titles(q=f"OSTENDE {word[:4]}") == [plan["title"]]
        assert await titles(q=f"{word} vide") == [other["title"]]
        assert await titles(q=f"{word} inconnu") == []
        # the place: inside the area (and on its edge), not outside it
        assert plan["title"] in await titles(at=f"{SITE[0]},{SITE[1]}")
        assert plan["title"] in await titles(at="51.22,2.93")
        assert plan["title"] not in await titles(at="51.25,2.93")
        assert await titles(q=word, at=f"{SITE[0]},{SITE[1]}") == [plan["title"], other["title"]]

        # only the organisation's members (and admins) approve; approving twice changes nothing
        refused = await http.post(
            f"/api/plans/{plan['id']}/versions/1/approve", headers=bearer(reader)
        )
        assert refused.status_code == 403
        approved = await http.post(
            f"/api/plans/{plan['id']}/versions/1/approve", headers=bearer(author)
        )
        assert approved.status_code == 200, approved.text
        state = approved.json()["plan"]
        assert state["approved_version"] == 1 and state["versions"][0]["status"] == "approved"
        assert state["versions"][0]["approved_by"]["id"] == author.id
        again = await http.post(
            f"/api/plans/{plan['id']}/versions/1/approve", headers=bearer(author)
        )
        assert again.json()["plan"] == state
        missing = await http.post(
            f"/api/plans/{plan['id']}/versions/9/approve", headers=bearer(author)
        )
        assert missing.status_code == 404

        # a second version is a draft until approved; the approved one stays the one in use
        second = await upload(
            http, author, plan["id"], [("ppui-v2.pdf", pdf_bytes("v2"), "application/pdf")]
        )
        assert second.status_code == 201, second.text
        now = second.json()["plan"]
        assert (now["approved_version"], now["latest_version"]) == (1, 2)

        # edits by the owners only
        patch = await http.patch(
            f"/api/plans/{plan['id']}", json={"level": "provincial"}, headers=bearer(reader)
        )
        assert patch.status_code == 403
        patch = await http.patch(
            f"/api/plans/{plan['id']}", json={"level": "provincial"}, headers=bearer(author)
        )
        assert patch.json()["plan"]["level"] == "provincial"


async def test_bad_uploads_are_refused_and_write_nothing(
    hub_server: HubProcess, seed: Seeder
) -> None:
    word = unique()
    author = await seed.user("plans", organisation=f"Ville {word}")
    outsider = await seed.user("other", organisation=f"Autre {word}")
    pdf = pdf_bytes("ok")
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=120) as http:
        plan = await new_plan(http, author, f"Plan {word}")
        path = f"/api/plans/{plan['id']}/versions"

        async def refused(response: httpx.Response, status: int, code: str, words: str) -> None:
            assert response.status_code == status, response.text
            error = response.json()["error"]
            assert error["code"] == code and words in error["message"], error

        exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
        await refused(
            await upload(http, author, plan["id"], [("plan.pdf", exe, "application/pdf")]),
            400,
            "invalid",
            "plan.pdf is",
        )
        await refused(
            await upload(http, author, plan["id"], [("notes.txt", b"just text", "text/plain")]),
            400,
            "invalid",
            "a plan's files are PDF",
        )
        await refused(
            await upload(http, author, plan["id"], [("vide.pdf", b"", "application/pdf")]),
            400,
            "invalid",
            "empty",
        )
        big = b"%PDF-1.4\n" + b"0" * MAX_PLAN_FILE_BYTES
        await refused(
            await upload(http, author, plan["id"], [("big.pdf", big, "application/pdf")]),
            413,
            "too_large",
            "20 MB",
        )
        many = [(f"p{i}.pdf", pdf, "application/pdf") for i in range(MAX_PLAN_FILES + 1)]
        await refused(await upload(http, author, plan["id"], many), 400, "invalid", "files")
        await refused(
            await upload(
                http,
                author,
                plan["id"],
                [("a.pdf", pdf, "application/pdf"), ("a.pdf", pdf, "application/pdf")],
            ),
            400,
            "invalid",
            "same name",
        )
        await refused(await upload(http, author, plan["id"], []), 400, "invalid", "multipart")
        await refused(
            await http.post(path, json={"files": []}, headers=bearer(author)),
            400,
            "invalid",
            "multipart/form-data",
        )
        ok_file = [("plan.pdf", pdf, "application/pdf")]
        await refused(
            await upload(http, author, plan["id"], ok_file, anchors="{not json"),
            400,
            "invalid",
            "anchors",
        )
        bad_kind = anchors_of(("volcano", "X", {"type": "Point", "coordinates": [2.9, 51.2]}))
        await refused(
            await upload(http, author, plan["id"], ok_file, anchors=json.dumps(bad_kind)),
            400,
            "invalid",
            "properties.kind",
        )
        open_ring = anchors_of(
            (
                "exclusion_zone",
                "Zone",
                {"type": "Polygon", "coordinates": [[[2.9, 51.2], [2.91, 51.2], [2.91, 51.21]]]},
            )
        )
        await refused(
            await upload(http, author, plan["id"], ok_file, anchors=json.dumps(open_ring)),
            400,
            "invalid",
            "",
        )
        await refused(
            await upload(
                http, author, plan["id"], ok_file, contact_ids=json.dumps(["no-such-contact"])
            ),
            400,
            "invalid",
            "no such contact",
        )
        await refused(
            await upload(http, author, plan["id"], ok_file, colour="red"),
            400,
            "invalid",
            "unknown part",
        )
        await refused(
            await upload(http, outsider, plan["id"], ok_file), 403, "forbidden", "organisation"
        )
        await refused(
            await http.post(
                "/api/plans",
                json={"title": "", "kind": "special", "level": "x"},
                headers=bearer(author),
            ),
            400,
            "invalid",
            "",
        )
        await refused(
            await http.get("/api/plans", params={"at": "91,4"}, headers=bearer(author)),
            400,
            "invalid",
            "at:",
        )
        assert (await http.get("/api/plans", params={"q": "x"})).status_code == 401
        # nothing of it was written
        assert (await plan_of(http, author, plan["id"]))["versions"] == []


async def test_activation_from_the_incident(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    word = unique()
    author = await seed.user("plans", organisation=f"Ville {word}")
    manager = await seed.user("manager", organisation=f"Ville {word}")
    contributor = await seed.user("contrib", organisation=f"Police {word}")
    outsider = await seed.user("outsider", organisation=f"Police {word}")
    incident = await seed.incident(
        {manager: "manager", contributor: "contributor"}, title=f"Fuite {word}"
    )
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=60) as http:
        duty = await add(
            http,
            author,
            kind="function",
            name=f"Officier de garde {word}",
            methods=[{"type": "phone", "value": "+3259555555", "h24": True}],
        )
        port = await add(
            http,
            author,
            name=f"Capitainerie {word}",
            methods=[{"type": "email", "value": "c@x.be"}],
        )
        plan = await new_plan(http, author, f"PPUI Terminal {word}")
        draft_only = await new_plan(http, author, f"PPUI Brouillon {word}")
        elsewhere = await new_plan(
            http,
            author,
            f"PPUI Ailleurs {word}",
            area={
                "type": "Polygon",
                "coordinates": [[[3.5, 51.0], [3.6, 51.0], [3.6, 51.1], [3.5, 51.0]]],
            },
        )
        for each in (plan, draft_only, elsewhere):
            response = await upload(
                http,
                author,
                each["id"],
                [("plan.pdf", pdf_bytes(each["title"]), "application/pdf")],
                anchors=json.dumps(PLAN_ANCHORS),
                contact_ids=json.dumps([duty["id"], port["id"]]),
            )
            assert response.status_code == 201, response.text
        for each in (plan, elsewhere):
            approved = await http.post(
                f"/api/plans/{each['id']}/versions/1/approve", headers=bearer(author)
            )
            assert approved.status_code == 200

        watcher: HubClient = await clients(hub_server, contributor)
        joined = await watcher.join(incident)
        assert joined["snapshot"]["plans"] == []
        site = await watcher.request(
            "anchor.create",
            {
                "incident_id": incident,
                "client_id": str(uuid.uuid4()),
                "kind": "incident_site",
                "label": "Fuite d'ammoniac",
                "geometry": {"type": "Point", "coordinates": [SITE[1], SITE[0]]},
            },
        )
        assert site["ok"], site
        path = f"/api/incidents/{incident}/plans"

        # proposed: approved plans whose area holds the incident site, not the draft-only one
        proposals = await http.get(path, headers=bearer(contributor))
        assert proposals.status_code == 200, proposals.text
        proposed = [p["id"] for p in proposals.json()["proposed"]]
        assert plan["id"] in proposed
        assert draft_only["id"] not in proposed and elsewhere["id"] not in proposed
        assert proposals.json()["activated"] == []

        # a contributor cannot activate, a non-member reads nothing, a draft is not activated
        body = {"plan_id": plan["id"]}
        refused = await http.post(path, json=body, headers=bearer(contributor))
        assert refused.status_code == 403
        assert (await http.get(path, headers=bearer(outsider))).status_code == 403
        assert (await http.post(path, json=body, headers=bearer(outsider))).status_code == 403
        draft = await http.post(path, json={"plan_id": draft_only["id"]}, headers=bearer(manager))
        assert draft.status_code == 400 and "approved" in draft.json()["error"]["message"]
        unknown = await http.post(path, json={"plan_id": "nope"}, headers=bearer(manager))
        assert unknown.status_code == 404
        seq_before = (await watcher.join(incident))["seq"]

        activated = await http.post(path, json=body, headers=bearer(manager))
        assert activated.status_code == 200, activated.text
        answer = activated.json()
        assert answer["created"] is True
        activation: PlanActivated = answer["activation"]
        check(PlanActivated, activation)
        assert activation["version"] == 1 and len(activation["anchor_ids"]) == 3
        assert activation["contact_ids"] == [duty["id"], port["id"]]

        # in seq order: three anchors, two contacts, the decision, plan.activated
        await watcher.wait_for_seq(incident, seq_before + 7)
        events = [e for e in watcher.incidents[incident].events if e["seq"] > seq_before]
        assert [e["type"] for e in events] == [
            "anchor.created",
            "anchor.created",
            "anchor.created",
            "contact.listed",
            "contact.listed",
            "feed.posted",
            "plan.activated",
        ]
        assert [e["seq"] for e in events] == list(range(seq_before + 1, seq_before + 8))
        anchors = [e["data"] for e in events[:3]]
        assert {a["properties"]["plan_id"] for a in anchors} == {plan["id"]}
        assert [a["label"] for a in anchors] == ["Zone d'exclusion — terminal", "PC-Ops", "PMA"]
        assert [a["kind"] for a in anchors] == [
            "exclusion_zone",
            "command_post",
            "advanced_medical_post",
        ]
        assert [e["data"]["plan_id"] for e in events[3:5]] == [plan["id"], plan["id"]]
        decision = events[5]["data"]
        assert decision["kind"] == "decision" and plan["title"] in decision["text"]
        assert decision["author"]["id"] == manager.id
        assert events[6]["data"] == activation

        # the snapshot holds them; the incident's route no longer proposes the plan
        snapshot = (await (await clients(hub_server, contributor)).join(incident))["snapshot"]
        assert snapshot["plans"] == [activation]
        assert {c["contact"]["id"] for c in snapshot["contacts"]} == {duty["id"], port["id"]}
        assert len(snapshot["anchors"]["features"]) == 4
        now = (await http.get(path, headers=bearer(contributor))).json()
        assert now["activated"] == [activation]
        assert plan["id"] not in [p["id"] for p in now["proposed"]]

        # activating it again creates nothing: same answer, no event
        twice = await http.post(path, json=body, headers=bearer(manager))
        assert twice.status_code == 200
        assert twice.json() == {"activation": activation, "created": False}
        assert (await watcher.join(incident))["seq"] == seq_before + 7

        # the timeline: the state just before the activation has none of it, the state now all
        [logged] = [
            e
            for e in (
                await http.get(
                    f"/api/incidents/{incident}/events",
                    params={"since": seq_before},
                    headers=bearer(contributor),
                )
            ).json()["events"]
            if e["type"] == "plan.activated"
        ]
        state = f"/api/incidents/{incident}/state"
        after = (
            await http.get(state, params={"at": logged["at"]}, headers=bearer(contributor))
        ).json()
        assert after["snapshot"]["plans"] == [activation]
        assert {c["contact"]["id"] for c in after["snapshot"]["contacts"]} == {
            duty["id"],
            port["id"],
        }
        before = datetime.fromisoformat(events[0]["at"]) - timedelta(milliseconds=1)
        earlier = (
            await http.get(state, params={"at": before.isoformat()}, headers=bearer(contributor))
        ).json()
        assert earlier["snapshot"]["plans"] == [] and earlier["snapshot"]["contacts"] == []
        assert len(earlier["snapshot"]["anchors"]["features"]) == 1  # the incident site

        # a non-member reads nothing of the incident's listed contacts
        assert (
            await http.get(f"/api/incidents/{incident}/contacts", headers=bearer(outsider))
        ).status_code == 403
