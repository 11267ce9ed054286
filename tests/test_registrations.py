"""Registrations (BE-Alert) on a real hub: the CSV import as operators run it (a subprocess),
all or nothing, and the count of an area's audience over HTTP. Each test works in an area of
its own (a band of latitude), so that the session's shared database does not mix them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from models.registration import Registration, RegistrationPlace, place_copies
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_cli import crisishub, last_line

HEADER = "external_id,language,sms,voice,email,label,lat,lon,test_audience\n"


def square(west: float, south: float, size: float = 0.1) -> dict[str, Any]:
    east, north = west + size, south + size
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def csv_file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / f"registrations-{uuid.uuid4().hex[:6]}.csv"
    path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
async def token(seed: Seeder) -> str:
    return (await seed.user("counter")).token


def count(hub: HubProcess, token: str, geometry: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{hub.url}/api/registrations/count",
        json={"geometry": geometry},
        headers={"Authorization": f"Bearer {token}"},
    )


def counted(hub: HubProcess, token: str, geometry: dict[str, Any]) -> dict[str, Any]:
    response = count(hub, token, geometry)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_import_then_count_inside_on_the_boundary_and_outside(
    database_url: str, hub_server: HubProcess, token: str, tmp_path: Path
) -> None:
    k = uuid.uuid4().hex[:6]
    # the area: lon 5.0..5.1, lat 50.0..50.1
    path = csv_file(
        tmp_path,
        f"in-{k},fr,+32470000001,,in@example.be,home,50.05,5.05,false",
        f"edge-{k},nl,,+3225550001,,home,50.05,5.1,",  # exactly on the east edge
        f"two-{k},en,+32470000002,+3225550002,,home,50.02,5.02,true",
        f"out-{k},de,+32470000003,,,home,50.05,5.2,",
        f"mixed-{k},de,,,mixed@example.be,home,50.5,5.5,",
        f"corner-{k},fr,,,corner@example.be,home,50.0,5.0,",  # the south-west corner
        f"two-{k},en,+32470000002,+3225550002,,work,50.03,5.03,true",  # not adjacent
        f"mixed-{k},de,,,mixed@example.be,school,50.09,5.09,",
    )
    result = crisishub(database_url, "registrations", "import", str(path), cwd=tmp_path)
    total = int(last_line(result))
    assert total >= 6
    assert "6 registrations in the file: 6 added" in result.stdout
    assert counted(hub_server, token, square(5.0, 50.0)) == {
        "registrations": 5,  # two counted once, out not at all
        "by_channel": {"sms": 2, "voice": 2, "email": 3},
        "by_language": {"fr": 2, "nl": 1, "de": 1, "en": 1},
    }
    # a MultiPolygon: the same square and one around `out`, far apart
    multi = {
        "type": "MultiPolygon",
        "coordinates": [square(5.0, 50.0)["coordinates"], square(5.15, 50.0)["coordinates"]],
    }
    assert counted(hub_server, token, multi)["registrations"] == 6
    assert counted(hub_server, token, square(5.3, 50.0))["registrations"] == 0
    log = hub_server.log_path.read_text()
    assert "registrations counted by counter-" in log
    assert "+32470000001" not in log and "in@example.be" not in log


async def self_registration(seed: Seeder, lat: float, lon: float) -> None:
    """A registration without external_id, as the public pages (to come) will make."""
    async with seed.hub.db.write() as session:
        registration = Registration(language="fr", email="self@example.be", confirmed=True)
        session.add(registration)
        await session.flush()
        place = RegistrationPlace(
            registration_id=registration.id,
            label="home",
            lat=lat,
            lon=lon,
            **place_copies(registration),
        )
        session.add(place)


async def test_reimport_updates_by_external_id_and_replace_deletes_the_absent(
    database_url: str, hub_server: HubProcess, token: str, tmp_path: Path, seed: Seeder
) -> None:
    k = uuid.uuid4().hex[:6]
    area = square(6.0, 51.0)
    await self_registration(seed, 51.5, 6.5)
    assert counted(hub_server, token, square(6.45, 51.45))["registrations"] == 1
    first = csv_file(
        tmp_path,
        f"a-{k},fr,+32470000011,,,home,51.05,6.05,",
        f"b-{k},nl,+32470000012,,,home,51.06,6.06,",
    )
    last_line(crisishub(database_url, "registrations", "import", str(first), cwd=tmp_path))
    assert counted(hub_server, token, area)["by_language"] == {"fr": 1, "nl": 1, "de": 0, "en": 0}
    # a moves out of the area and speaks German now; b gains an e-mail
    second = csv_file(
        tmp_path,
        f"a-{k},de,,+3225550011,,home,52.0,7.0,",
        f"b-{k},nl,+32470000012,,b@example.be,home,51.06,6.06,",
    )
    result = crisishub(database_url, "registrations", "import", str(second), cwd=tmp_path)
    assert "0 added, 2 updated, 0 removed" in result.stdout, result.stdout
    assert counted(hub_server, token, area) == {
        "registrations": 1,
        "by_channel": {"sms": 1, "voice": 0, "email": 1},
        "by_language": {"fr": 0, "nl": 1, "de": 0, "en": 0},
    }
    assert counted(hub_server, token, square(6.95, 51.95))["by_language"]["de"] == 1
    # --replace: only b is left of the imported ones, in all the hub (the session's database
    # holds the other tests' self-registrations too, which an import keeps)
    async with seed.hub.db.read() as session:
        kept = await session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(col(Registration.external_id).is_(None))
        )
    third = csv_file(tmp_path, f"b-{k},nl,+32470000012,,b@example.be,home,51.06,6.06,")
    result = crisishub(
        database_url, "registrations", "import", "--replace", str(third), cwd=tmp_path
    )
    assert last_line(result) == str(int(kept or 0) + 1)  # b, and the self-registrations
    assert "0 added, 1 updated" in result.stdout  # and every other imported one removed
    assert counted(hub_server, token, square(6.45, 51.45))["registrations"] == 1
    assert counted(hub_server, token, square(6.95, 51.95))["registrations"] == 0
    assert counted(hub_server, token, area)["registrations"] == 1


GOOD = "keep-{k},fr,+32470000021,,,home,49.55,3.55,"
CHANGED = "keep-{k},en,+32470000021,,,home,49.55,3.55,"
NEW = "new-{k},nl,,,new@example.be,home,49.56,3.56,"
BAD_ROWS = {
    "language": ("x-{k},es,+32470000022,,,home,49.5,3.5,", "line 4: language"),
    "e164": ("x-{k},fr,0470123456,,,home,49.5,3.5,", "line 4: sms must be an E.164"),
    "invalid number": ("x-{k},fr,+3200,,,home,49.5,3.5,", "line 4: sms '+3200' is not"),
    "lat": ("x-{k},fr,+32470000022,,,home,91,3.5,", "line 4: lat '91' is outside"),
    "nan": ("x-{k},fr,+32470000022,,,home,nan,3.5,", "line 4: lat 'nan' is outside"),
    "long line": ("x-{k},fr,+32470000022,,,{big},49.5,3.5,", "line 4: longer than 64 KiB"),
    "six places": ("", "line 9: external_id 'six-{k}' has more than 5 places"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_row_refuses_the_whole_file_by_its_line(
    case: str, database_url: str, hub_server: HubProcess, token: str, tmp_path: Path
) -> None:
    k = uuid.uuid4().hex[:6]
    area = square(3.5, 49.5)
    last_line(
        crisishub(
            database_url,
            "registrations",
            "import",
            str(csv_file(tmp_path, GOOD.format(k=k))),
            cwd=tmp_path,
        )
    )
    before = counted(hub_server, token, area)
    row, message = BAD_ROWS[case]
    rows = [CHANGED.format(k=k), NEW.format(k=k)]
    if case == "six places":
        rows += [f"six-{k},fr,+32470000023,,,p{i},49.5{i},3.5{i}," for i in range(6)]
    else:
        rows += [row.format(k=k, big="x" * 2_000_000), NEW.format(k=k + "b")]
    path = csv_file(tmp_path, *rows)
    result = crisishub(database_url, "registrations", "import", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert message.format(k=k) in result.stderr, result.stderr
    assert result.stderr.startswith("crisishub: invalid: ")
    assert counted(hub_server, token, area) == before  # neither the update nor the new one


def test_count_needs_a_login_and_a_closed_polygon(
    hub_server: HubProcess, token: str, database_url: str, tmp_path: Path
) -> None:
    k = uuid.uuid4().hex[:6]
    last_line(
        crisishub(
            database_url,
            "registrations",
            "import",
            str(csv_file(tmp_path, f"p-{k},fr,+32470000031,,,home,48.05,2.05,")),
            cwd=tmp_path,
        )
    )
    area = square(2.0, 48.0)
    anonymous = httpx.post(f"{hub_server.url}/api/registrations/count", json={"geometry": area})
    assert anonymous.status_code == 401
    open_ring = {"type": "Polygon", "coordinates": [area["coordinates"][0][:-1]]}
    for geometry in (
        open_ring,
        {"type": "Point", "coordinates": [2.05, 48.05]},
        {"type": "Polygon", "coordinates": [[[2, 48], [2.1, 48], [2.1, 91], [2, 48]]]},
    ):
        refused = count(hub_server, token, geometry)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "invalid"
    extra = httpx.post(
        f"{hub_server.url}/api/registrations/count",
        json={"geometry": area, "limit": 10},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert extra.status_code == 400
    assert counted(hub_server, token, area)["registrations"] == 1
    assert httpx.get(f"{hub_server.url}/api/registrations/count").status_code == 405


async def test_counts_are_rate_limited_per_user(hub_server: HubProcess, seed: Seeder) -> None:
    """A burst of counts passes, then a user hammering the count is refused (scraping the
    counts of small areas would locate households); another user still counts."""
    scraper, other = (await seed.user("scraper")).token, (await seed.user("other")).token
    area = square(2.5, 47.0, 0.01)
    burst = [count(hub_server, scraper, area).status_code for _ in range(20)]
    assert burst == [200] * 20
    # then refused as soon as the counts come faster than one every 2 s, as these do
    for _ in range(1_000):
        refused = count(hub_server, scraper, area)
        if refused.status_code != 200:
            break
    assert refused.status_code == 429, refused.text
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"].startswith(
        "too many audience counts: at most 20 at once, then one every 2 s; retry in "
    )
    assert int(refused.headers["retry-after"]) >= 1
    assert counted(hub_server, other, area)["registrations"] == 0
    assert "registrations count refused to scraper-" in hub_server.log_path.read_text()
