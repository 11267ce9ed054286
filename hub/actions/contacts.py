"""The directory's contacts: the only writers (REST, the CLI's import and the plans'
activation all come here), each write with its history line and search terms in one
transaction, and the reads of methods that are logged.

Who may do what (docs/protocol-additions.md, "Directory"):
- everyone logged in searches and reads; search results carry no method values, and opening a
  contact outside an incident (GET /api/contacts/{id}, its .vcf) is a logged read, as is an
  export (admins only: it is all the directory's personal data at once);
- members of the owning organisation and admins create, edit, confirm (review) and delete;
  only an admin moves a contact to another organisation;
- contributors of an incident list a contact in it, and its members then read the listed
  contacts' methods without a log: the incident is the reason for reading them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.access import require_admin, require_role
from hub.actions.incidents import SYSTEM_ACTOR
from hub.auth import Principal
from hub.context import Hub
from hub.directory import search
from hub.directory.methods import clean_methods
from hub.directory.review import next_review, overdue
from hub.errors import HubError
from hub.eventlog import log_event, take_seq
from hub.public import actor_public
from models import (
    Contact,
    ContactChange,
    ContactRead,
    IncidentContact,
    Organisation,
    Role,
    User,
)
from models.base import iso, utcnow
from models.contact import (
    ContactCreateIn,
    ContactFieldsIn,
    ContactUpdateIn,
    ContactVersionIn,
    IncidentContactIn,
)
from models.events import (
    ActorPublic,
    ContactChangePublic,
    ContactFound,
    ContactPublic,
    ContactReadPublic,
    EventPublic,
    ListedContact,
)

MAX_SEARCH_LIMIT = 100
# The fields the history records, as the wire names them.
_TRACKED = (
    "kind",
    "name",
    "function",
    "organisation_id",
    "methods",
    "disciplines",
    "tags",
    "note",
    "location",
    "review_due",
)


def contact_public(contact: Contact, organisation: str) -> ContactPublic:
    return {
        "id": contact.id,
        "organisation": {"id": contact.organisation_id, "name": organisation},
        "kind": contact.kind,
        "name": contact.name,
        "function": contact.function,
        "methods": [
            {
                "type": method["type"],
                "value": method["value"],
                "label": method.get("label"),
                "h24": bool(method.get("h24")),
            }
            for method in contact.methods
        ],
        "location": _location(contact),
        "disciplines": list(contact.disciplines),
        "tags": list(contact.tags),
        "note": contact.note,
        "reviewed_at": iso(contact.reviewed_at),
        "review_due": iso(contact.review_due),
        "version": contact.version,
        "updated_at": iso(contact.updated_at),
    }


def contact_found(found: search.Found, now: datetime) -> ContactFound:
    contact = found.contact
    return {
        "id": contact.id,
        "organisation": {"id": contact.organisation_id, "name": found.organisation},
        "kind": contact.kind,
        "name": contact.name,
        "function": contact.function,
        "methods": [
            {"type": method["type"], "label": method.get("label"), "h24": bool(method.get("h24"))}
            for method in contact.methods
        ],
        "location": _location(contact),
        "disciplines": list(contact.disciplines),
        "tags": list(contact.tags),
        "reviewed_at": iso(contact.reviewed_at),
        "review_due": iso(contact.review_due),
        "overdue": overdue(contact.review_due, now),
        "version": contact.version,
        "distance_m": found.distance_m,
    }


def _location(contact: Contact) -> Any:
    if contact.lat is None or contact.lon is None:
        return None
    return {"lat": contact.lat, "lon": contact.lon}


def _tracked(contact: Contact) -> dict[str, Any]:
    public = {
        "kind": contact.kind,
        "name": contact.name,
        "function": contact.function,
        "organisation_id": contact.organisation_id,
        "methods": list(contact.methods),
        "disciplines": list(contact.disciplines),
        "tags": list(contact.tags),
        "note": contact.note,
        "location": _location(contact),
        "review_due": iso(contact.review_due),
    }
    return {key: public[key] for key in _TRACKED}


def _record_change(
    session: AsyncSession,
    contact: Contact,
    action: str,
    by: str | None,
    before: dict[str, Any],
    at: datetime,
) -> None:
    after = _tracked(contact) if action != "deleted" else {}
    if action in ("updated", "imported", "reviewed"):
        changed = [key for key in _TRACKED if before.get(key) != after.get(key)]
        before = {key: before.get(key) for key in changed}
        after = {key: after[key] for key in changed}
    session.add(
        ContactChange(
            contact_id=contact.id,
            version=contact.version,
            action=action,
            changed_by=by,
            changed_at=at,
            before=before,
            after=after,
        )
    )


async def organisation_of(session: AsyncSession, user_id: str) -> str:
    organisation_id = await session.scalar(
        select(col(User.organisation_id)).where(col(User.id) == user_id)
    )
    if organisation_id is None:
        raise HubError("unauthorized", "no such user")
    return organisation_id


async def organisation_name(session: AsyncSession, organisation_id: str) -> str:
    name = await session.scalar(
        select(col(Organisation.name)).where(col(Organisation.id) == organisation_id)
    )
    if name is None:
        raise HubError("invalid", "organisation_id: no such organisation")
    return name


async def _require_editor(session: AsyncSession, principal: Principal, contact: Contact) -> None:
    if principal.is_admin:
        return
    if await organisation_of(session, principal.user_id) != contact.organisation_id:
        raise HubError(
            "forbidden", "a contact is edited by members of its organisation and by admins"
        )


def _apply(contact: Contact, fields: ContactFieldsIn, given: set[str]) -> None:
    """Sets the given fields; `function`, `note` and `location` given as null are cleared."""
    if "kind" in given and fields.kind is not None:
        contact.kind = fields.kind.value
    if "name" in given and fields.name is not None:
        contact.name = fields.name
    if "function" in given:
        contact.function = fields.function or None
    if "note" in given:
        contact.note = fields.note or None
    if "methods" in given and fields.methods is not None:
        contact.methods = [dict(method) for method in clean_methods(fields.methods)]
    if "disciplines" in given and fields.disciplines is not None:
        contact.disciplines = sorted({discipline.value for discipline in fields.disciplines})
    if "tags" in given and fields.tags is not None:
        # One tag once, whatever its case: "Seveso" and "seveso" are one filter.
        unique: dict[str, str] = {}
        for tag in fields.tags:
            unique.setdefault(search.tag_key(tag), tag)
        contact.tags = [tag for key, tag in unique.items() if key]
    if "location" in given:
        contact.lat = None if fields.location is None else fields.location.lat
        contact.lon = None if fields.location is None else fields.location.lon


async def new_contact(
    session: AsyncSession,
    fields: ContactCreateIn,
    organisation_id: str,
    organisation: str,
    by: str | None,
    now: datetime,
    *,
    action: str = "created",
    contact_id: str | None = None,
    review_due: datetime | None = None,
) -> Contact:
    """Writes one new contact, its history line and its terms (create and the import)."""
    contact = Contact(
        kind=fields.kind.value,
        name=fields.name,
        organisation_id=organisation_id,
        review_due=review_due or next_review(now),
        reviewed_at=now,
        created_by=by,
        updated_by=by,
        created_at=now,
        updated_at=now,
    )
    if contact_id is not None:
        contact.id = contact_id
    _apply(contact, fields, fields.model_fields_set | {"kind", "name"})
    session.add(contact)
    _record_change(session, contact, action, by, {}, now)
    await search.index(session, [(contact, organisation)])
    return contact


async def create_contact(hub: Hub, principal: Principal, payload: ContactCreateIn) -> ContactPublic:
    hub.check_rate(principal.user_id)
    async with hub.db.write() as session:
        own = await organisation_of(session, principal.user_id)
        organisation_id = payload.organisation_id or own
        if organisation_id != own and not principal.is_admin:
            raise HubError("forbidden", "you create contacts of your own organisation")
        organisation = await organisation_name(session, organisation_id)
        contact = await new_contact(
            session, payload, organisation_id, organisation, principal.user_id, utcnow()
        )
        return contact_public(contact, organisation)


async def _locked(session: AsyncSession, contact_id: str) -> Contact:
    contact = await session.scalar(
        select(Contact).where(col(Contact.id) == contact_id).with_for_update()
    )
    if contact is None:
        raise HubError("not_found", "no such contact")
    return contact


def _check_version(contact: Contact, organisation: str, version: int) -> None:
    if contact.version != version:
        raise HubError(
            "conflict",
            f"the contact is at version {contact.version}, not {version}: review its current "
            "state and apply your change again",
            contact=contact_public(contact, organisation),
        )


async def update_contact(
    hub: Hub, principal: Principal, contact_id: str, payload: ContactUpdateIn
) -> ContactPublic:
    given = payload.model_fields_set - {"version"}
    if not given:
        raise HubError("invalid", "nothing to change: give the fields to change and version")
    hub.check_rate(principal.user_id)
    async with _conflict_read_logged(hub, principal, contact_id), hub.db.write() as session:
        contact, organisation = await _editable(session, principal, contact_id, payload.version)
        if "organisation_id" in given and payload.organisation_id not in (
            None,
            contact.organisation_id,
        ):
            if not principal.is_admin:
                raise HubError("forbidden", "only an admin moves a contact to another organisation")
            assert payload.organisation_id is not None
            organisation = await organisation_name(session, payload.organisation_id)
            contact.organisation_id = payload.organisation_id
        before = _tracked(contact)
        _apply(contact, payload, given)
        if _tracked(contact) == before:
            raise HubError("invalid", "nothing to change: the contact already reads so")
        now = utcnow()
        _touch(contact, principal.user_id, now)
        session.add(contact)
        _record_change(session, contact, "updated", principal.user_id, before, now)
        await search.index(session, [(contact, organisation)])
        return contact_public(contact, organisation)


@asynccontextmanager
async def _conflict_read_logged(
    hub: Hub, principal: Principal, contact_id: str
) -> AsyncIterator[None]:
    """A stale change's `conflict` carries the current record, methods included, so that its
    editor can apply the change again: a read, logged in a transaction of its own, since the
    change's own is rolled back."""
    try:
        yield
    except HubError as error:
        if error.code == "conflict":
            async with hub.db.write() as session:
                session.add(
                    ContactRead(contact_id=contact_id, user_id=principal.user_id, how="conflict")
                )
        raise


