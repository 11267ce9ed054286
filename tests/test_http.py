"""The HTTP API: sessions, bearer tokens, origins, and parity with the socket path."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import socketio

from tests.conftest import Clients
from tests.live import HubProcess
from tests.seed import Seeder
from web.api import ENDPOINTS

POINT = {"type": "Point", "coordinates": [4.36, 50.84]}


async def test_health_and_readiness(hub_server: HubProcess) -> None:
    async with httpx.AsyncClient(base_url=hub_server.url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


async def test_login_sets_a_session_cookie_that_works_for_http_and_sockets(
    hub_server: HubProcess, seed: Seeder
) -> None:
    user = await seed.user("cp")
    incident = await seed.incident({user: "contributor"})
    async with httpx.AsyncClient(
        base_url=hub_server.url, headers={"Origin": hub_server.url}
    ) as http:
        wrong = await http.post(
            "/api/session", json={"username": user.username, "password": "wrong password"}
        )
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
        unknown = await http.post("/api/session", json={"username": "nobody", "password": "x"})
        assert unknown.status_code == 401
        login = await http.post(
            "/api/session", json={"username": user.username, "password": user.password}
        )
        assert login.status_code == 200
        cookie = login.cookies["crisishub_session"]
        assert "httponly" in login.headers["set-cookie"].lower()
        assert (await http.get("/api/me")).json()["user"]["username"] == user.username
        posted = await http.post(
            f"/api/incidents/{incident}/feed",
            json={"client_id": str(uuid.uuid4()), "text": "from browser"},
        )
        assert posted.status_code == 201
        # A cookie-authenticated write from a foreign origin is refused (CSRF).
        foreign = await http.post(
            f"/api/incidents/{incident}/feed",
            json={"client_id": str(uuid.uuid4()), "text": "csrf"},
            headers={"Origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        # The browser's socket authenticates with the same cookie.
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(
            hub_server.url,
            headers={"Cookie": f"crisishub_session={cookie}", "Origin": hub_server.url},
            transports=["websocket"],
        )
        joined = await sio.call("incident.join", {"incident_id": incident})
        assert joined["ok"] and joined["seq"] == 1
        await sio.disconnect()
        assert (await http.delete("/api/session")).status_code == 200
        http.cookies.set("crisishub_session", cookie)
        assert (await http.get("/api/me")).status_code == 401
    forged = socketio.AsyncClient(reconnection=False)
    reasons: list[object] = []
    forged.on("connect_error", reasons.append)
    try:
        await forged.connect(
            hub_server.url,
            headers={"Cookie": "crisishub_session=forged.x"},
            transports=["websocket"],
        )
    except socketio.exceptions.ConnectionError:
        pass
    assert reasons == [{"message": "unauthorized"}]


async def test_foreign_browser_origins_cannot_open_sockets(
    hub_server: HubProcess, seed: Seeder
) -> None:
    user = await seed.user("cp")
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(
            hub_server.url,
            auth={"token": user.token},
            headers={"Origin": "http://evil.example"},
            transports=["websocket"],
        )
        connected = True
    except socketio.exceptions.ConnectionError:
        connected = False
    finally:
        await client.disconnect()  # a refused handshake leaves engineio's aiohttp session open
    assert not connected
    allowed = socketio.AsyncClient(reconnection=False)
    await allowed.connect(
        hub_server.url,
        auth={"token": user.token},
        headers={"Origin": hub_server.url},
        transports=["websocket"],
    )
    assert allowed.connected
    await allowed.disconnect()


async def test_rest_and_socket_paths_give_the_same_results(
    hub_server: HubProcess, seed: Seeder, clients: Clients
) -> None:
    user = await seed.user("cp")
    incident = await seed.incident({user: "contributor"})
    c = await clients(hub_server, user)
    await c.join(incident)
    headers = {"Authorization": f"Bearer {user.token}"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
        client_id = str(uuid.uuid4())
        over_http = await http.post(
            f"/api/incidents/{incident}/feed",
            json={
                "client_id": client_id,
                "text": "Road N2 closed",
                "kind": "action",
                "location": POINT,
            },
        )
        assert over_http.status_code == 201
        # The same client_id over the socket: the same entry, nothing new written.
        over_socket = await c.request(
            "feed.post",
            {
                "incident_id": incident,
                "client_id": client_id,
                "text": "Road N2 closed",
                "kind": "action",
                "location": POINT,
            },
        )
        assert over_socket["entry"] == over_http.json()["entry"]
        await c.wait_for_seq(incident, 1)
        assert c.incidents[incident].events[0]["data"] == over_socket["entry"]

        created = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "road_closure",
                "label": "N2",
                "geometry": POINT,
            },
        )
        anchor = created.json()["anchor"]
        moved = await http.patch(
            f"/api/incidents/{incident}/anchors/{anchor['id']}",
            json={"version": 1, "geometry": {**POINT, "coordinates": [4.37, 50.84]}},
        )
        assert moved.json()["anchor"]["version"] == 2
        stale = await http.patch(
            f"/api/incidents/{incident}/anchors/{anchor['id']}", json={"version": 1, "label": "x"}
        )
        assert stale.status_code == 409
        assert stale.json()["error"]["code"] == "conflict"
        assert stale.json()["anchor"] == moved.json()["anchor"]
        # seq 3 and 5: the feed entries of the creation and of the move
        await c.wait_for_seq(incident, 5)
        assert c.incidents[incident].events[3]["data"] == moved.json()["anchor"]

        collection = (await http.get(f"/api/incidents/{incident}/anchors")).json()
        assert collection["type"] == "FeatureCollection"
        assert collection["features"][0]["id"] == anchor["id"]
        assert collection["features"][0]["properties"]["version"] == 2

        events = (
            await http.get(f"/api/incidents/{incident}/events", params={"since": 1, "limit": 5})
        ).json()
        assert [e["seq"] for e in events["events"]] == [2, 3, 4, 5] and events["seq"] == 5
        replay = await c.call("incident.join", {"incident_id": incident, "since": 1})
        assert replay["events"] == events["events"]
        feed = (await http.get(f"/api/incidents/{incident}/feed")).json()["entries"]
        assert feed[0] == over_socket["entry"]
        assert [e["text"] for e in feed[1:]] == [
            "Anchor created: N2 (road_closure)",
            "Anchor moved: N2 (road_closure)",
        ]

        bad = await http.post(f"/api/incidents/{incident}/feed", content=b"{not json")
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
        huge = await http.post(
            f"/api/incidents/{incident}/feed", content=b'{"text": "' + b"x" * 1_100_000 + b'"}'
        )
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
        bad_limit = await http.get(f"/api/incidents/{incident}/events", params={"limit": "x"})
        assert bad_limit.status_code == 400
        assert (await http.get(f"/api/incidents/{incident}/feed")).json()["entries"] == feed


async def test_incidents_are_created_listed_and_filtered(
    hub_server: HubProcess, seed: Seeder
) -> None:
    user = await seed.user("crisis-cell", discipline="coord")
    headers = {"Authorization": f"Bearer {user.token}"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
        created = await http.post(
            "/api/incidents", json={"title": "Flooding Vesdre", "kind": "emergency"}
        )
        assert created.status_code == 201
        incident = created.json()["incident"]
        assert incident["phase"] == "monitoring" and incident["status"] == "open"
        await http.post("/api/incidents", json={"title": "Exercise Seveso", "kind": "exercise"})
        kinds = (await http.get("/api/incidents", params={"kind": "exercise"})).json()
        assert [i["title"] for i in kinds["incidents"]] == ["Exercise Seveso"]
        mine = (await http.get(f"/api/incidents/{incident['id']}")).json()["incident"]
        assert mine["role"] == "manager"
        bad = await http.post("/api/incidents", json={"title": "x", "kind": "drill"})
        assert bad.status_code == 400
        assert (
            await http.get("/api/incidents", headers={"Authorization": "Bearer x"})
        ).status_code == 401


async def test_openapi_describes_every_api_route(hub_server: HubProcess) -> None:
    """Every route with its success answer; tests/test_openapi_fuzz.py checks that the
    answers are what the document says."""
    async with httpx.AsyncClient(base_url=hub_server.url) as http:
        spec = (await http.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    schemas = spec["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return resolved

    for endpoint in ENDPOINTS:
        operation = spec["paths"][endpoint.path][endpoint.method.lower()]
        success = operation["responses"][str(endpoint.status)]
        (media, content), *_ = success["content"].items()
        assert media == endpoint.media, endpoint.path
        if media == "application/json":
            # OwnTracks expects a JSON array of messages for the phone; all else is an object.
            kind = "array" if endpoint.path == "/ingest/owntracks" else "object"
            assert resolve(content["schema"])["type"] == kind, endpoint.path
    post_feed = spec["paths"]["/api/incidents/{incident_id}/feed"]["post"]
    body = resolve(post_feed["requestBody"]["content"]["application/json"]["schema"])
    assert body["properties"]["client_id"]["format"] == "uuid"
    assert "incident_id" not in body["properties"]  # it is the path's
    entry = resolve(post_feed["responses"]["201"]["content"]["application/json"]["schema"])
    assert resolve(entry["properties"]["entry"])["properties"]["corrects"]["anyOf"] == [
        {"type": "string"},
        {"type": "null"},
    ]
    events = spec["paths"]["/api/incidents/{incident_id}/events"]["get"]["parameters"]
    since = next(p for p in events if p["name"] == "since")["schema"]
    assert since == {"type": "integer", "minimum": 0, "maximum": 2**62, "default": 0}
    listing = spec["paths"]["/api/incidents"]["get"]["parameters"]
    assert {p["name"]: p["schema"]["enum"] for p in listing}["status"] == ["open", "closed"]
    convoy = "/api/incidents/{incident_id}/convoys/{convoy_id}"
    gpx = spec["paths"][convoy + "/tracks.gpx"]["get"]["responses"]["200"]
    assert list(gpx["content"]) == ["application/gpx+xml"]
    route = spec["paths"][convoy + "/route"]["put"]["requestBody"]["content"]
    assert list(route) == ["application/gpx+xml", "application/vnd.google-earth.kml+xml"]
    track = spec["paths"]["/api/vehicles/{vehicle_id}/track"]["post"]["requestBody"]["content"]
    assert list(track) == ["application/gpx+xml"]
    osmand = spec["paths"]["/ingest/osmand"]["post"]["requestBody"]["content"]
    # The OsmAnd form, and Traccar Client 9's JSON body (models/tracker_shapes.py)
    assert list(osmand) == ["application/x-www-form-urlencoded", "application/json"]


async def test_options_and_wrong_methods_name_every_method_of_the_path(
    hub_server: HubProcess, seed: Seeder
) -> None:
    user = await seed.user("allow")
    incident = await seed.incident({user: "manager"})
    anchors = f"/api/incidents/{incident}/anchors"
    async with httpx.AsyncClient(base_url=hub_server.url) as http:
        # OPTIONS needs no credentials: it says what the path takes, nothing of its data.
        options = await http.options(anchors)
        assert options.status_code == 204 and options.content == b""
        assert options.headers["allow"] == "GET, HEAD, POST, OPTIONS"
        headers = {"Authorization": f"Bearer {user.token}"}
        for method in ("PUT", "DELETE", "PATCH", "TRACE"):
            refused = await http.request(method, anchors, headers=headers)
            assert refused.status_code == 405, method
            assert refused.headers["allow"] == "GET, HEAD, POST, OPTIONS", method
            assert refused.json() == {
                "error": {"code": "invalid", "message": "method not allowed; see Allow"}
            }
        # Methods of one path come from both tables and from every endpoint of the path.
        one = await http.options(f"/api/incidents/{incident}")
        assert one.headers["allow"] == "GET, HEAD, PATCH, OPTIONS"
        anchor = await http.put(f"{anchors}/x", headers=headers)
        assert anchor.status_code == 405 and anchor.headers["allow"] == "PATCH, DELETE, OPTIONS"
        osmand = await http.put("/ingest/osmand")
        assert osmand.status_code == 405
        # no HEAD for the tracker path: its GET stores a fix, and HEAD must change nothing
        assert osmand.headers["allow"] == "GET, POST, OPTIONS"
        assert (await http.head("/ingest/osmand?id=x&lat=50&lon=4")).status_code == 405
        # filters are checked, not silently matching nothing
        for name in ("status", "kind", "phase"):
            bad = await http.get("/api/incidents", params={name: "AAA"}, headers=headers)
            assert bad.status_code == 400 and name in bad.json()["error"]["message"], name
        # HEAD answers as GET, without a body.
        head = await http.head(anchors, headers=headers)
        assert head.status_code == 200 and head.content == b""
        # The methods a path does take still work and still authenticate.
        assert (await http.get(anchors)).status_code == 401
        assert (await http.get(anchors, headers=headers)).status_code == 200


async def test_a_nul_character_in_the_url_is_invalid_on_every_backend(
    hub_server: HubProcess, seed: Seeder
) -> None:
    """PostgreSQL cannot compare or store NUL (SQLite can): refused before any handler, the
    same way on both, instead of a 503 on one and a write on the other."""
    user = await seed.user("nul")
    incident = await seed.incident({user: "manager"})
    headers = {"Authorization": f"Bearer {user.token}"}
    async with httpx.AsyncClient(base_url=hub_server.url, headers=headers) as http:
        for path in (
            f"/api/incidents/{incident}%00",
            f"/api/incidents/{incident}%00/feed",
            "/api/incidents?status=open%00",
        ):
            response = await http.get(path)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error"]["code"] == "invalid", path
        posted = await http.post(
            f"/api/incidents/{incident}/feed",
            json={"client_id": str(uuid.uuid4()), "text": "fire\x00"},
        )
        assert posted.status_code == 400 and posted.json()["error"]["code"] == "invalid"
        assert (await http.get(f"/api/incidents/{incident}/feed")).json()["entries"] == []
        page = await http.get(f"/incidents/{incident}%00")
        assert page.status_code == 404
