"""An alert's deliveries, written into the outbox (models/outbox.py) in the transaction that
sends the CAP message: one row per recipient and channel, through the driver (aiosqlite's
executemany, asyncpg's COPY), so that an alert of 300,000 recipients is queued in seconds.
The delivery workers (hub/delivery/) drain them.

Who gets what (docs/protocol-additions.md, "Delivery (issue 13)"):
- Alert: the registrations with a place inside the area (test audience only for Exercise and
  Test), on each channel that both the alert and the registration have, in the
  registration's language, else the alert's first language.
- Update: the same for the (new) area, plus whoever was handed an earlier message of the
  alert and is no longer inside: nobody is left with instructions that changed.
- Cancel: whoever was handed an earlier message (sending, sent or delivered), and nobody
  else: someone never warned is not told that the warning is over.
- An Update or Cancel first supersedes the queued deliveries of the earlier messages (state
  failed, error "superseded by …"), so that nobody receives a cancelled alert after its
  cancel. A delivery already being handed over finishes (its lease is the worker's).

Order (`rank`, lowest first): the innermost perimeter holding one of the recipient's places
(exclusion, then isolation, then dissuasion, then none), then the distance in metres from
that place to the incident site (its first live `incident_site` anchor, else the centre of
the area): rank = tier * 10^9 + metres.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from hub.alerts.registrations import chunks, recipient_places
from hub.alerts.texts import Text, cancelled, email_message, sms_text, voice_text
from models.alert import MsgType
from models.anchor import AnchorKind
from models.events import AnchorPublic
from models.outbox import OutboxChannel, OutboxPurpose, OutboxState

# The perimeters by how close to the danger they are (lower is served first).
TIERS = {
    AnchorKind.EXCLUSION_ZONE.value: 0,
    AnchorKind.ISOLATION_ZONE.value: 1,
    AnchorKind.DISSUASION_ZONE.value: 2,
}
NO_TIER = 3
# More metres than any distance on Earth, so a tier always outranks a distance.
TIER_SPAN = 1_000_000_000
_EARTH_RADIUS_M = 6_371_008.8
CHUNK = 20_000
# Ids per IN (…) on SQLite (its limit of bound parameters is 32,766; 900 keeps old builds).
_SQLITE_IDS = 900

PERSONAL = (OutboxChannel.SMS, OutboxChannel.VOICE, OutboxChannel.EMAIL)
_COLUMNS: tuple[str, ...] = ("channel", "address", "language", "subject", "text", "purpose")
_COLUMNS += ("registration_id", "alert_id", "message_identifier", "state", "attempts", "rank")
_COLUMNS += ("next_attempt_at", "created_at", "updated_at")
_INSERT_SQLITE = (
    f"INSERT INTO outbox_message ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
# Handed over, or being handed over: the recipients an Update or a Cancel must reach.
_HANDED = (OutboxState.SENDING.value, OutboxState.SENT.value, OutboxState.DELIVERED.value)


@dataclass(frozen=True, slots=True)
class Perimeter:
    """A perimeter of the alert's area, as shapely, with its tier."""

    tier: int
    geometry: Any


@dataclass(frozen=True, slots=True)
class Recipient:
    """One delivery to plan: a registration's contact point on a channel."""

    registration_id: str
    channel: str
    address: str
    language: str
    rank: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What one CAP message of an alert sends: `info` {language: text fields} in the alert's
    order, `link(registration_id)` the unsubscribe link of a registration."""

    alert_id: str
    identifier: str
    msg_type: str
    cap_status: str
    channels: frozenset[str]
    info: dict[str, Any]
    page: str
    link: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Queued:
    """What a send wrote: deliveries queued (by channel) and queued ones superseded."""

    by_channel: dict[str, int]
    superseded: int

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())


# the order ----------------------------------------------------------------------------------


def distances_m(
    site: tuple[float, float], lons: np.ndarray[Any, Any], lats: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """Great-circle distances (haversine) in metres from site (lon, lat)."""
    lon0, lat0 = np.radians(site[0]), np.radians(site[1])
    lon1, lat1 = np.radians(lons), np.radians(lats)
    a = (
        np.sin((lat1 - lat0) / 2) ** 2
        + np.cos(lat0) * np.cos(lat1) * np.sin((lon1 - lon0) / 2) ** 2
    )
    result: np.ndarray[Any, Any] = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
    return result


def order_keys(
    ids: Sequence[str],
    lons: np.ndarray[Any, Any],
    lats: np.ndarray[Any, Any],
    perimeters: Iterable[Perimeter],
    site: tuple[float, float],
) -> dict[str, int]:
    """Each registration's rank, from the best of its places (vectorised over places)."""
    tier = np.full(len(ids), NO_TIER, dtype=np.int64)
    for perimeter in perimeters:
        inside = shapely.intersects_xy(perimeter.geometry, lons, lats)
        tier = np.where(inside & (tier > perimeter.tier), perimeter.tier, tier)
    keys = tier * TIER_SPAN + np.minimum(distances_m(site, lons, lats), TIER_SPAN - 1).astype(
        np.int64
    )
    best: dict[str, int] = {}
    for registration_id, key in zip(ids, keys.tolist(), strict=True):
        known = best.get(registration_id)
        if known is None or key < known:
            best[registration_id] = key
    return best


