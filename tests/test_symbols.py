"""Vehicle symbols (issue 16) against a live hub: an APP-6 / MIL-STD-2525 SIDC set by a manager
(REST, `crisishub device add --sidc`) or taken from a TAK device's CoT type reaches every
client in `convoy.updated` and the snapshot; a malformed one is refused and writes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.client import HubClient
from hub.convoys.symbols import sidc_of_cot
from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_tak import START, TakHub, cot, crisishub, device, tak_hub, vehicles


def api(server: HubProcess, user: TestUser) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}, timeout=15
    )


async def seq_of(http: httpx.AsyncClient, incident: str) -> int:
    answer = await http.get(f"/api/incidents/{incident}")
    return int(answer.json()["incident"]["last_seq"])


def vehicle_in(client: HubClient, incident: str, vehicle_id: str) -> dict[str, Any] | None:
    """The vehicle as the last convoy.updated event this client received has it."""
    for event in reversed(client.incidents[incident].events):
        if event["type"] == "convoy.updated":
            for vehicle in event["data"]["vehicles"]:
                if vehicle["id"] == vehicle_id:
                    return dict(vehicle)
    return None


def test_cot_types_map_to_2525c_sidcs() -> None:
    assert sidc_of_cot("a-f-G-U-C-I") == "SFGPUCI--------"  # friendly infantry
    assert sidc_of_cot("a-h-A") == "SHAP-----------"  # hostile air
    assert sidc_of_cot("a-n-G-E-V-A-A") == "SNGPEVAA-------"  # neutral armoured vehicle
    assert sidc_of_cot("a-o-G") == "SUGP-----------"  # no affiliation: drawn as unknown
    for no_symbol in ("b-m-p-s-p-i", "a-f", "a-f-Q-U", "a-z-G", "a-f-G-UC", "t-x-c-t"):
        assert sidc_of_cot(no_symbol) is None, no_symbol


async def test_a_manager_sets_a_vehicles_symbol_and_every_client_sees_it(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    manager = await seed.user("convoy-lead", discipline="D3")
    gis = await seed.user("gis")
    incident = await seed.incident({manager: "manager", gis: "contributor"})
    watcher = await clients(hub_server, gis)
    await watcher.join(incident)
    async with api(hub_server, manager) as http, api(hub_server, gis) as other:
        convoy = (
            await http.post(f"/api/incidents/{incident}/convoys", json={"name": "Escorte"})
        ).json()["convoy"]
        vehicles_path = f"/api/incidents/{incident}/convoys/{convoy['id']}/vehicles"
        before = await seq_of(http, incident)
        for sidc in ("SFGPXUCI", "QFGPUCI----D---", "SFGPUCI----D---X", "1003100000" * 2 + "1"):
            refused = await http.post(vehicles_path, json={"label": "Moto 1", "sidc": sidc})
            assert refused.status_code == 400, refused.text
            assert "a SIDC is 15 characters" in refused.json()["error"]["message"], sidc
        assert await seq_of(http, incident) == before

        made = await http.post(vehicles_path, json={"label": "Moto 1", "sidc": "sfgpuci----d---"})
        assert made.status_code == 201, made.text
        vehicle = made.json()["vehicle"]
        assert vehicle["sidc"] == "SFGPUCI----D---"  # stored in upper case
        plain = (await http.post(vehicles_path, json={"label": "Van"})).json()["vehicle"]
        assert plain["sidc"] is None

        path = f"/api/incidents/{incident}/vehicles/{vehicle['id']}"
        forbidden = await other.patch(path, json={"sidc": "SFGPUCVRA------"})
        assert forbidden.status_code == 403, forbidden.text
        nothing = await http.patch(path, json={})
        assert nothing.status_code == 400, nothing.text
        # 2525D's 20 digits: a friendly ground vehicle (land equipment).
        changed = await http.patch(path, json={"sidc": "10031500001201000000"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["vehicle"]["sidc"] == "10031500001201000000"
        await watcher.wait_for_seq(incident, await seq_of(http, incident))
        seen = vehicle_in(watcher, incident, vehicle["id"])
        assert seen is not None and seen["sidc"] == "10031500001201000000"

        listed = (await http.get(f"/api/incidents/{incident}/convoys")).json()["convoys"]
        by_id = {v["id"]: v for c in listed for v in c["vehicles"]}
        assert by_id[vehicle["id"]]["sidc"] == "10031500001201000000"
        assert by_id[plain["id"]]["sidc"] is None

        cleared = await http.patch(path, json={"sidc": None, "label": "Moto 1 (BRU)"})
        assert cleared.json()["vehicle"] == {**cleared.json()["vehicle"], "sidc": None}
        assert cleared.json()["vehicle"]["label"] == "Moto 1 (BRU)"
        missing = await http.patch(f"/api/incidents/{incident}/vehicles/nope", json={"sidc": None})
        assert missing.status_code == 404, missing.text
    late = await clients(hub_server, gis)
    joined = await late.join(incident)
    [snap_convoy] = joined["snapshot"]["convoys"]
    assert {v["label"]: v["sidc"] for v in snap_convoy["vehicles"]} == {
        "Moto 1 (BRU)": None,
        "Van": None,
    }


async def test_device_add_takes_a_sidc_and_refuses_a_bad_one_writing_nothing(
    hub_server: HubProcess, seed: Seeder, database_url: str
) -> None:
    manager = await seed.user("convoy-lead")
    incident = await seed.incident({manager: "manager"})
    bad = await asyncio.to_thread(
        crisishub, database_url, "device", "add", incident, "Moto", "--sidc", "SFG"
    )
    assert bad.returncode != 0
    assert "a SIDC is 15 characters" in bad.stderr
    async with api(hub_server, manager) as http:
        assert (await http.get(f"/api/incidents/{incident}/convoys")).json()["convoys"] == []
    good = await asyncio.to_thread(
        crisishub,
        database_url,
        "device",
        "add",
        incident,
        "Moto",
        "--convoy",
        "Escorte",
        "--sidc",
        "SFGPUCI----D---",
    )
    assert good.returncode == 0, good.stderr
    async with api(hub_server, manager) as http:
        [convoy] = (await http.get(f"/api/incidents/{incident}/convoys")).json()["convoys"]
    assert [v["sidc"] for v in convoy["vehicles"]] == ["SFGPUCI----D---"]


@pytest.fixture(scope="module")
def tak(database_url: str, logs: Path) -> Iterator[TakHub]:
    server = tak_hub(database_url, logs, None)
    yield server
    server.process.stop()


async def test_a_tak_device_is_drawn_with_its_cot_types_symbol_unless_one_is_set(
    tak: TakHub, seed: Seeder, database_url: str, clients: Clients
) -> None:
    manager = await seed.user("tak-manager")
    incident = await seed.incident({manager: "manager"}, kind="event")
    plain_uid, set_uid = (f"ANDROID-{uuid.uuid4().hex[:16]}" for _ in range(2))
    for label, uid, extra in (
        ("Team 1", plain_uid, []),
        ("Team 2", set_uid, ["--sidc", "SFGPUCVRA------"]),
    ):
        result = await asyncio.to_thread(
            crisishub,
            database_url,
            "device",
            "add",
            incident,
            label,
            "--convoy",
            "TAK",
            "--tak-uid",
            uid,
            *extra,
        )
        assert result.returncode == 0, result.stderr
    ids = await vehicles(tak.process, manager, incident)
    watcher = await clients(tak.process, manager)
    await watcher.join(incident)
    async with device(f"tcp://127.0.0.1:{tak.cot_port}", plain_uid) as one:
        async with device(f"tcp://127.0.0.1:{tak.cot_port}", set_uid) as two:
            # An armoured vehicle and a recce team, as their ATAK users picked them.
            await one.tx.send_data(cot(plain_uid, *START, kind="a-f-G-E-V-A"))
            await two.tx.send_data(cot(set_uid, START[0] + 0.001, START[1], kind="a-f-G-U-C-R"))
            for _ in range(200):
                seen = vehicle_in(watcher, incident, ids["Team 1"])
                if seen is not None and seen["sidc"] is not None:
                    break
                await asyncio.sleep(0.05)
            await one.tx.send_data(cot(plain_uid, START[0] - 0.001, START[1], kind="a-f-G-U-C"))
            async with api(tak.process, manager) as http:
                for _ in range(200):
                    listed = (await http.get(f"/api/incidents/{incident}/convoys")).json()
                    track = await http.get(f"/api/vehicles/{ids['Team 1']}/track")
                    if len(track.json()["geometry"]["coordinates"]) == 2:
                        break
                    await asyncio.sleep(0.05)
    by_label = {v["label"]: v["sidc"] for c in listed["convoys"] for v in c["vehicles"]}
    # Its first event's type gives Team 1 its symbol, once; Team 2 keeps the manager's.
    assert by_label == {"Team 1": "SFGPEVA--------", "Team 2": "SFGPUCVRA------"}
    updates = [e for e in watcher.incidents[incident].events if e["type"] == "convoy.updated"]
    assert len(updates) == 1, updates