async def _editable(
    session: AsyncSession, principal: Principal, contact_id: str, version: int
) -> tuple[Contact, str]:
    """The contact, locked, with its organisation's name, once the caller may change it and
    holds its current version (each change, review and deletion starts so)."""
    contact = await _locked(session, contact_id)
    await _require_editor(session, principal, contact)
    organisation = await organisation_name(session, contact.organisation_id)
    _check_version(contact, organisation, version)
    return contact, organisation


def _touch(contact: Contact, by: str | None, now: datetime) -> None:
    # An edit is a review too: its editor had the whole record before them.
    contact.version += 1
    contact.updated_at = now
    contact.updated_by = by
    contact.reviewed_at = now
    contact.review_due = next_review(now)


async def review_contact(
    hub: Hub, principal: Principal, contact_id: str, payload: ContactVersionIn
) -> ContactPublic:
    """Still correct: the owners confirm the record as it is, and its review date moves on."""
    hub.check_rate(principal.user_id)
    async with _conflict_read_logged(hub, principal, contact_id), hub.db.write() as session:
        contact, organisation = await _editable(session, principal, contact_id, payload.version)
        before = _tracked(contact)
        now = utcnow()
        _touch(contact, principal.user_id, now)
        session.add(contact)
        _record_change(session, contact, "reviewed", principal.user_id, before, now)
        return contact_public(contact, organisation)