def site_of(anchors: Iterable[AnchorPublic], area: dict[str, Any]) -> tuple[float, float]:
    """The incident site (lon, lat): its first live anchor, else the area's centre."""
    for anchor in anchors:
        if anchor["kind"] == AnchorKind.INCIDENT_SITE.value:
            point = shapely.geometry.shape(anchor["geometry"]).representative_point()
            return float(point.x), float(point.y)
    centre = shapely.geometry.shape(area).centroid
    return float(centre.x), float(centre.y)


# the rows -----------------------------------------------------------------------------------


# Where a registration's own link goes in a text rendered once for all its readers.
_LINK = "\x00link\x00"


def render(
    plan: Plan, language: str, link: Callable[[str], str] | None = None
) -> Callable[[str, str], tuple[str | None, str]]:
    """For one language of the plan: (channel, registration_id) -> (subject, text). Each
    channel's text is rendered once, with a mark where the unsubscribe link goes, and each
    reader's is that text with their link: the texts differ by it alone."""
    link = link or plan.link
    fields = plan.info.get(language)
    if fields is None:
        language, fields = next(iter(plan.info.items()))
    text = Text(fields["headline"], fields["description"], fields["instruction"])
    if plan.msg_type == MsgType.CANCEL.value:
        text = cancelled(text, language)
    status = plan.cap_status
    sms_before, sms_after = sms_text(text, status, language, _LINK).split(_LINK)
    voice = voice_text(text, status, language)
    subject, body = email_message(text, status, language, plan.page, _LINK)
    email_before, email_after = body.split(_LINK)
    sms, voice_channel = OutboxChannel.SMS.value, OutboxChannel.VOICE.value

    def one(channel: str, registration_id: str) -> tuple[str | None, str]:
        if channel == sms:
            return None, sms_before + link(registration_id) + sms_after
        if channel == voice_channel:
            return None, voice
        return subject, email_before + link(registration_id) + email_after

    return one


def rows(plan: Plan, recipients: Iterable[Recipient], now: Any) -> list[tuple[Any, ...]]:
    """The outbox rows of the plan, in _COLUMNS order; each recipient's text in the language
    it reads (the alert's first when the alert has none in it)."""
    renderers: dict[str, Callable[[str, str], tuple[str | None, str]]] = {}
    languages: dict[str, str] = {}
    out: list[tuple[Any, ...]] = []
    # A registration's channels come together (the order's tie-break): its link (an HMAC)
    # is worked out once for all of them.
    link = functools.lru_cache(maxsize=8)(plan.link)
    purpose, queued = OutboxPurpose.ALERT.value, OutboxState.QUEUED.value
    first = next(iter(plan.info))
    for r in recipients:
        renderer = renderers.get(r.language)
        if renderer is None:
            renderer = renderers[r.language] = render(plan, r.language, link)
            languages[r.language] = r.language if r.language in plan.info else first
        subject, text = renderer(r.channel, r.registration_id)
        out.append(
            (
                r.channel,
                r.address,
                languages[r.language],
                subject,
                text,
                purpose,
                r.registration_id,
                plan.alert_id,
                plan.identifier,
                queued,
                0,
                r.rank,
                now,
                now,
                now,
            )
        )
    return out


# the reads and writes (the caller's transaction, through its driver connection) --------------


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite DateTime text, which UTCDateTime reads back as UTC.
    return value.isoformat(" ", "microseconds")[:26]


async def _fetch(driver: Any, sqlite: bool, sql: str, *args: Any) -> list[Any]:
    if sqlite:
        return list(await driver.execute_fetchall(sql, args))
    return list(await driver.fetch(sql.replace("?", "${}").format(*range(1, len(args) + 1)), *args))


async def contacts(driver: Any, sqlite: bool, ids: Sequence[str]) -> list[Any]:
    """(id, language, sms, voice, email) of the registrations."""
    if not sqlite:
        return list(
            await driver.fetch(
                "SELECT id, language, sms, voice, email FROM registration"
                " WHERE id = ANY($1::varchar[])",
                list(ids),
            )
        )
    found: list[Any] = []
    for start in range(0, len(ids), _SQLITE_IDS):
        batch = ids[start : start + _SQLITE_IDS]
        marks = ", ".join("?" for _ in batch)
        found.extend(
            await driver.execute_fetchall(
                f"SELECT id, language, sms, voice, email FROM registration WHERE id IN ({marks})",
                tuple(batch),
            )
        )
    return found


