"""The registrations CSV's parsing and validation (hub/alerts/registrations.py), no database;
its write and the selection of an area's audience on a real SQLite file."""

from __future__ import annotations

import io
import random
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import shapely
import shapely.geometry

from hub.alerts.registrations import (
    RefusedFile,
    audience,
    coordinate,
    email,
    parse,
    phone,
    recipients,
    store,
)
from models.registration import CHANNEL_BITS, channel_bits
from tests.live import migrate

HEADER = "external_id,language,sms,voice,email,label,lat,lon\n"


def parsed(text: str) -> dict[str, object]:
    return dict(parse(io.StringIO(text, newline="")))


def refusal(text: str) -> str:
    with pytest.raises(RefusedFile) as error:
        parse(io.StringIO(text, newline=""))
    return str(error.value)


def test_rows_of_one_external_id_are_one_registration_adjacent_or_not() -> None:
    result = parse(
        io.StringIO(
            HEADER + "a,fr,+32470123456,,,home,50.8,4.3\n"
            "b,NL,,+3225551234,b@example.be,home,51,4\n"
            '"a",fr,+32470123456,,,"work, floor 2",50.9,4.4\n',
            newline="",
        )
    )
    assert list(result) == ["a", "b"]
    assert result["a"].places == [("home", 50.8, 4.3), ("work, floor 2", 50.9, 4.4)]
    assert result["b"].language == "nl" and result["b"].email == "b@example.be"
    assert result["a"].test_audience is False


def test_columns_may_come_in_any_order_with_test_audience() -> None:
    text = "lat,lon,label,email,voice,sms,language,external_id,test_audience\n"
    text += "50,4,home,,,+32470123456,de,x,true\n"
    assert parse(io.StringIO(text, newline=""))["x"].test_audience is True


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a,es,+32470123456,,,home,50,4", "line 2: language must be one of"),
        ("a,fr,+32 470 12 34 56,,,home,50,4", "line 2: sms must be an E.164"),
        ("a,fr,,+999123,,home,50,4", "line 2: voice '+999123' is not"),
        ("a,fr,,,not-an-address,home,50,4", "line 2: email"),
        ("a,fr,,,,home,50,4", "line 2: a registration needs at least one of"),
        ("a,fr,+32470123456,,,home,-90.5,4", "line 2: lat '-90.5' is outside"),
        ("a,fr,+32470123456,,,home,50,inf", "line 2: lon 'inf' is outside"),
        ("a,fr,+32470123456,,,home,50,east", "line 2: lon must be a number"),
        ("a,fr,+32470123456,,,,50,4", "line 2: label must be"),
        (",fr,+32470123456,,,home,50,4", "line 2: external_id is empty"),
        ("a,fr,+32470123456,,,home,50", "line 2: 7 fields where the header has 8"),
    ],
)
def test_a_bad_row_is_named_by_its_line(row: str, message: str) -> None:
    assert refusal(HEADER + row + "\n").startswith(message)


def test_the_line_number_counts_quoted_newlines_and_blank_lines() -> None:
    text = HEADER + 'a,fr,+32470123456,,,"two\nlines",50,4\n\nb,xx,,,b@example.be,home,50,4\n'
    assert refusal(text).startswith("line 5: language")


def test_six_places_long_lines_and_disagreeing_rows_are_refused() -> None:
    six = "".join(f"a,fr,+32470123456,,,p{i},50,4\n" for i in range(6))
    assert refusal(HEADER + six) == "line 7: external_id 'a' has more than 5 places"
    long = HEADER + "a,fr,+32470123456,,," + "x" * 70_000 + ",50,4\n"
    assert refusal(long) == "line 2: longer than 64 KiB"
    clash = HEADER + "a,fr,+32470123456,,,home,50,4\na,nl,+32470123456,,,work,50,4\n"
    assert refusal(clash) == "line 3: external_id 'a' has other contact fields on line 2"


