"""CAP 1.2 documents from hand-built messages: valid against the official OASIS schema
(../shared/standards/CAP-v1.2.xsd, not committed here), and `cap_problems` finding what the
schema lets through."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from lxml import etree

from hub.alerts.cap import NS, cap_problems, cap_time, circle_text, polygon_text, reference, render
from models.alert import AlertMessage

XSD = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards" / "CAP-v1.2.xsd"
Q = "{" + NS + "}"
SENT = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
LANGUAGES = ("fr-BE", "nl-BE", "de-BE", "en-GB")
PAGE = "https://alert.example.be/alerts/a1"

# A square with a hole (lon, lat), and a second polygon: a MultiPolygon.
SQUARE = [[4.3, 50.8], [4.4, 50.8], [4.4, 50.9], [4.3, 50.9], [4.3, 50.8]]
HOLE = [[4.33, 50.83], [4.36, 50.83], [4.36, 50.86], [4.33, 50.83]]
TRIANGLE = [[5.0, 51.0], [5.1, 51.0], [5.05, 51.1], [5.0, 51.0]]


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def content(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "a1",
        "incident_id": "i1",
        "info": {
            "fr": {
                "headline": "Incendie chimique à Anderlecht",
                "description": "Un nuage de fumée se dirige vers le nord.",
                "instruction": "Restez à l'intérieur, fermez portes et fenêtres.",
            },
            "nl": {
                "headline": "Chemische brand in Anderlecht",
                "description": "Een rookwolk trekt naar het noorden.",
                "instruction": "Blijf binnen, sluit deuren en ramen.",
            },
            "de": {
                "headline": "Chemiebrand in Anderlecht",
                "description": "Eine Rauchwolke zieht nach Norden.",
                "instruction": "Bleiben Sie drinnen, schließen Sie Türen und Fenster.",
            },
            "en": {
                "headline": "Chemical fire in Anderlecht",
                "description": "A smoke cloud is moving north.",
                "instruction": "Stay indoors, close doors and windows.",
            },
        },
        "area": {
            "anchor_ids": ["x1", "c1"],
            "labels": ["Exclusion zone", "Smoke"],
            "geometry": {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [TRIANGLE]]},
            "polygons": {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [TRIANGLE]]},
            "circles": [{"lat": 50.85, "lon": 4.35, "radius_m": 1500.0}],
        },
        "event": "Chemical fire",
        "category": "Fire",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "expires": "2026-12-01T16:00:00.500000Z",
    }
    base.update(changes)
    return base


def message(
    identifier: str = "crisishub-a1-1",
    *,
    number: int = 1,
    msg_type: str = "Alert",
    cap_status: str = "Actual",
    references: list[str] | None = None,
    **changes: Any,
) -> AlertMessage:
    return AlertMessage(
        identifier=identifier,
        alert_id="a1",
        number=number,
        msg_type=msg_type,
        cap_status=cap_status,
        sender="crisishub@nccn.example.be",
        sent=SENT,
        references=references or [],
        content=content(**changes),
    )


def rendered(row: AlertMessage) -> bytes:
    return render(row, sender_name="NCCN", page_url=PAGE)


def test_an_alert_is_valid_with_one_info_per_language_and_its_area(
    schema: xmlschema.XMLSchema,
) -> None:
    document = rendered(message())
    schema.validate(document.decode())
    assert cap_problems(document) == []
    root = etree.fromstring(document)
    assert root.findtext(Q + "sent") == "2026-12-01T10:00:00+00:00"
    assert root.findtext(Q + "status") == "Actual"
    assert root.findtext(Q + "scope") == "Public"
    assert root.find(Q + "references") is None
    infos = root.findall(Q + "info")
    assert [info.findtext(Q + "language") for info in infos] == ["fr-BE", "nl-BE", "de-BE", "en-GB"]
    english = infos[3]
    assert english.findtext(Q + "headline") == "Chemical fire in Anderlecht"
    assert english.findtext(Q + "expires") == "2026-12-01T16:00:00+00:00"
    assert english.findtext(Q + "senderName") == "NCCN"
    assert english.findtext(Q + "web") == PAGE + "?lang=en"
    area = english.find(Q + "area")
    assert area.findtext(Q + "areaDesc") == "Exclusion zone, Smoke"
    polygons = [p.text for p in area.findall(Q + "polygon")]
    # the exterior rings only (CAP has no holes), lat,lon, closed
    assert polygons == [
        "50.8,4.3 50.8,4.4 50.9,4.4 50.9,4.3 50.8,4.3",
        "51,5 51,5.1 51.1,5.05 51,5",
    ]
    assert [c.text for c in area.findall(Q + "circle")] == ["50.85,4.35 1.5"]


def test_update_and_cancel_reference_every_earlier_message(schema: xmlschema.XMLSchema) -> None:
    first = message()
    update = message("crisishub-a1-2", number=2, msg_type="Update", references=[reference(first)])
    cancel = message(
        "crisishub-a1-3",
        number=3,
        msg_type="Cancel",
        references=[reference(first), reference(update)],
    )
    for row in (update, cancel):
        document = rendered(row)
        schema.validate(document.decode())
        assert cap_problems(document) == []
    root = etree.fromstring(rendered(cancel))
    assert root.findtext(Q + "references") == (
        "crisishub@nccn.example.be,crisishub-a1-1,2026-12-01T10:00:00+00:00 "
        "crisishub@nccn.example.be,crisishub-a1-2,2026-12-01T10:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (
            "Exercise",
            {"fr-BE": "EXERCICE", "nl-BE": "OEFENING", "de-BE": "ÜBUNG", "en-GB": "EXERCISE"},
        ),
        ("Test", {"fr-BE": "TEST", "nl-BE": "TEST", "de-BE": "TEST", "en-GB": "TEST"}),
    ],
)
def test_exercise_and_test_texts_start_with_their_word_and_link_no_page(
    schema: xmlschema.XMLSchema, status: str, words: dict[str, str]
) -> None:
    document = rendered(message(cap_status=status))
    schema.validate(document.decode())
    assert cap_problems(document) == []
    root = etree.fromstring(document)
    assert root.findtext(Q + "status") == status
    assert root.findtext(Q + "note")
    for info in root.findall(Q + "info"):
        word = words[info.findtext(Q + "language")]
        for field in ("event", "headline", "description", "instruction"):
            assert info.findtext(Q + field).startswith(word), field
        assert info.find(Q + "web") is None


def test_a_drawn_area_of_circles_only_and_one_language(schema: xmlschema.XMLSchema) -> None:
    row = message(
        info={"nl": {"headline": "Gaslek", "description": "", "instruction": "Ga naar binnen."}},
        area={
            "anchor_ids": [],
            "labels": [],
            "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
            "polygons": None,
            "circles": [{"lat": 51.2, "lon": 4.4, "radius_m": 250}],
        },
    )
    document = rendered(row)
    schema.validate(document.decode())
    assert cap_problems(document) == []
    info = etree.fromstring(document).find(Q + "info")
    assert info.findtext(Q + "language") == "nl-BE"
    assert info.find(Q + "description") is None  # an empty text is left out, not sent empty
    area = info.find(Q + "area")
    assert area.findtext(Q + "areaDesc") == "Getekend gebied"
    assert area.find(Q + "polygon") is None
    assert [c.text for c in area.findall(Q + "circle")] == ["51.2,4.4 0.25"]


def test_an_open_ring_is_closed_when_rendered() -> None:
    assert polygon_text(SQUARE[:-1]) == polygon_text(SQUARE)
    assert circle_text({"lat": 50.0, "lon": -0.0, "radius_m": 1000}) == "50,0 1"
    assert cap_time("2026-12-01T11:00:00.25+01:00") == "2026-12-01T10:00:00+00:00"


def _with(document: bytes, name: str, text: str) -> bytes:
    """`document` with the first `name` element's text replaced."""
    root = etree.fromstring(document)
    element = root.find(f".//{Q}{name}")
    assert element is not None
    element.text = text
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result


