"""The incident's exports other than the logbook, and the archive that holds them all: pure
functions from the typed rows of an IncidentRecord to the bytes of a file."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from fastkml import Document, Placemark, kml
from fastkml.data import Data, ExtendedData
from fastkml.geometry import create_kml_geometry
from pygeoif import shape

from hub.convoys.files import to_gpx
from hub.public import feature_collection
from hub.timeline.logbook import Language, render_logbook, stamp
from hub.timeline.record import IncidentRecord
from hub.timeline.zone import INCIDENT_ZONE

FEED_COLUMNS = (
    "seq",
    "time",
    "time_utc",
    "author",
    "organisation",
    "discipline",
    "kind",
    "priority",
    "text",
    "corrects_seq",
    "reason",
    "lon",
    "lat",
)


def feed_csv(record: IncidentRecord) -> bytes:
    """Every feed entry, oldest first, one row each; a correction names the seq of the entry
    it corrects. UTF-8 with a byte-order mark: without it Excel reads the file as the
    machine's ANSI code page and mangles every accent."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(FEED_COLUMNS)
    seq_of = {entry["id"]: entry["seq"] for entry in record.entries}
    for entry in record.entries:
        location = entry["location"]
        lon = lat = ""
        if location is not None and location.get("type") == "Point":
            lon, lat = (repr(float(c)) for c in location["coordinates"][:2])
        corrects = entry["corrects"]
        writer.writerow(
            (
                entry["seq"],
                stamp(entry["created_at"]),
                entry["created_at"],
                entry["author"]["name"],
                entry["author"]["organisation"],
                entry["author"]["discipline"],
                entry["kind"],
                entry["priority"],
                _cell(entry["text"]),
                "" if corrects is None else seq_of.get(corrects, ""),
                _cell(entry["reason"] or ""),
                lon,
                lat,
            )
        )
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _cell(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet (CSV injection): a field
    # team's "-3 vehicles" or a hostile "=HYPERLINK(…)" is shown as text with a leading quote.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def anchors_geojson(record: IncidentRecord) -> bytes:
    """The live anchors as the map draws them (the same FeatureCollection as GET …/anchors)."""
    return orjson.dumps(feature_collection(record.anchors), option=orjson.OPT_INDENT_2)


def anchors_kml(record: IncidentRecord) -> bytes:
    """The live anchors as KML placemarks (Google Earth, QGIS, ATAK), kind and version in
    ExtendedData."""
    document = Document(name=record.incident["title"], features=[])
    for anchor in record.anchors:
        document.append(
            Placemark(
                id=f"anchor-{anchor['id']}",
                name=anchor["label"],
                description=anchor["kind"],
                # validated GeoJSON (models/geojson.py), which pygeoif reads as is
                kml_geometry=create_kml_geometry(shape(cast(Any, anchor["geometry"]))),
                extended_data=ExtendedData(
                    elements=[
                        Data(name="kind", value=anchor["kind"]),
                        Data(name="version", value=str(anchor["version"])),
                        Data(name="updated_at", value=anchor["updated_at"]),
                    ]
                ),
            )
        )
    text = kml.KML(features=[document]).to_string(prettyprint=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode("utf-8")


def events_jsonl(record: IncidentRecord) -> bytes:
    """The event log as JSON lines, one `incident.event` each, by seq: what a tool replays."""
    return b"".join(orjson.dumps(event) + b"\n" for event in record.events)


def evaluation_json(record: IncidentRecord) -> bytes:
    return orjson.dumps({"points": record.points}, option=orjson.OPT_INDENT_2)


def _name(text: str, fallback: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60].strip("_")
    return safe or fallback


def archive_zip(
    record: IncidentRecord, lang: Language, exported_by: str, now: datetime | None = None
) -> bytes:
    """The incident for its evaluation file, in one ZIP: the logbook, the feed, the anchors,
    one GPX per convoy, the events and the evaluation points, and a README saying what each
    is."""
    now = now or datetime.now(UTC)
    members: list[tuple[str, bytes]] = [
        ("logbook.pdf", render_logbook(record, lang, exported_by, now)),
        ("feed.csv", feed_csv(record)),
        ("anchors.geojson", anchors_geojson(record)),
        ("anchors.kml", anchors_kml(record)),
        ("events.jsonl", events_jsonl(record)),
        ("evaluation.json", evaluation_json(record)),
    ]
    taken: set[str] = set()
    for number, convoy in enumerate(record.convoys, 1):
        name = f"tracks/{_name(convoy.name, f'convoy-{number}')}.gpx"
        if name in taken:
            name = f"tracks/{number}-{_name(convoy.name, 'convoy')}.gpx"
        taken.add(name)
        members.append((name, to_gpx(convoy.name, convoy.route, convoy.trails)))
    readme = "\n".join(
        [
            f"{record.incident['title']} ({record.incident['id']})",
            f"exported {now.astimezone(INCIDENT_ZONE):%d/%m/%Y %H:%M:%S} ({INCIDENT_ZONE}) "
            f"by {exported_by}",
            "",
            "logbook.pdf      every event in time order, corrections under their entries",
            "feed.csv         the feed entries (UTF-8, opens in a spreadsheet)",
            "anchors.geojson  the anchors on the map at export time (GeoJSON)",
            "anchors.kml      the same anchors as KML",
            "events.jsonl     the incident's event log, one JSON event per line, by seq",
            "evaluation.json  the evaluation points",
            "tracks/*.gpx     each convoy's planned route and its vehicles' accepted fixes",
            "",
        ]
    )
    members.insert(0, ("README.txt", readme.encode("utf-8")))
    buffer = io.BytesIO()
    stamp_tuple = now.astimezone(INCIDENT_ZONE).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=stamp_tuple)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
