"""Contact search over a token table of our own (models/contact.py ContactTerm) rather than
SQLite FTS5 and PostgreSQL's tsvector: one query, the same results on both backends (FTS5 and
to_tsvector differ in tokenising, accents and ranking, and SQLite's FTS5 table is outside what
Alembic autogenerates), and each word is one B-tree range, so a prefix typed so far costs the
same as a whole word. The terms are written in the writer's transaction, so a search never sees
a contact without its terms.

A query's words must all match (in any of name, function, organisation or tags); the last word
matches as a prefix while it is being typed (no space after it). A match in the name weighs
more than one in the function, the organisation, then the tags, and results are ranked by the
sum of each word's best weight."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, cast, delete, func, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Contact, ContactTerm, Organisation
from models.contact import MAX_TOKEN_CHARS, TermKind

NAME_WEIGHT = 8
FUNCTION_WEIGHT = 4
ORGANISATION_WEIGHT = 2
TAG_WEIGHT = 1
# A query of more words is a pasted paragraph, not a search.
MAX_QUERY_WORDS = 8
MAX_QUERY_CHARS = 200

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """The normalised words of a text: accents dropped (é → e, ß → ss), case folded, split on
    anything that is neither a letter nor a digit ("Sint-Jans" → sint, jans)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return [word[:MAX_TOKEN_CHARS] for word in _WORD.findall(plain)]


def tag_key(tag: str) -> str:
    """A tag as the filter compares it: its words joined by '-' ("Seveso Site" → seveso-site)."""
    return "-".join(words(tag))[:MAX_TOKEN_CHARS]


def terms(contact: Contact, organisation: str) -> dict[tuple[str, str], int]:
    """Every (kind, token) of a contact with its weight (the best where a word recurs)."""
    found: dict[tuple[str, str], int] = {}

    def add(kind: TermKind, token: str, weight: int) -> None:
        if token:
            key = (kind.value, token)
            found[key] = max(found.get(key, 0), weight)

    for text, weight in (
        (contact.name, NAME_WEIGHT),
        (contact.function or "", FUNCTION_WEIGHT),
        (organisation, ORGANISATION_WEIGHT),
        *((tag, TAG_WEIGHT) for tag in contact.tags),
    ):
        for word in words(text):
            add(TermKind.WORD, word, weight)
    for discipline in contact.disciplines:
        add(TermKind.DISCIPLINE, discipline.casefold(), 1)
    for tag in contact.tags:
        add(TermKind.TAG, tag_key(tag), 1)
    return found


async def index(session: AsyncSession, contacts: Sequence[tuple[Contact, str]]) -> None:
    """(Re)writes the terms of these contacts (each with its organisation's name)."""
    if not contacts:
        return
    ids = [contact.id for contact, _ in contacts]
    await session.execute(delete(ContactTerm).where(col(ContactTerm.contact_id).in_(ids)))
    rows = [
        {"contact_id": contact.id, "kind": kind, "token": token, "weight": weight}
        for contact, organisation in contacts
        for (kind, token), weight in terms(contact, organisation).items()
    ]
    if rows:
        await session.execute(insert(ContactTerm), rows)


async def unindex(session: AsyncSession, contact_id: str) -> None:
    await session.execute(delete(ContactTerm).where(col(ContactTerm.contact_id) == contact_id))


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float


@dataclass(frozen=True)
class Query:
    text: str = ""
    discipline: str | None = None
    tag: str | None = None
    near: Near | None = None
    # Only the records past their review date, of this organisation (None: every one's).
    overdue_of: str | None = None
    overdue: bool = False
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class Found:
    contact: Contact
    organisation: str
    distance_m: float | None