async def delete_contact(
    hub: Hub, principal: Principal, contact_id: str, payload: ContactVersionIn
) -> None:
    hub.check_rate(principal.user_id)
    async with _conflict_read_logged(hub, principal, contact_id), hub.db.write() as session:
        contact, organisation = await _editable(session, principal, contact_id, payload.version)
        listed = await session.scalar(
            select(func.count())
            .select_from(IncidentContact)
            .where(col(IncidentContact.contact_id) == contact_id)
        )
        if listed:
            # An incident's log names it: the record stays while incidents refer to it.
            raise HubError(
                "conflict",
                f"the contact is listed in {listed} incident(s): it stays in the directory",
                contact=contact_public(contact, organisation),
            )
        _record_change(session, contact, "deleted", principal.user_id, _tracked(contact), utcnow())
        await search.unindex(session, contact_id)
        await session.delete(contact)


async def _read_one(session: AsyncSession, contact_id: str) -> tuple[Contact, str]:
    row = (
        await session.execute(
            select(Contact, col(Organisation.name))
            .join(Organisation, col(Organisation.id) == col(Contact.organisation_id))
            .where(col(Contact.id) == contact_id)
        )
    ).first()
    if row is None:
        raise HubError("not_found", "no such contact")
    return row[0], row[1]


