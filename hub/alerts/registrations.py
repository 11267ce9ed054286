"""Registrations: the CSV import's parsing and validation (pure), its bulk write through the
driver (aiosqlite's executemany, asyncpg's COPY) and the audience of an area (its count, and
the ids of its recipients), read from registration_place alone.

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
    CHANNEL_BITS,
    EMAIL_CHARS,
    EXTERNAL_ID_CHARS,
    MAX_PLACES,
    Language,
    channel_bits,
    lat_band,
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
_PLACE_COLUMNS: tuple[str, ...] = ("registration_id", "label", "lat", "lon", "band")
_PLACE_COLUMNS += ("language", "channels", "confirmed", "test_audience", "shared_key")
_INSERT_REG_SQLITE = (
    f"INSERT INTO registration ({', '.join(_REG_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _REG_COLUMNS)})"
)
_INSERT_PLACE_SQLITE = (
    f"INSERT INTO registration_place ({', '.join(_PLACE_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _PLACE_COLUMNS)})"
)
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
# Serialises the writers that number shared places on PostgreSQL (SQLite has one writer).
_SHARED_KEY_LOCK = 7_300_112
_MAX_SHARED_KEY = "SELECT coalesce(max(shared_key), 0) FROM registration_place"


async def next_shared_key(driver: Any, sqlite: bool) -> int:
    """The first free RegistrationPlace.shared_key, inside the caller's transaction, which
    holds it until its commit (SQLite's write lock; an advisory lock on PostgreSQL): a writer
    giving a registration several places numbers them from here."""
    if not sqlite:
        await driver.execute(f"SELECT pg_advisory_xact_lock({_SHARED_KEY_LOCK})")
    return int((await _fetch(driver, sqlite, _MAX_SHARED_KEY))[0][0]) + 1


# SQLite's page cache during an import, in KiB: its inserts land all over the covering index
# and the registration ids' b-tree (the foreign key check), which the default 2 MB cannot hold.
IMPORT_CACHE_KIB = 256 * 1024


async def store(
    driver: Any, sqlite: bool, registrations: dict[str, Parsed], *, replace: bool, now: Any
) -> Stored:
    """Writes the parsed file through the session's driver connection (aiosqlite or
    asyncpg), inside the caller's transaction: a registration whose external_id is known
    has its contact fields and places replaced, the others are added; with `replace`, those
    absent from the file are deleted with their places (those without an external_id, the
    self-registrations, are never touched by an import). Every place written carries its
    registration's audience fields (RegistrationPlace), so an update rewrites their copies.
    On SQLite the page cache is IMPORT_CACHE_KIB for its duration."""
    if not sqlite:
        return await _store(driver, sqlite, registrations, replace=replace, now=now)
    # The connection goes back to the pool afterwards, with its own cache size.
    previous = int((await _fetch(driver, True, "PRAGMA cache_size"))[0][0])
    await driver.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        return await _store(driver, sqlite, registrations, replace=replace, now=now)
    finally:
        await driver.execute(f"PRAGMA cache_size = {previous}")


async def _store(
    driver: Any, sqlite: bool, registrations: dict[str, Parsed], *, replace: bool, now: Any
) -> Stored:
    existing = {ext: (id_, bool(ok)) for ext, id_, ok in await _fetch(driver, sqlite, _EXISTING)}
    updates: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    places: list[tuple[Any, ...]] = []
    created = now.isoformat(" ", "microseconds")[:26] if sqlite else now
    # Registrations of several places get fresh keys: the places of those updated are
    # rewritten here, so their old keys go with them.
    shared_key = await next_shared_key(driver, sqlite)
    for external_id, r in registrations.items():
        known = existing.get(external_id)
        contact = (r.language, r.sms, r.voice, r.email, r.test_audience)
        if known is None:
            id_, confirmed = new_id(), True
            inserts.append((id_, external_id, *contact, confirmed, created))
        else:
            id_, confirmed = known
            updates.append((*contact, id_))
        key: int | None = None
        if len(r.places) > 1:
            key, shared_key = shared_key, shared_key + 1
        channels = channel_bits(r.sms, r.voice, r.email)
        copies = (r.language, channels, confirmed, r.test_audience, key)
        places.extend(
            (id_, label, lat, lon, lat_band(lat), *copies) for label, lat, lon in r.places
        )
    stale = [(id_,) for id_ in (row[-1] for row in updates)]
    removed = (
        [(id_,) for ext, (id_, _) in existing.items() if ext not in registrations]
        if replace
        else []
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


_EXISTING = "SELECT external_id, id, confirmed FROM registration WHERE external_id IS NOT NULL"


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
#
# The area's bounding box is cut into GRID by GRID cells, each classified by shapely against the
# area: inside (the closed cell is covered by the area, so every place in it is inside, the
# boundary included), outside (disjoint), or on the edge. Consecutive cells of a kind are
# merged into rectangles, and each rectangle is one range scan of the covering index
# ix_registration_place_audience, on registration_place alone. Inside rectangles are counted
# by the database; only the places of edge rectangles come back with their coordinates, for
# shapely's vectorised exact test. A rectangle is read band by band (RegistrationPlace.band,
# the index's first column), each band a seek on its longitudes. Cells are half-open
# ([south, north) by [west, east), closed at the box's north and east), so every place in the
# box lies in exactly one rectangle.
#
# Each registration is counted once: a sole place (shared_key NULL) is its registration, so
# the database counts those; places of registrations with several places come back as one
# integer each (shared_key, channels and language packed), deduplicated by numpy.

GRID = 32
# Rectangles per statement: one SELECT each, joined by UNION ALL (SQLite allows 500).
_RECTANGLES_PER_QUERY = 100
_LANGUAGES = tuple(language.value for language in Language)
# A place's audience fields as 5 bits: channels (3 bits, CHANNEL_BITS) then the language.
_LANGUAGE_INDEX = (
    "CASE language "
    + " ".join(f"WHEN '{code}' THEN {i}" for i, code in enumerate(_LANGUAGES))
    + " ELSE 0 END"
)
_CODE = f"channels * 4 + {_LANGUAGE_INDEX}"
_CODES = 32
_SOLE_SUMS = ", ".join(
    ["count(*)"]
    + [f"sum((channels & {bit}) / {bit})" for bit in CHANNEL_BITS.values()]
    + [f"sum(CASE WHEN language = '{code}' THEN 1 ELSE 0 END)" for code in _LANGUAGES]
)

# south, north, west, east, and whether north and east are included
Rectangle = tuple[float, float, float, float, bool, bool]


@dataclass(slots=True)
class Audience:
    registrations: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: {"sms": 0, "voice": 0, "email": 0})
    by_language: dict[str, int] = field(
        default_factory=lambda: {language.value: 0 for language in Language}
    )

    def add_sums(self, row: Any) -> None:
        """A row of _SOLE_SUMS (None for sums over no place)."""
        values = [int(value or 0) for value in row]
        self.registrations += values[0]
        for name, value in zip(CHANNEL_BITS, values[1:4], strict=True):
            self.by_channel[name] += value
        for code, value in zip(_LANGUAGES, values[4:], strict=True):
            self.by_language[code] += value

    def add_codes(self, codes: np.ndarray[Any, Any]) -> None:
        """Registrations given as their 5-bit _CODE each."""
        for code, n in enumerate(np.bincount(codes, minlength=_CODES).tolist()):
            if n:
                self.registrations += n
                channels = code >> 2
                for name, bit in CHANNEL_BITS.items():
                    if channels & bit:
                        self.by_channel[name] += n
                self.by_language[_LANGUAGES[code & 3]] += n


@dataclass(frozen=True, slots=True)
class Selection:
    """An area cut into rectangles: `inside` ones hold only places inside it, `edge` ones
    need the exact test (`contains`)."""

    area: Any
    where: str
    inside: list[Rectangle]
    edge: list[Rectangle]

    def contains(self, lons: np.ndarray[Any, Any], lats: np.ndarray[Any, Any]) -> Any:
        return shapely.intersects_xy(self.area, lons, lats)


def selection(geometry: dict[str, Any], *, test_only: bool) -> Selection:
    area = shapely.geometry.shape(geometry)
    shapely.prepare(area)
    west, south, east, north = area.bounds
    steps = np.arange(GRID + 1, dtype=np.float64) / GRID
    xs = west + (east - west) * steps
    ys = south + (north - south) * steps
    xs[-1], ys[-1] = east, north
    cells = shapely.box(xs[None, :-1], ys[:-1, None], xs[None, 1:], ys[1:, None])
    inside = shapely.covers(area, cells)
    edge = shapely.intersects(area, cells) & ~inside
    where = "confirmed AND test_audience" if test_only else "confirmed"
    return Selection(area, where, _rectangles(inside, xs, ys), _rectangles(edge, xs, ys))


def _rectangles(
    cells: np.ndarray[Any, Any], xs: np.ndarray[Any, Any], ys: np.ndarray[Any, Any]
) -> list[Rectangle]:
    """The cells (rows by latitude, columns by longitude) as few rectangles: runs of cells in
    a row, merged with the same runs of the rows above."""
    rows: list[tuple[tuple[int, int], ...]] = []
    for row in cells.tolist():
        runs: list[tuple[int, int]] = []
        for column, cell in enumerate(row):
            if cell and runs and runs[-1][1] == column:
                runs[-1] = (runs[-1][0], column + 1)
            elif cell:
                runs.append((column, column + 1))
        rows.append(tuple(runs))
    rectangles: list[Rectangle] = []
    first = 0
    for j in range(1, GRID + 1):
        if j < GRID and rows[j] == rows[first]:
            continue
        for i0, i1 in rows[first]:
            last_row, last_column = j == GRID, i1 == GRID
            rectangles.append(
                (
                    float(ys[first]),
                    float(ys[j]),
                    float(xs[i0]),
                    float(xs[i1]),
                    last_row,
                    last_column,
                )
            )
        first = j
    return rectangles


async def _in(
    driver: Any, sqlite: bool, columns: str, where: str, rectangles: list[Rectangle]
) -> list[Any]:
    """`columns` of the places matching `where` in the rectangles, UNION ALL of one range scan
    each."""
    rows: list[Any] = []
    for start in range(0, len(rectangles), _RECTANGLES_PER_QUERY):
        group = rectangles[start : start + _RECTANGLES_PER_QUERY]
        sql = " UNION ALL ".join(
            f"SELECT {columns} FROM registration_place WHERE {where}"
            f" AND band IN ({_bands(south, north)})"
            f" AND lon >= ? AND lon {'<=' if with_east else '<'} ?"
            f" AND lat >= ? AND lat {'<=' if with_north else '<'} ?"
            for south, north, _, _, with_north, with_east in group
        )
        args = [bound for s, n, w, e, *_ in group for bound in (w, e, s, n)]
        rows.extend(await _fetch(driver, sqlite, sql, *args))
    return rows


def _bands(south: float, north: float) -> str:
    """The bands a rectangle crosses, as SQL: integers the hub computed, never input text."""
    return ", ".join(str(band) for band in range(lat_band(south), lat_band(north) + 1))


def _column(rows: list[Any], index: int, dtype: Any) -> np.ndarray[Any, Any]:
    return np.fromiter((row[index] for row in rows), dtype=dtype, count=len(rows))


async def audience(
    driver: Any, sqlite: bool, geometry: dict[str, Any], *, test_only: bool = False
) -> Audience:
    """The confirmed registrations (with `test_only`, those of the test audience) with at
    least one place in the area, its boundary included, each counted once, by channel and
    language."""
    cut = selection(geometry, test_only=test_only)
    result = Audience()
    sole, shared = f"{cut.where} AND shared_key IS NULL", f"{cut.where} AND shared_key IS NOT NULL"
    for row in await _in(driver, sqlite, _SOLE_SUMS, sole, cut.inside):
        result.add_sums(row)
    packed = [
        _column(
            await _in(driver, sqlite, f"shared_key * {_CODES} + {_CODE}", shared, cut.inside),
            0,
            np.int64,
        )
    ]
    edge = await _in(
        driver, sqlite, f"lon, lat, coalesce(shared_key, -1), {_CODE}", cut.where, cut.edge
    )
    if edge:
        inside = cut.contains(_column(edge, 0, np.float64), _column(edge, 1, np.float64))
        keys, codes = _column(edge, 2, np.int64)[inside], _column(edge, 3, np.int64)[inside]
        result.add_codes(codes[keys < 0])
        packed.append(keys[keys >= 0] * _CODES + codes[keys >= 0])
    result.add_codes(np.unique(np.concatenate(packed)) % _CODES)
    return result


async def recipients(
    driver: Any, sqlite: bool, geometry: dict[str, Any], *, test_only: bool
) -> list[str]:
    """The ids of the registrations `audience` counts, each once (in no particular order)."""
    ids, _, _ = await recipient_places(driver, sqlite, geometry, test_only=test_only)
    return list(dict.fromkeys(ids))


async def recipient_places(
    driver: Any, sqlite: bool, geometry: dict[str, Any], *, test_only: bool
) -> tuple[list[str], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The places inside the area of the registrations `audience` counts: (registration
    ids, longitudes, latitudes), one entry per place (a registration of two places inside
    comes twice), for the delivery's order (hub/alerts/outbox.py)."""
    cut = selection(geometry, test_only=test_only)
    inner = await _in(driver, sqlite, "registration_id, lon, lat", cut.where, cut.inside)
    ids = [row[0] for row in inner]
    lons, lats = [_column(inner, 1, np.float64)], [_column(inner, 2, np.float64)]
    edge = await _in(driver, sqlite, "registration_id, lon, lat", cut.where, cut.edge)
    if edge:
        edge_lons, edge_lats = _column(edge, 1, np.float64), _column(edge, 2, np.float64)
        inside = cut.contains(edge_lons, edge_lats)
        ids.extend(edge[i][0] for i in np.flatnonzero(inside).tolist())
        lons.append(edge_lons[inside])
        lats.append(edge_lats[inside])
    return ids, np.concatenate(lons), np.concatenate(lats)