def test_the_header_is_checked() -> None:
    assert refusal("") == "line 1: the file is empty (a header is needed)"
    assert refusal("external_id,language\n").startswith("line 1: the header lacks sms")
    assert refusal(HEADER.strip() + ",colour\n").startswith("line 1: unknown or repeated")


def test_field_validators() -> None:
    assert phone("+32470123456", "sms") == "+32470123456"
    assert phone("", "sms") is None
    with pytest.raises(ValueError):
        phone("+324701234567890123", "sms")
    assert email("a.b@example.be") == "a.b@example.be"
    with pytest.raises(ValueError):
        email("a@b")
    assert coordinate("-180", "lon", 180) == -180.0
    with pytest.raises(ValueError):
        coordinate("NaN", "lat", 90)
    assert parsed(HEADER) == {}


# the audience of an area, on a real SQLite file (aiosqlite, as the hub reads it) -----------


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the migrations' head, copied by each test."""
    path = tmp_path_factory.mktemp("registrations") / "migrated.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
async def driver(migrated: Path, tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    path = tmp_path / "registrations.db"
    shutil.copy(migrated, path)
    async with aiosqlite.connect(path) as connection:
        yield connection


PLACES = "registration_place"
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def polygon(*points: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in (*points, points[0])]]}


# An L: the square lon 0..2, lat 0..2 without its north-east quarter.
L_SHAPE = polygon((0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2))


async def test_an_area_counts_each_registration_once_inside_or_on_its_boundary(
    driver: aiosqlite.Connection,
) -> None:
    text = HEADER.strip() + ",test_audience\n"
    text += "inside,fr,+32470123456,,,home,0.5,0.5,true\n"
    text += "inside,fr,+32470123456,,,work,0.5,1.5,true\n"  # both places inside: once
    text += "vertex,nl,,+3225551234,,home,1,1,\n"  # the L's inner corner
    text += "edge,de,,,e@example.be,home,1.5,1,\n"  # on the inner edge
    text += "notch,en,+32470123457,,e2@example.be,home,1.5,1.5,true\n"  # the missing quarter
    text += "notch,en,+32470123457,,e2@example.be,away,5,5,true\n"
    text += "split,fr,+32470123458,,,home,1.5,1.5,\n"  # outside, but its other place is in
    text += "split,fr,+32470123458,,,work,0.1,1.9,\n"
    text += "pending,fr,+32470123459,,,home,0.2,0.2,true\n"
    await store(driver, True, parse(io.StringIO(text, newline="")), replace=False, now=NOW)
    # a registration not yet confirmed (as the public pages will leave one), copies included
    for table, column in (("registration", "external_id"), (PLACES, "registration_id")):
        await driver.execute(
            f"UPDATE {table} SET confirmed = 0 WHERE {column} = "
            + ("'pending'" if table == "registration" else _ID_OF_PENDING)
        )
    result = await audience(driver, True, L_SHAPE)
    assert result.registrations == 4
    assert result.by_channel == {"sms": 2, "voice": 1, "email": 1}
    assert result.by_language == {"fr": 2, "nl": 1, "de": 1, "en": 0}
    test = await audience(driver, True, L_SHAPE, test_only=True)
    assert (test.registrations, test.by_language["fr"]) == (1, 1)
    ids = await recipients(driver, True, L_SHAPE, test_only=False)
    assert sorted(ids) == sorted(await _ids(driver, "inside", "vertex", "edge", "split"))
    assert await recipients(driver, True, L_SHAPE, test_only=True) == await _ids(driver, "inside")


_ID_OF_PENDING = "(SELECT id FROM registration WHERE external_id = 'pending')"


async def _ids(driver: aiosqlite.Connection, *external_ids: str) -> list[str]:
    marks = ", ".join("?" for _ in external_ids)
    sql = f"SELECT id FROM registration WHERE external_id IN ({marks})"
    return [row[0] for row in await driver.execute_fetchall(sql, external_ids)]