def _prefix_end(prefix: str) -> str:
    """The first token after every token starting with `prefix` (tokens are [a-z0-9])."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _word_matches(position: int, word: str, prefix: bool) -> Any:
    token = col(ContactTerm.token)
    match = (token >= word) & (token < _prefix_end(word)) if prefix else token == word
    return (
        select(
            col(ContactTerm.contact_id).label("contact_id"),
            literal(position).label("position"),
            func.max(col(ContactTerm.weight)).label("weight"),
        )
        .where(col(ContactTerm.kind) == TermKind.WORD.value, match)
        .group_by(col(ContactTerm.contact_id))
    )


def _has_term(kind: TermKind, token: str) -> Any:
    return col(Contact.id).in_(
        select(col(ContactTerm.contact_id)).where(
            col(ContactTerm.kind) == kind.value, col(ContactTerm.token) == token
        )
    )


def distance_m(lat0: float, lon0: float, lat: float, lon: float) -> float:
    """Great-circle distance (haversine), for the answer; the order uses a flat estimate."""
    p1, p2 = math.radians(lat0), math.radians(lat)
    dp, dl = p2 - p1, math.radians(lon - lon0)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(a))


async def search(session: AsyncSession, query: Query, now: datetime) -> tuple[list[Found], bool]:
    """The contacts that match, most relevant first (nearest first with `near`), and whether
    there are more after this page."""
    typed = query.text[:MAX_QUERY_CHARS]
    query_words = words(typed)[:MAX_QUERY_WORDS]
    # The last word is still being typed unless a space or punctuation follows it.
    last_is_prefix = bool(typed) and typed[-1:].isalnum()
    # Two steps: the page's ids, sorted on narrow rows, then those contacts whole. Sorting the
    # whole rows (methods and tags as JSON) of every match made a prefix on PostgreSQL sort
    # thousands of wide rows for a page of 20.
    statement = select(col(Contact.id))
    order: list[Any] = []
    if query_words:
        parts = [
            _word_matches(i, word, last_is_prefix and i == len(query_words) - 1)
            for i, word in enumerate(query_words)
        ]
        matches = union_all(*parts).subquery("matches")
        scored = (
            select(matches.c.contact_id, func.sum(matches.c.weight).label("score"))
            .group_by(matches.c.contact_id)
            # every word matched (a word matching twice still counts once: grouped above)
            .having(func.count() == len(query_words))
            .subquery("scored")
        )
        statement = statement.join(scored, scored.c.contact_id == col(Contact.id))
        order.append(scored.c.score.desc())
    if query.discipline:
        statement = statement.where(_has_term(TermKind.DISCIPLINE, query.discipline.casefold()))
    if query.tag:
        statement = statement.where(_has_term(TermKind.TAG, tag_key(query.tag)))
    if query.overdue:
        statement = statement.where(col(Contact.review_due) <= now)
        if query.overdue_of is not None:
            statement = statement.where(col(Contact.organisation_id) == query.overdue_of)
    if query.near is not None:
        scale = math.cos(math.radians(query.near.lat))
        dx = (cast(col(Contact.lon), Float) - query.near.lon) * scale
        dy = cast(col(Contact.lat), Float) - query.near.lat
        statement = statement.where(col(Contact.lat).is_not(None), col(Contact.lon).is_not(None))
        order.insert(0, dx * dx + dy * dy)
    elif query.overdue:
        order.insert(0, col(Contact.review_due))
    order += [col(Contact.name), col(Contact.id)]
    ids = list(
        await session.scalars(
            statement.order_by(*order).offset(query.offset).limit(query.limit + 1)
        )
    )
    page = ids[: query.limit]
    rows = await session.execute(
        select(Contact, col(Organisation.name))
        .join(Organisation, col(Organisation.id) == col(Contact.organisation_id))
        .where(col(Contact.id).in_(page))
    )
    by_id = {contact.id: (contact, organisation) for contact, organisation in rows}
    found = [
        Found(
            contact,
            organisation,
            None
            if query.near is None or contact.lat is None or contact.lon is None
            else round(distance_m(query.near.lat, query.near.lon, contact.lat, contact.lon)),
        )
        # (one deleted between the two reads is left out)
        for contact, organisation in (by_id[key] for key in page if key in by_id)
    ]
    return found, len(ids) > query.limit


async def organisation_names(session: AsyncSession, ids: Iterable[str]) -> dict[str, str]:
    rows = await session.execute(
        select(col(Organisation.id), col(Organisation.name)).where(
            col(Organisation.id).in_(set(ids))
        )
    )
    return {row[0]: row[1] for row in rows}