async def _through_incident(
    session: AsyncSession, principal: Principal, contact_id: str, incident_id: str
) -> None:
    """A read through an incident: the caller is a member and the contact is listed there,
    or the read is refused (it would otherwise go unlogged)."""
    await require_role(session, principal, incident_id, Role.VIEWER)
    listed = await session.scalar(
        select(col(IncidentContact.id)).where(
            col(IncidentContact.incident_id) == incident_id,
            col(IncidentContact.contact_id) == contact_id,
        )
    )
    if listed is None:
        raise HubError("not_found", "this contact is not listed in this incident")


async def read_contact(
    hub: Hub, principal: Principal, contact_id: str, incident_id: str | None, how: str = "one"
) -> ContactPublic:
    """One contact with its methods. Outside an incident the read is logged (who, when); with
    `incident_id`, the members of an incident that lists it read without a log."""
    if incident_id is not None:
        async with hub.db.read() as session:
            await _through_incident(session, principal, contact_id, incident_id)
            contact, organisation = await _read_one(session, contact_id)
            return contact_public(contact, organisation)
    async with hub.db.write() as session:
        contact, organisation = await _read_one(session, contact_id)
        session.add(ContactRead(contact_id=contact_id, user_id=principal.user_id, how=how))
        return contact_public(contact, organisation)


async def search_contacts(
    hub: Hub, principal: Principal, query: search.Query
) -> tuple[list[ContactFound], str | None]:
    """Search results (no method values), and the `after` cursor of the next page."""
    now = utcnow()
    async with hub.db.read() as session:
        if query.overdue and not principal.is_admin:
            # The review queue is one's own organisation's; admins see every one's.
            own = await organisation_of(session, principal.user_id)
            query = _with(query, overdue_of=own)
        found, more = await search.search(session, query, now)
    after = str(query.offset + len(found)) if more else None
    return [contact_found(item, now) for item in found], after


def _with(query: search.Query, **changes: Any) -> search.Query:
    from dataclasses import replace

    return replace(query, **changes)


async def all_contacts(hub: Hub, principal: Principal) -> list[ContactPublic]:
    """Every contact with its methods, for the CSV export: an admin's act, logged once."""
    require_admin(principal)
    async with hub.db.write() as session:
        rows = await session.execute(
            select(Contact, col(Organisation.name))
            .join(Organisation, col(Organisation.id) == col(Contact.organisation_id))
            .order_by(col(Organisation.name), col(Contact.name), col(Contact.id))
        )
        contacts = [contact_public(contact, organisation) for contact, organisation in rows]
        session.add(
            ContactRead(
                contact_id=None, user_id=principal.user_id, how="export", count=len(contacts)
            )
        )
    return contacts


async def actors_by_id(session: AsyncSession, user_ids: set[str]) -> dict[str, ActorPublic]:
    if not user_ids:
        return {}
    rows = await session.execute(
        select(col(User.id), col(User.display_name), col(Organisation.name))
        .join(Organisation, col(Organisation.id) == col(User.organisation_id))
        .where(col(User.id).in_(user_ids))
    )
    return {row[0]: actor_public(row[0], row[1], row[2]) for row in rows}


async def _require_owner_reader(
    session: AsyncSession, principal: Principal, contact_id: str
) -> None:
    """The history holds old methods and the read log who read: for the owners and admins."""
    organisation_id = await session.scalar(
        select(col(Contact.organisation_id)).where(col(Contact.id) == contact_id)
    )
    if organisation_id is None:
        organisation_id = await session.scalar(
            select(ContactChange.before["organisation_id"].as_string()).where(
                col(ContactChange.contact_id) == contact_id,
                col(ContactChange.action) == "deleted",
            )
        )
        if organisation_id is None:
            raise HubError("not_found", "no such contact")
    if principal.is_admin:
        return
    if await organisation_of(session, principal.user_id) != organisation_id:
        raise HubError(
            "forbidden", "a contact's history is read by its organisation's members and admins"
        )


