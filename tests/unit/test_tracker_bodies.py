"""The tracker bodies' parsers, which both /ingest/osmand paths (the Starlette route and the
OsmandIngest fast path) and /ingest/owntracks share: web/api/ingest.py and
hub/convoys/ingest.py. The live tests (tests/test_trackers.py) send the apps' real bodies."""

from __future__ import annotations

import base64
import json

import pytest

from hub.convoys.ingest import owntracks_fix, traccar_fix
from hub.errors import HubError
from models.tracker_shapes import OwnTracksLocation, TraccarBody
from web.api.ingest import basic_password, osmand_params

# traccar/traccar-client v9.7.20 lib/preferences.dart `_locationTemplate()`, rendered.
BODY = {
    "location": {
        "timestamp": "2025-06-15T13:45:12.862Z",
        "coords": {
            "latitude": 37.4219983,
            "longitude": -122.084,
            "accuracy": 5,
            "speed": 12.5,
            "heading": -1,
            "altitude": 5,
        },
        "is_moving": True,
        "odometer": 0,
        "event": "",
        "battery": {"level": 0.5, "is_charging": False},
        "activity": {"type": "in_vehicle"},
        "extras": {},
        "_": "&id=KEY&lat=37.4219983&lon=-122.084&timestamp=2025-06-15T13:45:12.862Z&",
    },
    "device_id": "KEY",
}


def test_a_json_content_type_selects_the_traccar_body() -> None:
    raw = json.dumps(BODY).encode()
    for content_type in ("application/json", "Application/JSON; charset=utf-8"):
        parsed = osmand_params(b"id=other", raw, content_type)
        assert isinstance(parsed, TraccarBody) and parsed.device_id == "KEY"
    # Without it, the same path reads the query and a form, as before.
    form = osmand_params(b"id=KEY&lat=50.8", b"lon=4.3&lat=50.8", "")
    assert form == {"id": "KEY", "lat": "50.8", "lon": "4.3"}
    # ... but a field on which they disagree is ambiguous, so refused.
    with pytest.raises(HubError) as refused:
        osmand_params(b"id=KEY&lat=50.8", b"lon=4.3&lat=50.9", "")
    assert refused.value.code == "invalid" and "lat" in refused.value.message


def test_traccar_speed_is_m_per_s_and_minus_one_is_unknown() -> None:
    values = traccar_fix(TraccarBody.model_validate(BODY))
    assert (values.lat, values.lon) == (37.4219983, -122.084)
    assert values.speed == 12.5 and values.heading is None and values.accuracy == 5
    assert values.ts == "2025-06-15T13:45:12.862Z"


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"null",
        b'{"device_id": "KEY"}',
        b'{"device_id": 7, "location": {}}',
        json.dumps({**BODY, "location": [BODY["location"]]}).encode(),
        b'{"device_id": "KEY", "location": {"timestamp": "x", "coords": {"latitude": NaN}}}',
    ],
)
def test_malformed_traccar_bodies_are_invalid(body: bytes) -> None:
    with pytest.raises(HubError) as refused:
        osmand_params(b"", body, "application/json")
    assert refused.value.code == "invalid"


def test_owntracks_velocity_is_km_per_h() -> None:
    message = OwnTracksLocation.model_validate(
        {"_type": "location", "lat": 50.8, "lon": 4.3, "tst": 1714550400, "vel": 36, "cog": 90}
    )
    values = owntracks_fix(message)
    assert values.speed == pytest.approx(10.0) and values.heading == 90
    assert values.ts == 1714550400.0 and values.accuracy is None


def test_the_basic_password_is_the_device_key() -> None:
    def header(credentials: bytes) -> str:
        return "Basic " + base64.b64encode(credentials).decode()

    assert basic_password(header(b"jane:s3cret:with:colons")) == "s3cret:with:colons"
    assert basic_password(header(b":KEY")) == "KEY"
    for bad in (None, "", "Bearer x", "Basic", "Basic ???", header(b"jane"), header(b"jane:")):
        with pytest.raises(HubError) as refused:
            basic_password(bad)
        assert refused.value.code == "unauthorized", bad
