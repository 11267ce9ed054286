"""The directory's contacts over HTTP (hub/actions/contacts.py does the work): search, one
contact (a logged read outside an incident), its vCard, the CSV export (admins), edits with
versions, the review, the history and the read log, and the contacts listed in an incident."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.actions import contacts
from hub.auth import Principal
from hub.directory import search
from hub.directory.transfer import contact_vcard, contacts_csv
from hub.errors import HubError
from models.contact import ContactCreateIn, ContactUpdateIn, ContactVersionIn, IncidentContactIn
from models.responses import (
    ContactHistoryOut,
    ContactOut,
    ContactReadsOut,
    ContactsOut,
    Empty,
    ListedContactOut,
    ListedContactsOut,
)
from web.api.endpoint import INCIDENT, Endpoint
from web.http import hub_of, point_query, query_int, read_json

CONTACT = "/api/contacts/{contact_id}"
MAX_OFFSET = 100_000


def _flag(raw: str | None, name: str) -> bool:
    if raw in (None, "", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise HubError("invalid", f"{name} must be true or false")


async def search_contacts(request: Request, principal: Principal) -> Any:
    params = request.query_params
    point = point_query(request, "near")
    query = search.Query(
        text=params.get("q", ""),
        discipline=params.get("discipline") or None,
        tag=params.get("tag") or None,
        near=None if point is None else search.Near(*point),
        overdue=_flag(params.get("due"), "due"),
        offset=query_int(request, "after", 0, 0, MAX_OFFSET) or 0,
        limit=query_int(request, "limit", 20, 1, contacts.MAX_SEARCH_LIMIT) or 20,
    )
    if len(query.text) > search.MAX_QUERY_CHARS:
        raise HubError("too_large", f"q exceeds {search.MAX_QUERY_CHARS} characters")
    found, after = await contacts.search_contacts(hub_of(request), principal, query)
    return {"contacts": found, "after": after}


async def create_contact(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, ContactCreateIn)
    return {"contact": await contacts.create_contact(hub_of(request), principal, payload)}


async def read_contact(request: Request, principal: Principal) -> Any:
    contact_id = request.path_params["contact_id"]
    incident_id = request.query_params.get("incident") or None
    contact = await contacts.read_contact(hub_of(request), principal, contact_id, incident_id)
    return {"contact": contact}


async def update_contact(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, ContactUpdateIn)
    contact_id = request.path_params["contact_id"]
    return {
        "contact": await contacts.update_contact(hub_of(request), principal, contact_id, payload)
    }


async def delete_contact(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, ContactVersionIn)
    contact_id = request.path_params["contact_id"]
    await contacts.delete_contact(hub_of(request), principal, contact_id, payload)
    return {}


async def review_contact(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, ContactVersionIn)
    contact_id = request.path_params["contact_id"]
    return {
        "contact": await contacts.review_contact(hub_of(request), principal, contact_id, payload)
    }


async def history(request: Request, principal: Principal) -> Any:
    contact_id = request.path_params["contact_id"]
    return {"changes": await contacts.contact_history(hub_of(request), principal, contact_id)}


async def reads(request: Request, principal: Principal) -> Any:
    contact_id = request.path_params["contact_id"]
    return {"reads": await contacts.contact_reads(hub_of(request), principal, contact_id)}


async def vcard(request: Request, principal: Principal) -> Response:
    contact_id = request.path_params["contact_id"]
    incident_id = request.query_params.get("incident") or None
    contact = await contacts.read_contact(
        hub_of(request), principal, contact_id, incident_id, how="vcard"
    )
    return Response(
        contact_vcard(contact).encode("utf-8"),
        media_type="text/vcard; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="contact-{contact_id}.vcf"',
            "cache-control": "no-store",
        },
    )


async def export_csv(request: Request, principal: Principal) -> Response:
    everything = await contacts.all_contacts(hub_of(request), principal)
    return Response(
        contacts_csv(everything),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="contacts.csv"',
            "cache-control": "no-store",
        },
    )


async def list_in_incident(request: Request, principal: Principal) -> Any:
    payload = await read_json(request, IncidentContactIn)
    incident_id = request.path_params["incident_id"]
    listed = await contacts.list_in_incident(hub_of(request), principal, incident_id, payload)
    return {"listed": listed}


async def incident_contacts(request: Request, principal: Principal) -> Any:
    incident_id = request.path_params["incident_id"]
    return {"contacts": await contacts.listed_contacts(hub_of(request), principal, incident_id)}


_SEARCH: dict[str, tuple[str, dict[str, Any]]] = {
    "q": (
        "words of name, function, organisation or tags; the last one as a prefix",
        {"type": "string"},
    ),
    "discipline": ("D1…D5 or coord", {"type": "string"}),
    "tag": ("one tag, whole", {"type": "string"}),
    "near": ("lat,lon: contacts with a location, nearest first", {"type": "string"}),
    "due": (
        "true: past their review date (one's own organisation's; admins: all)",
        {"type": "boolean"},
    ),
    "limit": ("1 to 100, default 20", {"type": "integer", "minimum": 1, "maximum": 100}),
    "after": ("the `after` of the previous page", {"type": "string"}),
}
_THROUGH: dict[str, tuple[str, dict[str, Any]]] = {
    "incident": (
        "an incident of yours that lists the contact: the read is not logged",
        {"type": "string"},
    )
}

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "GET",
        "/api/contacts",
        "Search the directory, most relevant first (methods without their values)",
        search_contacts,
        response=ContactsOut,
        query=_SEARCH,
    ),
    Endpoint(
        "POST",
        "/api/contacts",
        "Add a contact (of one's own organisation; admins: any)",
        create_contact,
        ContactCreateIn,
        ContactOut,
        status=201,
    ),
    Endpoint(
        "GET",
        "/api/contacts.csv",
        "Export the whole directory as CSV (admins; logged)",
        export_csv,
        media="text/csv",
    ),
    Endpoint(
        "GET",
        CONTACT + ".vcf",
        "One contact as a vCard 4.0 (logged outside an incident)",
        vcard,
        media="text/vcard",
        query=_THROUGH,
    ),
    Endpoint(
        "GET",
        CONTACT,
        "One contact with its methods (logged outside an incident)",
        read_contact,
        response=ContactOut,
        query=_THROUGH,
    ),
    Endpoint(
        "PATCH",
        CONTACT,
        "Edit a contact (its organisation's members and admins; body: version)",
        update_contact,
        ContactUpdateIn,
        ContactOut,
    ),
    Endpoint(
        "DELETE",
        CONTACT,
        "Delete a contact (body: version); refused while an incident lists it",
        delete_contact,
        ContactVersionIn,
        Empty,
    ),
    Endpoint(
        "POST",
        CONTACT + "/review",
        "Confirm a contact still correct: its review date moves on (body: version)",
        review_contact,
        ContactVersionIn,
        ContactOut,
    ),
    Endpoint(
        "GET",
        CONTACT + "/history",
        "Who changed what and when (its organisation's members and admins)",
        history,
        response=ContactHistoryOut,
    ),
    Endpoint(
        "GET",
        CONTACT + "/reads",
        "The logged reads of its methods (its organisation's members and admins)",
        reads,
        response=ContactReadsOut,
    ),
    Endpoint(
        "GET",
        INCIDENT + "/contacts",
        "The contacts listed in the incident, with their methods (members)",
        incident_contacts,
        response=ListedContactsOut,
    ),
    Endpoint(
        "POST",
        INCIDENT + "/contacts",
        "List a contact in the incident (contributor and up): contact.listed",
        list_in_incident,
        IncidentContactIn,
        ListedContactOut,
        status=201,
    ),
]
