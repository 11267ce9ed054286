"""Emergency plans: create, version (with files, anchors and contacts), approve, find, read,
and activate in an incident. The activation is the only writer of sequenced events here: in
one transaction it creates the plan's anchors (`anchor.created`), lists its contacts
(`contact.listed`), records a `decision` in the feed and logs `plan.activated`, then emits
them in seq order after the commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shapely.geometry import shape
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_role
from hub.actions.anchors import add_anchor, live_anchors
from hub.actions.contacts import actors_by_id, list_contact, organisation_name, organisation_of
from hub.actions.feed import add_entry
from hub.auth import Principal
from hub.context import Hub
from hub.directory.search import Near
from hub.errors import HubError
from hub.eventlog import log_event, take_seq
from hub.plans.files import CheckedFile
from hub.plans.find import area_holds, bounds, box_holds, title_matches, title_words
from models import (
    AnchorKind,
    Contact,
    EntryKind,
    IncidentPlan,
    Organisation,
    Plan,
    PlanFile,
    PlanVersion,
    Priority,
    Role,
)
from models.base import iso, utcnow
from models.events import (
    ActorPublic,
    EventPublic,
    PlanActivated,
    PlanFilePublic,
    PlanPublic,
    PlanSummary,
    PlanVersionPublic,
)
from models.plan import (
    MAX_PLAN_SEARCH_LIMIT,
    PLAN_REVIEW_DAYS,
    PlanCreateIn,
    PlanUpdateIn,
    PlanVersionFieldsIn,
    VersionStatus,
)
from models.shapes import AnchorCreateIn, FeedPostIn

# The columns of a file without its bytes: what lists and version pages read.
FILE_COLUMNS = (
    col(PlanFile.id),
    col(PlanFile.version_id),
    col(PlanFile.name),
    col(PlanFile.size),
    col(PlanFile.content_type),
    col(PlanFile.sha256),
)


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str
    content_type: str
    content: bytes


# reading -----------------------------------------------------------------------------------


async def _versions_by_plan(
    session: AsyncSession, plan_ids: Sequence[str]
) -> dict[str, tuple[int | None, int | None]]:
    """Each plan's latest approved version number and latest version number."""
    if not plan_ids:
        return {}
    approved = func.max(
        case((col(PlanVersion.status) == VersionStatus.APPROVED.value, col(PlanVersion.number)))
    )
    rows = await session.execute(
        select(col(PlanVersion.plan_id), approved, func.max(col(PlanVersion.number)))
        .where(col(PlanVersion.plan_id).in_(plan_ids))
        .group_by(col(PlanVersion.plan_id))
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def _summary(plan: Plan, organisation: str, versions: tuple[int | None, int | None]) -> PlanSummary:
    return {
        "id": plan.id,
        "title": plan.title,
        "kind": plan.kind,
        "level": plan.level,
        "organisation": {"id": plan.organisation_id, "name": organisation},
        "has_area": plan.area is not None,
        "review_due": iso(plan.review_due),
        "overdue": plan.review_due <= utcnow(),
        "approved_version": versions[0],
        "latest_version": versions[1],
    }


async def _summaries(session: AsyncSession, rows: Sequence[Any]) -> list[PlanSummary]:
    """Summaries of (Plan, organisation name) rows, in their order."""
    versions = await _versions_by_plan(session, [row[0].id for row in rows])
    return [
        _summary(plan, organisation, versions.get(plan.id, (None, None)))
        for plan, organisation in rows
    ]


async def _plan_row(session: AsyncSession, plan_id: str, *, lock: bool = False) -> tuple[Plan, str]:
    statement = (
        select(Plan, col(Organisation.name))
        .join(Organisation, col(Organisation.id) == col(Plan.organisation_id))
        .where(col(Plan.id) == plan_id)
    )
    if lock:
        statement = statement.with_for_update(of=Plan)
    row = (await session.execute(statement)).first()
    if row is None:
        raise HubError("not_found", "no such plan")
    return row[0], row[1]


async def _plan_public(session: AsyncSession, plan: Plan, organisation: str) -> PlanPublic:
    versions = list(
        await session.scalars(
            select(PlanVersion)
            .where(col(PlanVersion.plan_id) == plan.id)
            .order_by(col(PlanVersion.number))
        )
    )
    files: dict[str, list[PlanFilePublic]] = {}
    if versions:
        rows = await session.execute(
            select(*FILE_COLUMNS)
            .where(col(PlanFile.version_id).in_([version.id for version in versions]))
            .order_by(col(PlanFile.created_at), col(PlanFile.name))
        )
        for file_id, version_id, name, size, content_type, sha256 in rows:
            files.setdefault(version_id, []).append(
                {
                    "id": file_id,
                    "name": name,
                    "size": size,
                    "content_type": content_type,
                    "sha256": sha256,
                }
            )
    people = {version.created_by for version in versions if version.created_by}
    people |= {version.approved_by for version in versions if version.approved_by}
    actors = await actors_by_id(session, people)
    approved = [v.number for v in versions if v.status == VersionStatus.APPROVED.value]
    summary = _summary(
        plan,
        organisation,
        (max(approved) if approved else None, versions[-1].number if versions else None),
    )
    return {
        **summary,
        "area": plan.area,
        "created_at": iso(plan.created_at),
        "updated_at": iso(plan.updated_at),
        "versions": [
            _version_public(version, files.get(version.id, []), actors) for version in versions
        ],
    }


def _version_public(
    version: PlanVersion, files: list[PlanFilePublic], actors: dict[str, ActorPublic]
) -> PlanVersionPublic:
    return {
        "number": version.number,
        "status": version.status,
        "note": version.note,
        "created_by": actors.get(version.created_by) if version.created_by else None,
        "created_at": iso(version.created_at),
        "approved_by": actors.get(version.approved_by) if version.approved_by else None,
        "approved_at": iso(version.approved_at),
        "files": files,
        "anchors": version.anchors,
        "contact_ids": list(version.contact_ids),
    }


async def read_plan(hub: Hub, principal: Principal, plan_id: str) -> PlanPublic:
    """Everyone logged in reads the plan library (plans hold no personal data; the contacts
    they name are ids, read through the directory's own rules)."""
    async with hub.db.read() as session:
        plan, organisation = await _plan_row(session, plan_id)
        return await _plan_public(session, plan, organisation)


async def search_plans(
    hub: Hub, principal: Principal, text: str, at: Near | None, limit: int
) -> list[PlanSummary]:
    """Plans whose title has every word of `text` (the last as a prefix) and, with `at`, whose
    area holds that point; by title."""
    async with hub.db.read() as session:
        return await _search(session, text, at, min(limit, MAX_PLAN_SEARCH_LIMIT))


async def _search(
    session: AsyncSession, text: str, at: Near | None, limit: int
) -> list[PlanSummary]:
    statement = (
        select(Plan, col(Organisation.name))
        .join(Organisation, col(Organisation.id) == col(Plan.organisation_id))
        .where(title_matches(text))
        .order_by(col(Plan.title), col(Plan.id))
    )
    if at is not None:
        statement = statement.where(box_holds(at.lat, at.lon))
    else:
        statement = statement.limit(limit)
    rows = (await session.execute(statement)).all()
    if at is not None:
        rows = [row for row in rows if row[0].area and area_holds(row[0].area, at.lat, at.lon)][
            :limit
        ]
    return await _summaries(session, rows)


async def read_file(hub: Hub, principal: Principal, plan_id: str, file_id: str) -> StoredFile:
    async with hub.db.read() as session:
        row = (
            await session.execute(
                select(col(PlanFile.name), col(PlanFile.content_type), col(PlanFile.content))
                .join(PlanVersion, col(PlanVersion.id) == col(PlanFile.version_id))
                .where(col(PlanFile.id) == file_id, col(PlanVersion.plan_id) == plan_id)
            )
        ).first()
    if row is None:
        raise HubError("not_found", "no such file in this plan")
    return StoredFile(row[0], row[1], bytes(row[2]))


# writing -----------------------------------------------------------------------------------


async def _require_editor(
    session: AsyncSession, principal: Principal, organisation_id: str
) -> None:
    if principal.is_admin:
        return
    if await organisation_of(session, principal.user_id) != organisation_id:
        raise HubError(
            "forbidden", "a plan is written by members of its organisation and by admins"
        )


def _set_area(plan: Plan, area: dict[str, Any] | None) -> None:
    plan.area = area
    box = bounds(area)
    plan.min_lon, plan.min_lat, plan.max_lon, plan.max_lat = box or (None, None, None, None)


async def create_plan(hub: Hub, principal: Principal, payload: PlanCreateIn) -> PlanPublic:
    hub.check_rate(principal.user_id)
    async with hub.db.write() as session:
        organisation_id = payload.organisation_id or await organisation_of(
            session, principal.user_id
        )
        await _require_editor(session, principal, organisation_id)
        organisation = await organisation_name(session, organisation_id)
        now = utcnow()
        plan = Plan(
            title=payload.title,
            title_words=title_words(payload.title),
            kind=payload.kind.value,
            level=payload.level.value,
            organisation_id=organisation_id,
            review_due=now + timedelta(days=PLAN_REVIEW_DAYS),
            created_by=principal.user_id,
            created_at=now,
            updated_at=now,
        )
        _set_area(plan, payload.area)
        session.add(plan)
        await session.flush()
        return await _plan_public(session, plan, organisation)


async def update_plan(
    hub: Hub, principal: Principal, plan_id: str, payload: PlanUpdateIn
) -> PlanPublic:
    given = payload.model_fields_set
    if not given:
        raise HubError("invalid", "nothing to change: give title, kind, level or area")
    hub.check_rate(principal.user_id)
    async with hub.db.write() as session:
        plan, organisation = await _plan_row(session, plan_id, lock=True)
        await _require_editor(session, principal, plan.organisation_id)
        if payload.title is not None:
            plan.title, plan.title_words = payload.title, title_words(payload.title)
        if payload.kind is not None:
            plan.kind = payload.kind.value
        if payload.level is not None:
            plan.level = payload.level.value
        if "area" in given:
            _set_area(plan, payload.area)
        plan.updated_at = utcnow()
        session.add(plan)
        await session.flush()
        return await _plan_public(session, plan, organisation)


async def add_version(
    hub: Hub,
    principal: Principal,
    plan_id: str,
    fields: PlanVersionFieldsIn,
    files: list[CheckedFile],
) -> PlanPublic:
    """A new draft version with its files, in one transaction: all stored or none."""
    if not files:
        raise HubError("invalid", "a version holds at least one file (the plan's PDF)")
    names = [file.name for file in files]
    if len(set(names)) != len(names):
        raise HubError("invalid", "two files of a version have the same name")
    hub.check_rate(principal.user_id)
    contact_ids = list(dict.fromkeys(fields.contact_ids))
    try:
        async with hub.db.write() as session:
            # Locked: two uploads to one plan take the next numbers one after the other.
            plan, organisation = await _plan_row(session, plan_id, lock=True)
            await _require_editor(session, principal, plan.organisation_id)
            if contact_ids:
                known = set(
                    await session.scalars(
                        select(col(Contact.id)).where(col(Contact.id).in_(contact_ids))
                    )
                )
                missing = [contact_id for contact_id in contact_ids if contact_id not in known]
                if missing:
                    raise HubError(
                        "invalid", f"contact_ids: no such contact {', '.join(missing[:5])}"
                    )
            last = await session.scalar(
                select(func.max(col(PlanVersion.number))).where(col(PlanVersion.plan_id) == plan.id)
            )
            now = utcnow()
            version = PlanVersion(
                plan_id=plan.id,
                number=(last or 0) + 1,
                anchors=fields.anchors.model_dump(mode="json", exclude_none=True),
                contact_ids=contact_ids,
                note=fields.note or None,
                created_by=principal.user_id,
                created_at=now,
            )
            session.add(version)
            await session.flush()
            for file in files:
                session.add(
                    PlanFile(
                        version_id=version.id,
                        name=file.name,
                        size=file.size,
                        content_type=file.content_type,
                        sha256=file.sha256,
                        content=file.content,
                        created_at=now,
                    )
                )
            plan.updated_at = now
            session.add(plan)
            await session.flush()
            return await _plan_public(session, plan, organisation)
    except IntegrityError:
        raise HubError("conflict", "another version was added at the same time; retry") from None


async def approve_version(hub: Hub, principal: Principal, plan_id: str, number: int) -> PlanPublic:
    """Approval makes the version the one an activation uses; approving it again changes
    nothing. An approval is the plan's review: its review date moves on."""
    hub.check_rate(principal.user_id)
    async with hub.db.write() as session:
        plan, organisation = await _plan_row(session, plan_id, lock=True)
        await _require_editor(session, principal, plan.organisation_id)
        version = await session.scalar(
            select(PlanVersion).where(
                col(PlanVersion.plan_id) == plan.id, col(PlanVersion.number) == number
            )
        )
        if version is None:
            raise HubError("not_found", f"this plan has no version {number}")
        if version.status != VersionStatus.APPROVED.value:
            now = utcnow()
            version.status = VersionStatus.APPROVED.value
            version.approved_by = principal.user_id
            version.approved_at = now
            plan.review_due = now + timedelta(days=PLAN_REVIEW_DAYS)
            plan.updated_at = now
            session.add_all([version, plan])
            await session.flush()
        return await _plan_public(session, plan, organisation)


# incidents ---------------------------------------------------------------------------------


def _activated_public(
    row: IncidentPlan, summary: PlanSummary, by: ActorPublic | None
) -> PlanActivated:
    return {
        "incident_id": row.incident_id,
        "plan": summary,
        "version": row.version,
        "anchor_ids": list(row.anchor_ids),
        "contact_ids": list(row.contact_ids),
        "activated_by": by,
        "activated_at": iso(row.activated_at),
    }


async def incident_plans(session: AsyncSession, incident_id: str) -> list[PlanActivated]:
    """The plans activated in an incident, in the order they were (the snapshot's `plans`)."""
    rows = (
        await session.execute(
            select(IncidentPlan, Plan, col(Organisation.name))
            .join(Plan, col(Plan.id) == col(IncidentPlan.plan_id))
            .join(Organisation, col(Organisation.id) == col(Plan.organisation_id))
            .where(col(IncidentPlan.incident_id) == incident_id)
            .order_by(col(IncidentPlan.activated_at), col(IncidentPlan.id))
        )
    ).all()
    summaries = await _summaries(session, [(plan, name) for _, plan, name in rows])
    actors = await actors_by_id(
        session, {row[0].activated_by for row in rows if row[0].activated_by}
    )
    return [
        _activated_public(
            activation,
            summary,
            actors.get(activation.activated_by) if activation.activated_by else None,
        )
        for (activation, _, _), summary in zip(rows, summaries, strict=True)
    ]


async def _incident_sites(session: AsyncSession, incident_id: str) -> list[Near]:
    """Where the incident is: its incident-site anchors (a point, or a shape's centre)."""
    sites = []
    for anchor in await live_anchors(session, incident_id):
        if anchor["kind"] == AnchorKind.INCIDENT_SITE.value:
            centre = shape(anchor["geometry"]).representative_point()
            sites.append(Near(lat=centre.y, lon=centre.x))
    return sites


async def plans_for_incident(
    hub: Hub, principal: Principal, incident_id: str
) -> tuple[list[PlanActivated], list[PlanSummary]]:
    """The plans activated in the incident, and those proposed: with an approved version,
    whose area holds one of its incident sites, not yet activated."""
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        activated = await incident_plans(session, incident_id)
        done = {activation["plan"]["id"] for activation in activated}
        proposed: dict[str, PlanSummary] = {}
        for site in await _incident_sites(session, incident_id):
            for summary in await _search(session, "", site, MAX_PLAN_SEARCH_LIMIT):
                if summary["approved_version"] is not None and summary["id"] not in done:
                    proposed.setdefault(summary["id"], summary)
        return activated, list(proposed.values())


async def activate_plan(
    hub: Hub, principal: Principal, incident_id: str, plan_id: str
) -> tuple[PlanActivated, bool]:
    """A manager activates a plan's latest approved version: everything in one transaction,
    so the map, the contacts and the feed never show half an activation. A plan already
    active in the incident is answered as it is, with nothing created (False)."""
    hub.check_rate(principal.user_id)
    try:
        async with hub.db.write() as session:
            await require_role(session, principal, incident_id, Role.MANAGER, write=True)
            earlier = await _activation(session, incident_id, plan_id)
            if earlier is not None:
                return earlier, False
            plan, organisation = await _plan_row(session, plan_id)
            version = await session.scalar(
                select(PlanVersion)
                .where(
                    col(PlanVersion.plan_id) == plan.id,
                    col(PlanVersion.status) == VersionStatus.APPROVED.value,
                )
                .order_by(col(PlanVersion.number).desc())
                .limit(1)
            )
            if version is None:
                raise HubError(
                    "invalid",
                    "this plan has no approved version: only an approved one is activated",
                )
            activated, events = await _activate(session, principal, incident_id, plan, version)
            versions = await _versions_by_plan(session, [plan.id])
            public = _activated_public(
                activated, _summary(plan, organisation, versions[plan.id]), principal.actor()
            )
            seq = await take_seq(session, incident_id, open_only=True)
            events.append(log_event(session, incident_id, seq, "plan.activated", principal, public))
    except IntegrityError:
        # Two managers at once: the other's activation won; answer with it.
        async with hub.db.read() as session:
            earlier = await _activation(session, incident_id, plan_id)
        if earlier is None:
            raise
        return earlier, False
    for event in events:
        await hub.notifier.incident_event(event)
    return public, True


async def _activation(
    session: AsyncSession, incident_id: str, plan_id: str
) -> PlanActivated | None:
    for activation in await incident_plans(session, incident_id):
        if activation["plan"]["id"] == plan_id:
            return activation
    return None


async def _activate(
    session: AsyncSession,
    principal: Principal,
    incident_id: str,
    plan: Plan,
    version: PlanVersion,
) -> tuple[IncidentPlan, list[EventPublic]]:
    events: list[EventPublic] = []
    anchor_ids: list[str] = []
    features = version.anchors.get("features", [])
    for index, feature in enumerate(features):
        properties = dict(feature.get("properties") or {})
        kind, label = properties.pop("kind"), properties.pop("label")
        anchor, event = await add_anchor(
            session,
            principal,
            AnchorCreateIn(
                incident_id=incident_id,
                # One id per (incident, plan version, feature): an activation that is written
                # twice finds its anchors instead of doubling them.
                client_id=_client_id(incident_id, version.id, index),
                kind=kind,
                label=label,
                geometry=feature["geometry"],
                properties={**properties, "plan_id": plan.id, "plan_version": version.number},
            ),
        )
        anchor_ids.append(anchor["id"])
        if event is not None:
            events.append(event)
    contact_ids: list[str] = []
    present = set(
        await session.scalars(
            select(col(Contact.id)).where(col(Contact.id).in_(version.contact_ids))
        )
    )
    for contact_id in version.contact_ids:
        if contact_id not in present:
            continue  # deleted from the directory since the version named it
        _, event = await list_contact(session, incident_id, contact_id, principal, plan_id=plan.id)
        contact_ids.append(contact_id)
        if event is not None:
            events.append(event)
    _, event = await add_entry(
        session,
        principal,
        FeedPostIn(
            incident_id=incident_id,
            client_id=_client_id(incident_id, version.id, -1),
            kind=EntryKind.DECISION,
            priority=Priority.NORMAL,
            text=(
                f"Plan activated: {plan.title} (version {version.number}): "
                f"{len(anchor_ids)} anchors on the map, {len(contact_ids)} contacts listed."
            ),
        ),
    )
    if event is not None:
        events.append(event)
    row = IncidentPlan(
        incident_id=incident_id,
        plan_id=plan.id,
        version=version.number,
        activated_by=principal.user_id,
        anchor_ids=anchor_ids,
        contact_ids=contact_ids,
    )
    session.add(row)
    await session.flush()
    return row, events


def _client_id(incident_id: str, version_id: str, index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"crisishub:plan:{incident_id}:{version_id}:{index}"))
