"""The directory's contacts (issue 14) against a live hub: search quality on a seeded set
(accents, several words, functions, the prefix being typed, filters, near), the review cycle
and history, a concurrent edit, permissions, the read log, bad input writing nothing, the CSV
and vCard round trips with files as Outlook, Google and iOS write them, and the incident's
listed contacts in its snapshot and replay."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col

from models import Contact
from models.base import utcnow
from models.events import ContactFound, ContactPublic, check
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_cli import crisishub

DATA = Path(__file__).parent / "data" / "contacts"


def bearer(user: TestUser) -> dict[str, str]:
    return {"authorization": f"Bearer {user.token}"}


def unique() -> str:
    # A word no other test's contact has: letters only, so it is one search token.
    return "z" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:9])


async def owner(seed: Seeder, word: str, *, admin: bool = False) -> TestUser:
    return await seed.user("dir", organisation=f"Zone {word.capitalize()}", admin=admin)


async def add(http: httpx.AsyncClient, user: TestUser, **body: Any) -> ContactPublic:
    response = await http.post("/api/contacts", json=body, headers=bearer(user))
    assert response.status_code == 201, response.text
    contact: ContactPublic = response.json()["contact"]
    check(ContactPublic, contact)
    return contact


async def found(http: httpx.AsyncClient, user: TestUser, **params: str) -> list[ContactFound]:
    response = await http.get("/api/contacts", params=params, headers=bearer(user))
    assert response.status_code == 200, response.text
    results: list[ContactFound] = response.json()["contacts"]
    for result in results:
        check(ContactFound, result)
    return results


def names(results: list[ContactFound]) -> list[str]:
    return [result["name"] for result in results]


SEEDED: list[dict[str, Any]] = [
    {
        "kind": "function",
        "name": "Officier de garde",
        "function": "Duty officer, Fire Zone Liège",
        "methods": [
            {"type": "phone", "value": "04 229 91 11", "label": "dispatching", "h24": True}
        ],
        "disciplines": ["D1"],
        "tags": ["Pompiers", "Liège"],
        "location": {"lat": 50.6326, "lon": 5.5797},
    },
    {
        "kind": "person",
        "name": "Hélène Goossens",
        "function": "Directrice médicale",
        "methods": [{"type": "mobile", "value": "+32 475 11 22 33"}],
        "disciplines": ["D2"],
        "tags": ["SAMU"],
        "location": {"lat": 50.8466, "lon": 4.3528},
    },
    {
        "kind": "function",
        "name": "Permanence du Gouverneur",
        "function": "Gouverneur de Namur — permanence",
        "methods": [
            {"type": "phone", "value": "081 25 68 00", "h24": True},
            {"type": "email", "value": "permanence@Namur.Example.be"},
        ],
        "disciplines": ["coord"],
        "tags": ["gouverneur"],
        "location": {"lat": 50.4669, "lon": 4.8675},
    },
    {
        "kind": "person",
        "name": "Pompier Jean Lièvre",
        "function": None,
        "methods": [{"type": "radio", "value": "ASTRID 2301-14"}],
        "disciplines": ["D1"],
        "tags": [],
    },
]


async def test_search_finds_by_any_word_ignoring_accents_and_case_with_the_prefix_typed(
    hub_server: HubProcess, seed: Seeder
) -> None:
    word = unique()
    user = await owner(seed, word)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=30) as http:
        made = [await add(http, user, **body) for body in SEEDED]
        assert made[0]["methods"][0]["value"] == "+3242299111"  # E.164
        assert made[2]["methods"][1]["value"] == "permanence@namur.example.be"

        # accents and case ignored, in the tags and the function
        assert names(await found(http, user, q=f"{word} LIEGE")) == ["Officier de garde"]
        # several words, the last one still being typed
        assert names(await found(http, user, q=f"{word} duty off")) == ["Officier de garde"]
        assert names(await found(http, user, q=f"{word} gouv")) == ["Permanence du Gouverneur"]
        # a whole word is no prefix once a space follows it
        assert names(await found(http, user, q=f"{word} gouv ")) == []
        # the organisation's name is searched; a match in the name ranks first
        everyone = names(await found(http, user, q=f"zone {word} pompier"))
        assert everyone == ["Pompier Jean Lièvre", "Officier de garde"]
        assert names(await found(http, user, q=f"{word} helene")) == ["Hélène Goossens"]
        # filters
        fire = await found(http, user, q=word, discipline="D1")
        assert sorted(names(fire)) == ["Officier de garde", "Pompier Jean Lièvre"]
        assert names(await found(http, user, q=word, tag="samu")) == ["Hélène Goossens"]
        near = await found(http, user, q=word, near="50.85,4.35")
        assert names(near) == ["Hélène Goossens", "Permanence du Gouverneur", "Officier de garde"]
        assert near[0]["distance_m"] is not None and near[0]["distance_m"] < 1_000
        # paging
        first = await http.get(
            "/api/contacts", params={"q": word, "limit": "3"}, headers=bearer(user)
        )
        page = first.json()
        assert len(page["contacts"]) == 3 and page["after"] == "3"
        rest = await found(http, user, q=word, limit="3", after=page["after"])
        assert len(rest) == 1
        # results carry what methods there are, never their values
        hidden = (await found(http, user, q=f"{word} gouverneur"))[0]["methods"]
        assert hidden == [
            {"type": "phone", "label": None, "h24": True},
            {"type": "email", "label": None, "h24": False},
        ]
        # searching read no methods: nothing is logged
        reads = await http.get(f"/api/contacts/{made[2]['id']}/reads", headers=bearer(user))
        assert reads.json()["reads"] == []


async def test_review_queue_review_and_history(hub_server: HubProcess, seed: Seeder) -> None:
    word = unique()
    user = await owner(seed, word)
    other = await seed.user("other", organisation=f"Police {word}")
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=30) as http:
        contact = await add(http, user, name=f"Dispatching {word}", tags=[word])
        assert contact["reviewed_at"] is not None
        async with seed.hub.db.write() as session:
            await session.execute(
                update(Contact)
                .where(col(Contact.id) == contact["id"])
                .values(review_due=utcnow() - timedelta(days=1))
            )
        queue = await found(http, user, q=word, due="true")
        assert [c["id"] for c in queue] == [contact["id"]] and queue[0]["overdue"]
        assert await found(http, other, q=word, due="true") == []  # not their organisation's

        response = await http.post(
            f"/api/contacts/{contact['id']}/review", json={"version": 1}, headers=bearer(user)
        )
        assert response.status_code == 200, response.text
        reviewed = response.json()["contact"]
        assert reviewed["version"] == 2 and reviewed["review_due"] > contact["review_due"]
        assert await found(http, user, q=word, due="true") == []

        edit = await http.patch(
            f"/api/contacts/{contact['id']}",
            json={"version": 2, "function": "Dispatching 112 Brabant"},
            headers=bearer(user),
        )
        assert edit.status_code == 200, edit.text
        history = await http.get(f"/api/contacts/{contact['id']}/history", headers=bearer(user))
        changes = history.json()["changes"]
        assert [c["action"] for c in changes] == ["updated", "reviewed", "created"]
        assert changes[0]["before"]["function"] is None
        assert changes[0]["after"]["function"] == "Dispatching 112 Brabant"
        assert changes[0]["by"]["id"] == user.id
        refused = await http.get(f"/api/contacts/{contact['id']}/history", headers=bearer(other))
        assert refused.status_code == 403


async def test_a_concurrent_edit_gets_conflict_with_the_current_record(
    hub_server: HubProcess, seed: Seeder
) -> None:
    word = unique()
    user = await owner(seed, word)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=30) as http:
        contact = await add(http, user, name=f"Officier {word}")
        path = f"/api/contacts/{contact['id']}"
        answers = await asyncio.gather(
            http.patch(path, json={"version": 1, "note": "première"}, headers=bearer(user)),
            http.patch(path, json={"version": 1, "note": "seconde"}, headers=bearer(user)),
        )
        assert sorted(a.status_code for a in answers) == [200, 409]
        winner = next(a for a in answers if a.status_code == 200).json()["contact"]
        loser = next(a for a in answers if a.status_code == 409).json()
        assert loser["error"]["code"] == "conflict"
        assert loser["contact"] == winner
        # That answer carried the record's methods, and so does the history: both are reads.
        history = await http.get(path + "/history", headers=bearer(user))
        assert history.status_code == 200
        reads = (await http.get(path + "/reads", headers=bearer(user))).json()["reads"]
        assert [(r["by"]["id"], r["how"]) for r in reads] == [
            (user.id, "history"),
            (user.id, "conflict"),
        ]


async def test_permissions_and_the_read_log(hub_server: HubProcess, seed: Seeder) -> None:
    word = unique()
    user = await owner(seed, word)
    other = await seed.user("other", organisation=f"Police {word}")
    admin = await seed.user("admin", organisation=f"NCCN {word}", admin=True)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=30) as http:
        contact = await add(
            http, user, name=f"Gardien {word}", methods=[{"type": "mobile", "value": "0470123456"}]
        )
        path = f"/api/contacts/{contact['id']}"
        refused = await http.patch(path, json={"version": 1, "name": "x"}, headers=bearer(other))
        assert refused.status_code == 403
        gone = await http.request("DELETE", path, json={"version": 1}, headers=bearer(other))
        assert gone.status_code == 403
        by_admin = await http.patch(path, json={"version": 1, "note": "vu"}, headers=bearer(admin))
        assert by_admin.status_code == 200, by_admin.text

        # reading one contact is a read of its methods: logged with who and how
        read = await http.get(path, headers=bearer(other))
        assert read.json()["contact"]["methods"][0]["value"] == "+32470123456"
        card = await http.get(path + ".vcf", headers=bearer(other))
        assert card.status_code == 200 and "+32470123456" in card.text
        reads = (await http.get(path + "/reads", headers=bearer(user))).json()["reads"]
        assert [(r["by"]["id"], r["how"]) for r in reads] == [
            (other.id, "vcard"),
            (other.id, "one"),
        ]
        assert (await http.get(path + "/reads", headers=bearer(other))).status_code == 403

        # the export is an admin's act
        assert (await http.get("/api/contacts.csv", headers=bearer(user))).status_code == 403
        export = await http.get("/api/contacts.csv", headers=bearer(admin))
        assert export.status_code == 200
        rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert any(row["id"] == contact["id"] for row in rows)

        # other organisations cannot create in yours; your own deletes
        mine = await http.post(
            "/api/contacts",
            json={"name": "x", "organisation_id": contact["organisation"]["id"]},
            headers=bearer(other),
        )
        assert mine.status_code == 403
        deleted = await http.request("DELETE", path, json={"version": 2}, headers=bearer(user))
        assert deleted.status_code == 200, deleted.text
        assert (await http.get(path, headers=bearer(user))).status_code == 404
        history = (await http.get(path + "/history", headers=bearer(user))).json()["changes"]
        assert history[0]["action"] == "deleted"


async def test_bad_input_is_refused_and_writes_nothing(
    hub_server: HubProcess, seed: Seeder
) -> None:
    word = unique()
    user = await owner(seed, word)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=30) as http:
        bad: list[tuple[dict[str, Any], str]] = [
            ({"name": word, "methods": [{"type": "phone", "value": "12"}]}, "invalid"),
            ({"name": word, "methods": [{"type": "email", "value": "nobody"}]}, "invalid"),
            ({"name": word, "methods": [{"type": "pager", "value": "1"}]}, "invalid"),
            ({"name": word * 30}, "too_large"),
            ({"name": word, "tags": [f"t{i}" for i in range(21)]}, "too_large"),
            ({"name": word, "methods": [{"type": "radio", "value": "1"}] * 21}, "too_large"),
            ({"name": word, "location": {"lat": 91, "lon": 4}}, "invalid"),
            ({"name": word, "disciplines": ["D9"]}, "invalid"),
            ({"name": word, "unknown": 1}, "invalid"),
            ({"name": ""}, "invalid"),
        ]
        for body, code in bad:
            response = await http.post("/api/contacts", json=body, headers=bearer(user))
            assert response.json()["error"]["code"] == code, (body, response.text)
        assert await found(http, user, q=word) == []
        contact = await add(http, user, name=f"Bon {word}")
        path = f"/api/contacts/{contact['id']}"
        response = await http.patch(
            path,
            json={"version": 1, "methods": [{"type": "fax", "value": "x"}]},
            headers=bearer(user),
        )
        assert response.json()["error"]["code"] == "invalid"
        empty = await http.patch(path, json={"version": 1}, headers=bearer(user))
        assert empty.json()["error"]["code"] == "invalid"
        history = (await http.get(path + "/history", headers=bearer(user))).json()["changes"]
        assert [c["action"] for c in history] == ["created"]
        long_query = await http.get("/api/contacts", params={"q": "a" * 201}, headers=bearer(user))
        assert long_query.json()["error"]["code"] == "too_large"
        bad_near = await http.get("/api/contacts", params={"near": "x"}, headers=bearer(user))
        assert bad_near.json()["error"]["code"] == "invalid"


def _with_org(name: str, organisation: str, tmp_path: Path) -> Path:
    raw = (DATA / name).read_bytes()
    placeholder = name.split(".")[0].upper().replace("V4", "V4") + "ORG"
    target = tmp_path / name
    target.write_bytes(raw.replace(placeholder.encode(), organisation.encode()))
    return target


async def test_vcard_and_csv_files_round_trip(
    hub_server: HubProcess, seed: Seeder, database_url: str, tmp_path: Path
) -> None:
    word = unique()
    user = await owner(seed, word)
    admin = await seed.user("admin", organisation=f"NCCN {word}", admin=True)
    organisation = user.organisation
    for name in ("outlook.vcf", "google.vcf", "ios.vcf", "v4.vcf"):
        result = await asyncio.to_thread(
            crisishub,
            database_url,
            "contacts",
            "import",
            str(_with_org(name, organisation, tmp_path)),
        )
        assert result.returncode == 0, result.stderr
    bad = await asyncio.to_thread(
        crisishub,
        database_url,
        "contacts",
        "import",
        str(_with_org("bad.vcf", organisation, tmp_path)),
    )
    assert bad.returncode == 1 and "card 2" in bad.stderr and "not a valid telephone" in bad.stderr
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=30) as http:
        results = await found(http, user, q=f"{word.capitalize()}", limit="100")
        assert sorted(names(results)) == [
            "François Lemaître",
            "Jan Van den Bossche",
            "Permanence du Gouverneur de Namur",
            "Renée Dupré",
            "Zoë Müller-Lefèvre",
        ]  # and not the bad file's first card: all or nothing
        by_name = {r["name"]: r for r in results}
        renee = (
            await http.get(f"/api/contacts/{by_name['Renée Dupré']['id']}", headers=bearer(user))
        ).json()["contact"]
        assert renee["function"] == "Officier de garde, zone de secours"
        assert [(m["type"], m["value"]) for m in renee["methods"]] == [
            ("phone", "+3222088111"),
            ("mobile", "+32470123456"),
            ("fax", "+3222088199"),
            ("email", "renee.dupre@example.brussels"),
        ]
        assert renee["note"].startswith("Joignable la nuit également, sauf le week-end")
        francois = (
            await http.get(
                f"/api/contacts/{by_name['François Lemaître']['id']}", headers=bearer(user)
            )
        ).json()["contact"]
        assert francois["methods"][0] == {
            "type": "phone",
            "value": "+3243667211",
            "label": "Permanence 24/7",
            "h24": True,
        }
        namur = by_name["Permanence du Gouverneur de Namur"]
        assert namur["kind"] == "function" and namur["location"] == {"lat": 50.4669, "lon": 4.8675}
        assert names(await found(http, user, q=f"{word} noodplanning")) == ["Jan Van den Bossche"]

        # each contact's own vCard, imported again, changes nothing
        cards = tmp_path / "again.vcf"
        texts = [
            (await http.get(f"/api/contacts/{r['id']}.vcf", headers=bearer(user))).text
            for r in results
        ]
        assert all("VERSION:4.0" in text for text in texts)
        cards.write_text("".join(texts), encoding="utf-8")
        again = await asyncio.to_thread(crisishub, database_url, "contacts", "import", str(cards))
        assert again.returncode == 0, again.stderr
        assert "0 added, 0 updated, 5 unchanged" in again.stdout

        # the CSV export, imported again, changes nothing either
        export = await http.get("/api/contacts.csv", headers=bearer(admin))
        rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
        ours = [row for row in rows if row["organisation"] == organisation]
        assert len(ours) == 5
        sheet = tmp_path / "again.csv"
        with sheet.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(ours)
        result = await asyncio.to_thread(crisishub, database_url, "contacts", "import", str(sheet))
        assert result.returncode == 0, result.stderr
        assert "0 added, 0 updated, 5 unchanged" in result.stdout
        # a bad row is named by its line, and nothing is written
        ours[1]["phone"] = "not a number"
        ours[0]["name"] = "Renamed"
        with sheet.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(ours)
        refused = await asyncio.to_thread(crisishub, database_url, "contacts", "import", str(sheet))
        assert refused.returncode == 1 and "line 3" in refused.stderr
        assert names(await found(http, user, q="renamed " + word)) == []


async def test_listed_contacts_in_the_incident_snapshot_and_replay(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    word = unique()
    user = await owner(seed, word)
    viewer = await seed.user("viewer", organisation=f"Police {word}")
    outsider = await seed.user("outsider", organisation=f"Police {word}")
    incident = await seed.incident({user: "contributor", viewer: "viewer"}, title=f"Crue {word}")
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=30) as http:
        contact = await add(
            http,
            user,
            name=f"Bourgmestre {word}",
            methods=[{"type": "phone", "value": "+3281246000"}],
        )
        watcher = await clients(hub_server, viewer)
        joined = await watcher.join(incident)
        assert joined["snapshot"]["contacts"] == []
        path = f"/api/incidents/{incident}/contacts"
        refused = await http.post(path, json={"contact_id": contact["id"]}, headers=bearer(viewer))
        assert refused.status_code == 403
        response = await http.post(path, json={"contact_id": contact["id"]}, headers=bearer(user))
        assert response.status_code == 201, response.text
        listed = response.json()["listed"]
        assert listed["contact"]["methods"][0]["value"] == "+3281246000"
        await watcher.wait_for_seq(incident, joined["seq"] + 1)
        event = watcher.incidents[incident].events[-1]
        assert event["type"] == "contact.listed" and event["data"] == listed
        # listing again lists nothing new
        twice = await http.post(path, json={"contact_id": contact["id"]}, headers=bearer(user))
        assert twice.json()["listed"] == listed

        # a new join has them in its snapshot; one with since replays the event
        late = await clients(hub_server, user)
        snapshot = (await late.join(incident))["snapshot"]
        assert snapshot["contacts"] == [listed]
        replayed = await late.request(
            "incident.join", {"incident_id": incident, "since": joined["seq"]}
        )
        assert [e["type"] for e in replayed["events"]] == ["contact.listed"]

        # members read it through the incident without a log; a non-member reads nothing
        members = await http.get(path, headers=bearer(viewer))
        assert members.json()["contacts"] == [listed]
        through = await http.get(
            f"/api/contacts/{contact['id']}", params={"incident": incident}, headers=bearer(viewer)
        )
        assert through.status_code == 200
        reads = await http.get(f"/api/contacts/{contact['id']}/reads", headers=bearer(user))
        assert reads.json()["reads"] == []
        assert (await http.get(path, headers=bearer(outsider))).status_code == 403
        sneak = await http.get(
            f"/api/contacts/{contact['id']}",
            params={"incident": incident},
            headers=bearer(outsider),
        )
        assert sneak.status_code == 403
        # a listed contact stays in the directory
        gone = await http.request(
            "DELETE", f"/api/contacts/{contact['id']}", json={"version": 1}, headers=bearer(user)
        )
        assert gone.json()["error"]["code"] == "conflict"