async def test_an_update_rewrites_the_copies_of_its_places(driver: aiosqlite.Connection) -> None:
    first = HEADER + "a,fr,+32470123456,,,home,0.5,0.5\na,fr,+32470123456,,,work,0.6,0.6\n"
    await store(driver, True, parse(io.StringIO(first, newline="")), replace=False, now=NOW)
    second = HEADER + "a,de,,,a@example.be,home,0.5,0.5\n"
    stored = await store(
        driver, True, parse(io.StringIO(second, newline="")), replace=False, now=NOW
    )
    assert (stored.added, stored.updated) == (0, 1)
    rows = await driver.execute_fetchall(
        f"SELECT language, channels, confirmed, test_audience, shared_key FROM {PLACES}"
    )
    assert [tuple(row) for row in rows] == [("de", CHANNEL_BITS["email"], 1, 0, None)]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_counts_and_recipients_agree_with_a_point_by_point_test(
    driver: aiosqlite.Connection, seed: int
) -> None:
    """Places on a lattice (so that many lie on the area's edges and vertices and on the
    cells' lines), registrations of 1 to 3 places; the expected answer is shapely's test of
    every place, deduplicated by registration in Python."""
    rng = random.Random(seed)
    lines = [HEADER.strip() + ",test_audience"]
    places: dict[str, list[tuple[float, float]]] = {}
    languages = ("fr", "nl", "de", "en")
    attributes: dict[str, tuple[str, int, bool]] = {}
    for n in range(600):
        name = f"r{n}"
        language, test = languages[n % 4], n % 3 == 0
        sms, voice = ("+32470123456", "") if n % 2 else ("", "+3225551234")
        mail = "m@example.be" if n % 5 else ""
        attributes[name] = (language, channel_bits(sms, voice, mail), test)
        for place in range(rng.choice((1, 1, 2, 3))):
            lon, lat = rng.randint(-2, 42) / 20, rng.randint(-2, 42) / 20
            places.setdefault(name, []).append((lon, lat))
            row = f"{name},{language},{sms},{voice},{mail},p{place},{lat},{lon},{test}"
            lines.append(row.lower())
    text = "\n".join(lines) + "\n"
    await store(driver, True, parse(io.StringIO(text, newline="")), replace=False, now=NOW)
    star = polygon(
        (1, 0),
        (1.3, 0.7),
        (2, 0.8),
        (1.45, 1.2),
        (1.7, 2),
        (1, 1.5),
        (0.3, 2),
        (0.55, 1.2),
        (0, 0.8),
        (0.7, 0.7),
    )
    hole = {
        "type": "Polygon",
        "coordinates": [
            [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]],
            [[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 1.5], [0.5, 0.5]],
        ],
    }
    multi = {
        "type": "MultiPolygon",
        "coordinates": [
            L_SHAPE["coordinates"],
            polygon((1.5, 1.5), (2, 1.5), (2, 2))["coordinates"],
        ],
    }
    for geometry in (star, hole, multi, L_SHAPE):
        area = shapely.geometry.shape(geometry)
        for test_only in (False, True):
            expected = {
                name
                for name, points in places.items()
                if (attributes[name][2] or not test_only)
                and any(area.intersects(shapely.Point(lon, lat)) for lon, lat in points)
            }
            ids = await recipients(driver, True, geometry, test_only=test_only)
            assert len(ids) == len(set(ids))
            assert set(ids) == set(await _ids(driver, *expected)) if expected else ids == []
            result = await audience(driver, True, geometry, test_only=test_only)
            assert result.registrations == len(expected)
            assert result.by_language == {
                code: sum(attributes[name][0] == code for name in expected) for code in languages
            }
            assert result.by_channel == {
                channel: sum(bool(attributes[name][1] & bit) for name in expected)
                for channel, bit in CHANNEL_BITS.items()
            }