async def area_recipients(
    driver: Any,
    sqlite: bool,
    geometry: dict[str, Any],
    *,
    test_only: bool,
    channels: frozenset[str],
    perimeters: Sequence[Perimeter],
    site: tuple[float, float],
) -> list[Recipient]:
    """One Recipient per registration inside the area and channel it shares with the alert."""
    ids, lons, lats = await recipient_places(driver, sqlite, geometry, test_only=test_only)
    ranks = order_keys(ids, lons, lats, perimeters, site)
    found: list[Recipient] = []
    for registration_id, language, sms, voice, email in await contacts(driver, sqlite, list(ranks)):
        rank = ranks[registration_id]
        for channel, address in (("sms", sms), ("voice", voice), ("email", email)):
            if address and channel in channels:
                found.append(Recipient(registration_id, channel, address, language, rank))
    return found


async def supersede(
    driver: Any, sqlite: bool, alert_id: str, identifier: str, msg_type: str, now: datetime
) -> int:
    """The alert's queued deliveries, of its earlier messages, marked failed as superseded."""
    error = f"superseded by {msg_type} {identifier} before it was handed over"
    if sqlite:
        cursor = await driver.execute(
            "UPDATE outbox_message SET state = ?, error = ?, updated_at = ?"
            " WHERE alert_id = ? AND state = ?",
            (OutboxState.FAILED.value, error, _sqlite_time(now), alert_id, "queued"),
        )
        return int(cursor.rowcount)
    status: str = await driver.execute(
        "UPDATE outbox_message SET state = $1, error = $2, updated_at = $3"
        " WHERE alert_id = $4 AND state = $5",
        OutboxState.FAILED.value,
        error,
        now,
        alert_id,
        "queued",
    )
    return int(status.split()[-1])


async def handed(driver: Any, sqlite: bool, alert_id: str, channels: frozenset[str]) -> list[Any]:
    """Who was handed an earlier message of the alert: one Recipient per registration and
    channel (its latest address), among the alert's channels."""
    marks = ", ".join("?" for _ in _HANDED)
    found = await _fetch(
        driver,
        sqlite,
        "SELECT registration_id, channel, address, language, rank FROM outbox_message"
        f" WHERE alert_id = ? AND registration_id IS NOT NULL AND state IN ({marks})"
        " ORDER BY id DESC",
        alert_id,
        *_HANDED,
    )
    latest: dict[tuple[str, str], Recipient] = {}
    for registration_id, channel, address, language, rank in found:
        if channel in channels and (registration_id, channel) not in latest:
            latest[(registration_id, channel)] = Recipient(
                registration_id, channel, address, language, int(rank)
            )
    return list(latest.values())


async def write(driver: Any, sqlite: bool, records: list[tuple[Any, ...]]) -> None:
    if not records:
        return
    if sqlite:
        for batch in chunks(records, CHUNK):
            await driver.executemany(_INSERT_SQLITE, batch)
        return
    await driver.copy_records_to_table("outbox_message", records=records, columns=list(_COLUMNS))


async def queue(
    driver: Any,
    sqlite: bool,
    plan: Plan,
    *,
    geometry: dict[str, Any],
    test_only: bool,
    perimeters: Sequence[Perimeter],
    site: tuple[float, float],
    now: datetime,
) -> Queued:
    """Writes the deliveries of one CAP message of an alert (see the module's rules)."""
    superseded = 0
    if plan.msg_type != MsgType.ALERT.value:
        superseded = await supersede(
            driver, sqlite, plan.alert_id, plan.identifier, plan.msg_type, now
        )
    chosen: dict[tuple[str, str], Recipient] = {}
    if plan.msg_type != MsgType.CANCEL.value:
        for r in await area_recipients(
            driver,
            sqlite,
            geometry,
            test_only=test_only,
            channels=plan.channels,
            perimeters=perimeters,
            site=site,
        ):
            chosen[(r.registration_id, r.channel)] = r
    if plan.msg_type != MsgType.ALERT.value:
        for r in await handed(driver, sqlite, plan.alert_id, plan.channels):
            chosen.setdefault((r.registration_id, r.channel), r)
    stamp: Any = _sqlite_time(now) if sqlite else now
    ordered = sorted(chosen.values(), key=lambda r: (r.rank, r.registration_id, r.channel))
    await write(driver, sqlite, rows(plan, ordered, stamp))
    by_channel: dict[str, int] = {
        channel.value: 0 for channel in PERSONAL if channel.value in plan.channels
    }
    for r in ordered:
        by_channel[r.channel] += 1
    return Queued(by_channel, superseded)
