"""The directory's files: CSV with a header (what spreadsheets exchange) and vCard 4.0 (what
Outlook, Google Contacts and phones exchange), read and written with the csv module and
vobject, never by string building. Reading checks every record and names the bad one (its
line, its card's number); the import then writes all or nothing (hub/actions/contacts.py).

vCards written carry what vCard has a property for (FN, N, TITLE, ORG, TEL with TYPE, EMAIL,
GEO, CATEGORIES, NOTE, UID, REV) and the rest as X- properties and parameters a reader may
ignore (X-CRISISHUB-KIND, X-CRISISHUB-DISCIPLINES, a method's X-LABEL and X-H24). Cards read
may be 2.1 (Outlook, quoted-printable, CHARSET), 3.0 (Google, iOS, with item1.X-ABLabel
labels) or 4.0."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import vobject
from pydantic import ValidationError

from hub.actions.contacts import ImportedContact
from hub.directory.methods import clean_method
from hub.errors import HubError, from_validation
from models.contact import ContactCreateIn, MethodType
from models.events import ContactPublic

# An import is an operator's file, not an upload: bounded all the same, so that a wrong file
# (a database dump) is refused at once rather than after minutes.
MAX_FILE_BYTES = 20_000_000
MAX_RECORDS = 50_000

CSV_COLUMNS = [
    "id",
    "kind",
    "name",
    "function",
    "organisation",
    "phone",
    "mobile",
    "email",
    "radio",
    "fax",
    "disciplines",
    "tags",
    "lat",
    "lon",
    "note",
    "review_due",
]
_METHOD_COLUMNS = ["phone", "mobile", "email", "radio", "fax"]
# One method in a CSV cell: "value (label) [24/7]"; several are separated by " | ".
_CELL_METHOD = re.compile(
    r"^(?P<value>[^()\[\]|]+?)\s*(?:\((?P<label>[^)]*)\))?\s*(?P<h24>\[24/7\])?$"
)
_H24 = "[24/7]"
_ID = re.compile(r"^[0-9a-f]{32}$")


class RefusedFile(ValueError):
    """A file that is not imported, and why (naming the line or card)."""


def _method_cell(methods: list[dict[str, Any]]) -> str:
    parts = []
    for method in methods:
        text = method["value"]
        if method.get("label"):
            text += f" ({method['label']})"
        if method.get("h24"):
            text += f" {_H24}"
        parts.append(text)
    return " | ".join(parts)


def _guard(text: str) -> str:
    # A cell starting with = + - @ is a formula to Excel: quoted with ' so it stays text.
    # Numbers start with +, so the method columns are exempt (their values are E.164).
    return "'" + text if text[:1] in ("=", "-", "@") else text


def contacts_csv(contacts: list[ContactPublic]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for contact in contacts:
        by_type: dict[str, list[dict[str, Any]]] = {key: [] for key in _METHOD_COLUMNS}
        for method in contact["methods"]:
            by_type[method["type"]].append(dict(method))
        location = contact["location"]
        writer.writerow(
            [
                contact["id"],
                contact["kind"],
                _guard(contact["name"]),
                _guard(contact["function"] or ""),
                _guard(contact["organisation"]["name"]),
                *(_method_cell(by_type[key]) for key in _METHOD_COLUMNS),
                ";".join(contact["disciplines"]),
                _guard(";".join(contact["tags"])),
                "" if location is None else location["lat"],
                "" if location is None else location["lon"],
                _guard(contact["note"] or ""),
                contact["review_due"],
            ]
        )
    # A BOM, so that Excel reads the accents (as the feed's CSV export).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _fields(where: str, data: dict[str, Any]) -> ContactCreateIn:
    if data.get("note"):
        # One line ending whatever the file's (Outlook's notes carry CRLF inside).
        data["note"] = data["note"].replace("\r\n", "\n").replace("\r", "\n")
    try:
        fields = ContactCreateIn.model_validate(data)
    except ValidationError as error:
        raise RefusedFile(f"{where}: {from_validation(error).message}") from None
    if fields.methods:
        for i, method in enumerate(fields.methods):
            try:
                clean_method(method, f"methods.{i}")
            except HubError as error:
                raise RefusedFile(f"{where}: {error.message}") from None
    return fields


def _unguard(text: str) -> str:
    return text[1:] if text[:2] in ("'=", "'-", "'@") else text


def read_csv(text: str) -> list[ImportedContact]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "name" not in reader.fieldnames:
        raise RefusedFile("line 1: the header must name at least the column 'name'")
    unknown = set(reader.fieldnames) - set(CSV_COLUMNS)
    if unknown:
        raise RefusedFile(f"line 1: unknown columns {sorted(unknown)} (known: {CSV_COLUMNS})")
    records: list[ImportedContact] = []
    for row in reader:
        where = f"line {reader.line_num}"
        if len(records) >= MAX_RECORDS:
            raise RefusedFile(f"{where}: more than {MAX_RECORDS} records")
        if None in row:
            raise RefusedFile(f"{where}: more cells than the header has columns")
        cell = {key: _unguard((value or "").strip()) for key, value in row.items()}
        methods: list[dict[str, Any]] = []
        for key in _METHOD_COLUMNS:
            for part in filter(None, (p.strip() for p in cell.get(key, "").split("|"))):
                match = _CELL_METHOD.match(part)
                if match is None:
                    raise RefusedFile(f"{where}: {key}: cannot read {part!r}")
                methods.append(
                    {
                        "type": key,
                        "value": match["value"],
                        "label": match["label"] or None,
                        "h24": bool(match["h24"]),
                    }
                )
        data: dict[str, Any] = {
            "name": cell.get("name", ""),
            "methods": methods,
            "disciplines": [d for d in cell.get("disciplines", "").split(";") if d.strip()],
            "tags": [t for t in cell.get("tags", "").split(";") if t.strip()],
        }
        data["disciplines"] = [d.strip() for d in data["disciplines"]]
        for key in ("kind", "function", "note"):
            if cell.get(key):
                data[key] = cell[key]
        if cell.get("lat") or cell.get("lon"):
            try:
                data["location"] = {"lat": float(cell["lat"]), "lon": float(cell["lon"])}
            except (KeyError, ValueError):
                raise RefusedFile(f"{where}: lat and lon must both be numbers") from None
        review_due = None
        if cell.get("review_due"):
            try:
                review_due = datetime.fromisoformat(cell["review_due"].replace("Z", "+00:00"))
            except ValueError:
                raise RefusedFile(f"{where}: review_due must be an ISO 8601 time") from None
        contact_id = cell.get("id") or None
        if contact_id is not None and not _ID.match(contact_id):
            raise RefusedFile(f"{where}: id must be a contact id from an export (32 hex digits)")
        records.append(
            ImportedContact(
                where,
                _fields(where, data),
                cell.get("organisation") or None,
                contact_id,
                review_due,
            )
        )
    if not records:
        raise RefusedFile("the file holds no contacts")
    return records


# vCard ---------------------------------------------------------------------------------------

_TEL_TYPES = {"cell": MethodType.MOBILE, "fax": MethodType.FAX, "x-radio": MethodType.RADIO}


def contact_vcard(contact: ContactPublic) -> str:
    card = vobject.vCard()
    card.add("version").value = "4.0"
    card.add("uid").value = f"urn:uuid:{contact['id']}"
    card.add("fn").value = contact["name"]
    if contact["kind"] == "person":
        parts = contact["name"].rsplit(" ", 1)
        card.add("n").value = vobject.vcard.Name(
            family=parts[-1], given=parts[0] if len(parts) > 1 else ""
        )
    card.add("kind").value = "individual" if contact["kind"] == "person" else "org"
    card.add("x-crisishub-kind").value = contact["kind"]
    card.add("org").value = [contact["organisation"]["name"]]
    if contact["function"]:
        card.add("title").value = contact["function"]
    for method in contact["methods"]:
        if method["type"] == "email":
            line = card.add("email")
            line.value = method["value"]
        else:
            line = card.add("tel")
            line.value = method["value"]
            kinds = {"phone": ["voice"], "mobile": ["cell"], "fax": ["fax"]}
            line.type_paramlist = kinds.get(method["type"], ["x-radio"])
        if method["label"]:
            line.x_label_param = method["label"]
        if method["h24"]:
            line.x_h24_param = "true"
    if contact["location"] is not None:
        card.add("geo").value = f"geo:{contact['location']['lat']},{contact['location']['lon']}"
    if contact["tags"]:
        card.add("categories").value = list(contact["tags"])
    if contact["disciplines"]:
        card.add("x-crisishub-disciplines").value = ",".join(contact["disciplines"])
    if contact["note"]:
        card.add("note").value = contact["note"]
    card.add("rev").value = contact["updated_at"].replace("-", "").replace(":", "")
    text: str = card.serialize()
    # vobject's vCard behaviour writes VERSION:3.0 whatever was set; this file says 4.0.
    return text.replace("VERSION:3.0", "VERSION:4.0", 1)


def _params(line: Any, name: str) -> list[str]:
    return [value.lower() for value in line.params.get(name, []) for value in value.split(",")]


def _join_soft_breaks(text: str) -> str:
    """vCard 2.1's quoted-printable values continue on the next line after a trailing '='
    (Outlook writes notes so), which is no vCard folding: joined here, before vobject reads."""
    lines = text.splitlines()
    out: list[str] = []
    joining = False
    for line in lines:
        if joining:
            out[-1] = out[-1][:-1] + line
        else:
            out.append(line)
        head = out[-1].split(":", 1)[0].upper()
        joining = "QUOTED-PRINTABLE" in head and out[-1].endswith("=")
    # 2.1 does not escape commas in text, which vobject (3.0's rules) would split the value at.
    version = "2.1"
    for i, line in enumerate(out):
        upper = line.upper()
        if upper.startswith("BEGIN:VCARD"):
            version = ""
        elif upper.startswith("VERSION:"):
            version = line.split(":", 1)[1].strip()
        elif version == "2.1" and ":" in line and not upper.startswith(("END:", "BEGIN:")):
            head, value = line.split(":", 1)
            out[i] = head + ":" + value.replace("\\,", ",").replace(",", "\\,")
    return "\r\n".join(out) + "\r\n"


def _cards(text: str) -> Iterator[Any]:
    try:
        yield from vobject.readComponents(_join_soft_breaks(text), ignoreUnreadable=False)
    except Exception as error:  # vobject raises ParseError and plain ValueErrors alike
        number = getattr(error, "lineNumber", None)
        where = f"line {number}" if number else "the file"
        raise RefusedFile(f"{where}: not a vCard file ({str(error).splitlines()[0]})") from None


def read_vcards(text: str) -> list[ImportedContact]:
    records: list[ImportedContact] = []
    for number, card in enumerate(_cards(text), start=1):
        where = f"card {number}"
        if card.name != "VCARD":
            raise RefusedFile(f"{where}: a {card.name}, not a VCARD")
        if number > MAX_RECORDS:
            raise RefusedFile(f"{where}: more than {MAX_RECORDS} records")
        contents = card.contents
        labels = {
            line.group: str(line.value)
            for line in contents.get("x-ablabel", [])
            if line.group is not None
        }
        name = str(contents["fn"][0].value).strip() if "fn" in contents else ""
        if not name and "n" in contents:
            n = contents["n"][0].value
            name = " ".join(p for p in (n.prefix, n.given, n.additional, n.family) if p).strip()
        methods: list[dict[str, Any]] = []
        for line in contents.get("tel", []):
            # 2.1 writes its types bare (TEL;WORK;FAX), 3.0 and 4.0 as TYPE=
            types = _params(line, "TYPE") + [p.lower() for p in line.singletonparams]
            kind = next((_TEL_TYPES[t] for t in types if t in _TEL_TYPES), MethodType.PHONE)
            value = str(line.value).removeprefix("tel:")
            methods.append(_method(line, kind, value, types, labels))
        for line in contents.get("email", []):
            value = str(line.value).removeprefix("mailto:")
            methods.append(_method(line, MethodType.EMAIL, value, _params(line, "TYPE"), labels))
        data: dict[str, Any] = {"name": name, "methods": methods}
        declared = contents.get("x-crisishub-kind", [None])[0]
        kind_line = contents.get("kind", [None])[0]
        if declared is not None:
            data["kind"] = str(declared.value).strip().lower()
        elif kind_line is not None and str(kind_line.value).lower() == "org":
            data["kind"] = "function"
        if "title" in contents:
            data["function"] = str(contents["title"][0].value).strip() or None
        if "note" in contents:
            data["note"] = str(contents["note"][0].value).strip() or None
        if "categories" in contents:
            value = contents["categories"][0].value
            data["tags"] = [str(tag).strip() for tag in value if str(tag).strip()]
        if "x-crisishub-disciplines" in contents:
            raw = str(contents["x-crisishub-disciplines"][0].value)
            data["disciplines"] = [d.strip() for d in raw.split(",") if d.strip()]
        if "geo" in contents:
            data["location"] = _geo(where, str(contents["geo"][0].value))
        organisation = None
        if "org" in contents:
            value = contents["org"][0].value
            organisation = (value[0] if isinstance(value, list) else str(value)).strip() or None
        contact_id = None
        if "uid" in contents:
            uid = str(contents["uid"][0].value).removeprefix("urn:uuid:").replace("-", "")
            contact_id = uid if _ID.match(uid) else None
        records.append(ImportedContact(where, _fields(where, data), organisation, contact_id, None))
    if not records:
        raise RefusedFile("the file holds no vCard")
    return records


def _method(
    line: Any, kind: MethodType, value: str, types: list[str], labels: dict[str, str]
) -> dict[str, Any]:
    label = line.params.get("X-LABEL", [None])[0]
    if label is None and line.group in labels:
        label = labels[line.group].removeprefix("_$!<").removesuffix(">!$_")
    if label is None:
        kept = [t for t in types if t in ("work", "home")]
        label = kept[0] if kept else None
    h24 = line.params.get("X-H24", ["false"])[0].lower() == "true"
    # Phones carry it in the label ("Permanence 24/7"), having no field for it.
    h24 = h24 or bool(label and re.search(r"24\s*/\s*7|24\s*h", label, re.IGNORECASE))
    return {"type": kind.value, "value": value.strip(), "label": label, "h24": h24}


def _geo(where: str, value: str) -> dict[str, float]:
    # 4.0 writes geo:50.84,4.38 and 3.0 writes 50.84;4.38
    parts = re.split(r"[,;]", value.removeprefix("geo:"))
    try:
        return {"lat": float(parts[0]), "lon": float(parts[1].split(";")[0])}
    except (IndexError, ValueError):
        raise RefusedFile(f"{where}: GEO {value!r} is no latitude and longitude") from None


def read_file(name: str, data: bytes) -> list[ImportedContact]:
    """A CSV or a vCard file, by its content (a vCard starts BEGIN:VCARD), in UTF-8 (with or
    without a BOM) or, for Outlook's older exports, Windows-1252."""
    if len(data) > MAX_FILE_BYTES:
        raise RefusedFile(f"{name}: the file exceeds {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise RefusedFile(f"{name}: NUL characters: not a text file")
    if text.lstrip().upper().startswith("BEGIN:VCARD"):
        return read_vcards(text)
    return read_csv(text)