async def contact_history(
    hub: Hub, principal: Principal, contact_id: str
) -> list[ContactChangePublic]:
    # The changes carry the methods' values before and after: a read of them, logged.
    async with hub.db.write() as session:
        await _require_owner_reader(session, principal, contact_id)
        session.add(ContactRead(contact_id=contact_id, user_id=principal.user_id, how="history"))
        changes = list(
            await session.scalars(
                select(ContactChange)
                .where(col(ContactChange.contact_id) == contact_id)
                .order_by(col(ContactChange.id).desc())
            )
        )
        actors = await actors_by_id(session, {c.changed_by for c in changes if c.changed_by})
    return [
        {
            "version": change.version,
            "action": change.action,
            "by": None if change.changed_by is None else actors.get(change.changed_by),
            "at": iso(change.changed_at),
            "before": change.before,
            "after": change.after,
        }
        for change in changes
    ]


async def contact_reads(hub: Hub, principal: Principal, contact_id: str) -> list[ContactReadPublic]:
    async with hub.db.read() as session:
        await _require_owner_reader(session, principal, contact_id)
        reads = list(
            await session.scalars(
                select(ContactRead)
                .where(col(ContactRead.contact_id) == contact_id)
                .order_by(col(ContactRead.id).desc())
                .limit(500)
            )
        )
        actors = await actors_by_id(session, {read.user_id for read in reads})
    return [
        {
            "contact_id": read.contact_id,
            "by": actors[read.user_id],
            "at": iso(read.at),
            "how": read.how,
            "count": read.count,
        }
        for read in reads
    ]


# incidents ------------------------------------------------------------------------------------


def listed_public(
    row: IncidentContact, contact: ContactPublic, by: ActorPublic | None
) -> ListedContact:
    return {
        "incident_id": row.incident_id,
        "contact": contact,
        "listed_by": by,
        "listed_at": iso(row.listed_at),
        "plan_id": row.plan_id,
    }


async def list_contact(
    session: AsyncSession,
    incident_id: str,
    contact_id: str,
    by: Principal | None,
    plan_id: str | None = None,
) -> tuple[ListedContact, EventPublic | None]:
    """Lists a contact in an incident inside the caller's transaction (the REST route below,
    a plan's activation): takes the incident's next seq and logs `contact.listed`. The caller
    checks the role, commits, then emits the event; a contact already listed is answered as
    it is, with no event (a plan activated twice lists nothing new)."""
    earlier = await session.scalar(
        select(IncidentContact).where(
            col(IncidentContact.incident_id) == incident_id,
            col(IncidentContact.contact_id) == contact_id,
        )
    )
    contact, organisation = await _read_one(session, contact_id)
    public = contact_public(contact, organisation)
    if earlier is not None:
        actors = await actors_by_id(session, {earlier.listed_by} if earlier.listed_by else set())
        by_public = None if earlier.listed_by is None else actors.get(earlier.listed_by)
        return listed_public(earlier, public, by_public), None
    seq = await take_seq(session, incident_id, open_only=True)
    row = IncidentContact(
        incident_id=incident_id,
        contact_id=contact_id,
        listed_by=None if by is None else by.user_id,
        plan_id=plan_id,
    )
    session.add(row)
    listed = listed_public(row, public, None if by is None else by.actor())
    actor: Principal | ActorPublic = by if by is not None else SYSTEM_ACTOR
    event = log_event(session, incident_id, seq, "contact.listed", actor, listed)
    return listed, event


async def list_in_incident(
    hub: Hub, principal: Principal, incident_id: str, payload: IncidentContactIn
) -> ListedContact:
    hub.check_rate(principal.user_id)
    async with hub.db.write() as session:
        await require_role(session, principal, incident_id, Role.CONTRIBUTOR, write=True)
        listed, event = await list_contact(session, incident_id, payload.contact_id, principal)
    if event is not None:
        await hub.notifier.incident_event(event)
    return listed