def test_the_schema_accepts_what_cap_problems_catches(schema: xmlschema.XMLSchema) -> None:
    good = rendered(message())
    update = rendered(
        message("crisishub-a1-2", msg_type="Update", references=[reference(message())])
    )
    cases = {
        "open ring": (
            _with(good, "polygon", "50.8,4.3 50.8,4.4 50.9,4.4 50.9,4.3"),
            "not closed",
        ),
        "three points": (_with(good, "polygon", "50.8,4.3 50.8,4.4 50.8,4.3"), "at least 4"),
        "self-reference": (
            _with(
                update,
                "references",
                "crisishub@nccn.example.be,crisishub-a1-2,2026-12-01T10:00:00+00:00",
            ),
            "references itself",
        ),
        "identifier with a space": (_with(good, "identifier", "crisishub a1"), "identifier"),
        "references on an Alert": (
            _with(update, "msgType", "Alert"),
            "an Alert message has references",
        ),
        "latitude out of range": (
            _with(good, "polygon", "150.8,4.3 150.8,4.4 150.9,4.4 150.8,4.3"),
            "not a WGS 84",
        ),
        "zero radius": (_with(good, "circle", "50.85,4.35 0"), "radius"),
    }
    for name, (document, expected) in cases.items():
        schema.validate(document.decode())  # the schema lets it through...
        problems = cap_problems(document)  # ...the checker does not
        assert any(expected in problem for problem in problems), (name, problems)


def test_cap_problems_catches_what_the_schema_also_refuses() -> None:
    assert cap_problems(b"<alert") != []
    assert cap_problems(b"<alert xmlns='urn:example'/>") != []
    update_without_references = rendered(message(msg_type="Update"))
    assert any("references no earlier" in p for p in cap_problems(update_without_references))
    unmarked = _with(rendered(message(cap_status="Exercise")), "headline", "Chemical fire")
    assert any("must say so first" in p for p in cap_problems(unmarked))
