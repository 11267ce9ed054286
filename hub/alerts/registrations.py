"""Registrations: the CSV import's parsing and validation (pure), its bulk write through the
driver (aiosqlite's executemany, asyncpg's unnest arrays) and the audience of an area.

CSV rules (docs/protocol-additions.md, "Registrations"): a header naming at least
`external_id,language,sms,voice,email,label,lat,lon` (any order; `test_audience` optional),
one row per place; rows sharing an `external_id` are one registration wherever they stand in
the file, and must agree on its contact fields; at most 5 places each; lines of at most
64 KiB. Any bad row refuses the whole file with `line N: …` (N the physical line where the
row starts, the header being line 1).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
import phonenumbers
import shapely
import shapely.geometry

from models.base import new_id
from models.limits import MAX_LABEL_CHARS
from models.registration import (
    EMAIL_CHARS,
    EXTERNAL_ID_CHARS,
    MAX_PLACES,
    Language,
)

MAX_LINE_CHARS = 65_536
COLUMNS = ("external_id", "language", "sms", "voice", "email", "label", "lat", "lon")
OPTIONAL_COLUMNS = ("test_audience",)
LANGUAGES = frozenset(language.value for language in Language)
# Simple on purpose: one @, no spaces, a dot in the domain. Delivery is the real test.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_BOOLEANS = {"true": True, "false": False, "": False}


class RefusedFile(ValueError):
    """A refused file: the message names the line."""


@dataclass(slots=True)
class Parsed:
    """One registration read from the file; places as (label, lat, lon)."""

    external_id: str
    language: str
    sms: str | None
    voice: str | None
    email: str | None
    test_audience: bool
    line: int
    places: list[tuple[str, float, float]] = field(default_factory=list)


def phone(value: str, what: str) -> str | None:
    """An E.164 number as given, None for an empty cell, ValueError otherwise."""
    if not value:
        return None
    if not value.startswith("+") or not value[1:].isdigit() or len(value) > 16:
        raise ValueError(f"{what} must be an E.164 number (+ and up to 15 digits), not {value!r}")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{what} {value!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{what} {value!r} is not a valid phone number")
    return value


def email(value: str) -> str | None:
    if not value:
        return None
    if len(value) > EMAIL_CHARS or not _EMAIL.fullmatch(value):
        raise ValueError(f"email {value[:80]!r} is not an e-mail address")
    return value


def coordinate(value: str, what: str, limit: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} must be a number, not {value[:40]!r}") from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise ValueError(f"{what} {value[:40]!r} is outside [-{limit:g}, {limit:g}]")
    return number


def _lines(stream: TextIO) -> Iterator[str]:
    """The file's physical lines, refusing one longer than MAX_LINE_CHARS by its number.
    A line is read whole before it is measured: Python's own readline bounds nothing, and
    one 2 MB line is 2 MB of memory, once."""
    for number, line in enumerate(stream, 1):
        if len(line) > MAX_LINE_CHARS:
            raise RefusedFile(f"line {number}: longer than {MAX_LINE_CHARS // 1024} KiB")
        yield line


def parse(stream: TextIO) -> dict[str, Parsed]:
    """Every registration of the file by external_id, or RefusedFile naming the first bad
    line. Nothing is cached: each number is parsed where it stands (~20 µs)."""
    reader = csv.reader(_lines(stream), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise RefusedFile("line 1: the file is empty (a header is needed)") from None
    except csv.Error as error:
        raise RefusedFile(f"line 1: {error}") from None
    names = [name.strip().lower() for name in header]
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise RefusedFile(f"line 1: the header lacks {', '.join(missing)}")
    unknown = [n for n in names if n not in COLUMNS and n not in OPTIONAL_COLUMNS]
    if unknown or len(set(names)) != len(names):
        raise RefusedFile(f"line 1: unknown or repeated columns: {', '.join(unknown or names)}")
    index = {name: names.index(name) for name in names}
    test_index = index.get("test_audience")
    width = len(names)
    registrations: dict[str, Parsed] = {}
    start = reader.line_num + 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row:
                continue  # a blank line
            try:
                _row(row, width, index, test_index, line, registrations)
            except ValueError as error:
                raise RefusedFile(f"line {line}: {error}") from None
    except csv.Error as error:
        raise RefusedFile(f"line {start}: {error}") from None
    except UnicodeDecodeError:
        raise RefusedFile(f"line {start}: the file is not UTF-8 text") from None
    return registrations


def _row(
    row: list[str],
    width: int,
    index: dict[str, int],
    test_index: int | None,
    line: int,
    registrations: dict[str, Parsed],
) -> None:
    if len(row) != width:
        raise ValueError(f"{len(row)} fields where the header has {width}")
    external_id = row[index["external_id"]].strip()
    if not external_id:
        raise ValueError("external_id is empty")
    if len(external_id) > EXTERNAL_ID_CHARS:
        raise ValueError(f"external_id is longer than {EXTERNAL_ID_CHARS} characters")
    language = row[index["language"]].strip().lower()
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of fr, nl, de, en, not {language[:20]!r}")
    sms = phone(row[index["sms"]].strip(), "sms")
    voice = phone(row[index["voice"]].strip(), "voice")
    mail = email(row[index["email"]].strip())
    if sms is None and voice is None and mail is None:
        raise ValueError("a registration needs at least one of sms, voice, email")
    test = row[test_index].strip().lower() if test_index is not None else ""
    if test not in _BOOLEANS:
        raise ValueError(f"test_audience must be true or false, not {test[:20]!r}")
    label = row[index["label"]].strip()
    if not label or len(label) > MAX_LABEL_CHARS or "\x00" in label:
        raise ValueError(f"label must be 1 to {MAX_LABEL_CHARS} characters")
    lat = coordinate(row[index["lat"]].strip(), "lat", 90)
    lon = coordinate(row[index["lon"]].strip(), "lon", 180)
    known = registrations.get(external_id)
    if known is None:
        known = registrations[external_id] = Parsed(
            external_id, language, sms, voice, mail, _BOOLEANS[test], line
        )
    elif (known.language, known.sms, known.voice, known.email, known.test_audience) != (
        language,
        sms,
        voice,
        mail,
        _BOOLEANS[test],
    ):
        raise ValueError(
            f"external_id {external_id!r} has other contact fields on line {known.line}"
        )
    if len(known.places) >= MAX_PLACES:
        raise ValueError(f"external_id {external_id!r} has more than {MAX_PLACES} places")
    known.places.append((label, lat, lon))


def chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# the write (one transaction, the caller's) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stored:
    """What an import did: registrations added, updated (by external_id) and removed
    (`--replace`), and how many the hub holds afterwards."""

    added: int
    updated: int
    removed: int
    total: int


CHUNK = 20_000
_REG_COLUMNS: tuple[str, ...] = ("id", "external_id", "language", "sms", "voice", "email")
_REG_COLUMNS += ("test_audience", "confirmed", "created_at")
_PLACE_COLUMNS = ("registration_id", "label", "lat", "lon")
_INSERT_REG_SQLITE = (
    f"INSERT INTO registration ({', '.join(_REG_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _REG_COLUMNS)})"
)
_INSERT_PLACE_SQLITE = "INSERT INTO registration_place (registration_id, label, lat, lon) "
_INSERT_PLACE_SQLITE += "VALUES (?, ?, ?, ?)"
_UPDATE_SQLITE = (
    "UPDATE registration SET language = ?, sms = ?, voice = ?, email = ?, test_audience = ?"
    " WHERE id = ?"
)
_UPDATE_PG = (
    "UPDATE registration AS r SET language = u.language, sms = u.sms, voice = u.voice,"
    " email = u.email, test_audience = u.test_audience FROM unnest($1::varchar[],"
    " $2::varchar[], $3::varchar[], $4::varchar[], $5::bool[], $6::varchar[])"
    " AS u(language, sms, voice, email, test_audience, id) WHERE r.id = u.id"
)


async def store(
    driver: Any, sqlite: bool, registrations: dict[str, Parsed], *, replace: bool, now: Any
) -> Stored:
    """Writes the parsed file through the session's driver connection (aiosqlite or
    asyncpg), inside the caller's transaction: a registration whose external_id is known
    has its contact fields and places replaced, the others are added; with `replace`, those
    absent from the file are deleted with their places (those without an external_id, the
    self-registrations, are never touched by an import)."""

    existing = dict(await _fetch(driver, sqlite, _EXISTING))
    updates: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    places: list[tuple[Any, ...]] = []
    created = now.isoformat(" ", "microseconds")[:26] if sqlite else now
    for external_id, r in registrations.items():
        known = existing.get(external_id)
        contact = (r.language, r.sms, r.voice, r.email, r.test_audience)
        if known is None:
            known = new_id()
            inserts.append((known, external_id, *contact, True, created))
        else:
            updates.append((*contact, known))
        places.extend((known, label, lat, lon) for label, lat, lon in r.places)
    stale = [(id_,) for id_ in (row[-1] for row in updates)]
    removed = (
        [(id_,) for ext, id_ in existing.items() if ext not in registrations] if replace else []
    )
    # Places first (they reference their registration), by the registration_id index.
    await _delete(driver, sqlite, "registration_place", "registration_id", stale + removed)
    await _delete(driver, sqlite, "registration", "id", removed)
    if sqlite:
        for batch in chunks(updates, CHUNK):
            await driver.executemany(_UPDATE_SQLITE, batch)
        for batch in chunks(inserts, CHUNK):
            await driver.executemany(_INSERT_REG_SQLITE, batch)
        for batch in chunks(places, CHUNK):
            await driver.executemany(_INSERT_PLACE_SQLITE, batch)
    else:
        for batch in chunks(updates, CHUNK):
            await driver.execute(_UPDATE_PG, *(list(column) for column in zip(*batch, strict=True)))
        if inserts:
            await driver.copy_records_to_table(
                "registration", records=inserts, columns=list(_REG_COLUMNS)
            )
        if places:
            await driver.copy_records_to_table(
                "registration_place", records=places, columns=list(_PLACE_COLUMNS)
            )
    total = (await _fetch(driver, sqlite, "SELECT count(*) FROM registration"))[0][0]
    return Stored(len(inserts), len(updates), len(removed), int(total))


_EXISTING = "SELECT external_id, id FROM registration WHERE external_id IS NOT NULL"


async def _fetch(driver: Any, sqlite: bool, sql: str, *args: Any) -> list[Any]:
    if sqlite:
        return list(await driver.execute_fetchall(sql, args))
    return list(await driver.fetch(sql.replace("?", "${}").format(*range(1, len(args) + 1)), *args))


async def _delete(
    driver: Any, sqlite: bool, table: str, column: str, ids: list[tuple[Any, ...]]
) -> None:
    if not ids:
        return
    if sqlite:
        for batch in chunks(ids, CHUNK):
            await driver.executemany(f"DELETE FROM {table} WHERE {column} = ?", batch)
        return
    for batch in chunks(ids, CHUNK):
        await driver.execute(
            f"DELETE FROM {table} WHERE {column} = ANY($1::varchar[])", [i for (i,) in batch]
        )


# the audience of an area ------------------------------------------------------------------------

_IN_BOX = (
    "SELECT p.registration_id, p.lon, p.lat, r.language, r.sms IS NOT NULL,"
    " r.voice IS NOT NULL, r.email IS NOT NULL"
    " FROM registration_place AS p JOIN registration AS r ON r.id = p.registration_id"
    " WHERE r.confirmed AND p.lat BETWEEN ? AND ? AND p.lon BETWEEN ? AND ?"
)


@dataclass(slots=True)
class Audience:
    registrations: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: {"sms": 0, "voice": 0, "email": 0})
    by_language: dict[str, int] = field(
        default_factory=lambda: {language.value: 0 for language in Language}
    )


async def audience(driver: Any, sqlite: bool, geometry: dict[str, Any]) -> Audience:
    """The confirmed registrations with at least one place in the area (its boundary
    included), each counted once: per polygon, the places in its bounding box (the (lat, lon)
    index), then shapely's vectorised exact test against the prepared area."""
    area = shapely.geometry.shape(geometry)
    shapely.prepare(area)
    parts = list(area.geoms) if isinstance(area, shapely.MultiPolygon) else [area]
    seen: dict[str, tuple[str, bool, bool, bool]] = {}
    for part in parts:
        west, south, east, north = part.bounds
        rows = await _fetch(driver, sqlite, _IN_BOX, south, north, west, east)
        if not rows:
            continue
        lons = np.fromiter((row[1] for row in rows), dtype=np.float64, count=len(rows))
        lats = np.fromiter((row[2] for row in rows), dtype=np.float64, count=len(rows))
        inside = shapely.intersects_xy(area, lons, lats)
        for position in np.flatnonzero(inside).tolist():
            row = rows[position]
            seen[row[0]] = (row[3], bool(row[4]), bool(row[5]), bool(row[6]))
    result = Audience(registrations=len(seen))
    for language, sms, voice, mail in seen.values():
        result.by_language[language] = result.by_language.get(language, 0) + 1
        result.by_channel["sms"] += sms
        result.by_channel["voice"] += voice
        result.by_channel["email"] += mail
    return result