async def incident_contacts(session: AsyncSession, incident_id: str) -> list[ListedContact]:
    """The contacts listed in an incident, with their methods (the snapshot, the panel)."""
    rows = (
        await session.execute(
            select(IncidentContact, Contact, col(Organisation.name))
            .join(Contact, col(Contact.id) == col(IncidentContact.contact_id))
            .join(Organisation, col(Organisation.id) == col(Contact.organisation_id))
            .where(col(IncidentContact.incident_id) == incident_id)
            .order_by(col(IncidentContact.listed_at), col(IncidentContact.id))
        )
    ).all()
    actors = await actors_by_id(session, {row[0].listed_by for row in rows if row[0].listed_by})
    return [
        listed_public(
            listed,
            contact_public(contact, organisation),
            None if listed.listed_by is None else actors.get(listed.listed_by),
        )
        for listed, contact, organisation in rows
    ]


async def listed_contacts(hub: Hub, principal: Principal, incident_id: str) -> list[ListedContact]:
    async with hub.db.read() as session:
        await require_role(session, principal, incident_id, Role.VIEWER)
        return await incident_contacts(session, incident_id)


# the import -------------------------------------------------------------------------------------


@dataclass
class ImportedContact:
    """One record of a CSV row or a vCard, checked (hub/directory/transfer.py)."""

    where: str  # "line 12", "card 3": how an error names it
    fields: ContactCreateIn
    organisation: str | None  # by name, as files carry it
    contact_id: str | None = None
    review_due: datetime | None = None


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    total: int = 0
    ids: list[str] = field(default_factory=list)


async def import_contacts(
    hub: Hub, records: Sequence[ImportedContact], default_organisation: str | None = None
) -> ImportResult:
    """All or nothing, by the operator: a record naming an id the directory holds updates that
    contact (an export imported again changes nothing), any other is added. An unknown
    organisation names the record and nothing is written."""
    result = ImportResult()
    now = utcnow()
    async with hub.db.write() as session:
        names = {
            name.casefold(): (org_id, name)
            for org_id, name in await session.execute(
                select(col(Organisation.id), col(Organisation.name))
            )
        }
        default = None
        if default_organisation is not None:
            default = names.get(default_organisation.casefold())
            if default is None:
                raise HubError(
                    "invalid", f"--organisation: no organisation {default_organisation!r}"
                )
        to_index: list[tuple[Contact, str]] = []
        for record in records:
            owner = names.get((record.organisation or "").casefold()) or default
            if owner is None:
                raise HubError(
                    "invalid",
                    f"{record.where}: no organisation {record.organisation!r} "
                    "(add it, or give --organisation for the records without one)",
                )
            organisation_id, organisation = owner
            existing = None
            if record.contact_id is not None:
                existing = await session.get(Contact, record.contact_id)
            if existing is None:
                contact = await new_contact(
                    session,
                    record.fields,
                    organisation_id,
                    organisation,
                    None,
                    now,
                    action="imported",
                    contact_id=record.contact_id,
                    review_due=record.review_due,
                )
                result.added += 1
            else:
                contact = existing
                before = _tracked(contact)
                contact.organisation_id = organisation_id
                kept = list(contact.methods)
                _apply(contact, record.fields, _IMPORTED_FIELDS)
                if _same_methods(kept, contact.methods):
                    # A CSV holds methods by type, one column each: the order is the record's.
                    contact.methods = kept
                if _tracked(contact) == before:
                    result.unchanged += 1
                    result.ids.append(contact.id)
                    continue
                _touch(contact, None, now)
                session.add(contact)
                _record_change(session, contact, "imported", None, before, now)
                to_index.append((contact, organisation))
                result.updated += 1
            result.ids.append(contact.id)
        await search.index(session, to_index)
        await session.flush()
        result.total = int(await session.scalar(select(func.count()).select_from(Contact)) or 0)
    return result


def _same_methods(one: list[dict[str, Any]], other: list[dict[str, Any]]) -> bool:
    def key(method: dict[str, Any]) -> tuple[str, str, str, bool]:
        return (method["type"], method["value"], method.get("label") or "", bool(method.get("h24")))

    return sorted(map(key, one)) == sorted(map(key, other))


# A file carries the whole record: what it leaves out is cleared, as an edit would.
_IMPORTED_FIELDS = {
    "kind",
    "name",
    "function",
    "methods",
    "disciplines",
    "tags",
    "note",
    "location",
}
