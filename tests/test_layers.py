"""Reference layers (issue 16) against a live hub: GeoJSON, KML (a real file) and zipped
Shapefiles (written by pyshp, one in Belgian Lambert 72 that the hub reprojects) uploaded by
an admin; the FeatureCollection with its ETag and 304; a replacement in one transaction (a
reader polling meanwhile sees the old layer or the new, never a mix); bad uploads (a broken
zip, a zip bomb, a projection that cannot be placed, 100 MB, a KML bomb, bad GeoJSON) refused
with their message and nothing written; permissions; and what lies inside a polygon and a
circle: each layer's features, counted and listed, and the registered addresses (a count)."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import shapefile
from pyproj import CRS, Transformer

from models.events import check
from models.layer import (
    MAX_INSIDE_FEATURES,
    MAX_LAYER_UPLOAD_BYTES,
    MAX_ZIP_INFLATED_BYTES,
    InsidePublic,
    LayerCollection,
    LayerPublic,
)
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_cli import crisishub, last_line
from tests.test_contacts import bearer, unique
from tests.test_registrations import csv_file, square

GRAND_PLACE = (4.3525, 50.8467)  # lon, lat


def point(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def collection(*features: dict[str, Any]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def shapefile_zip(
    points: list[tuple[float, float, str]],
    *,
    prj: str | None = None,
    stem: str = "schools",
) -> bytes:
    """A real Shapefile (points with a NAME and a CAPACITY), written by pyshp and zipped as a
    GIS exports it. pyshp writes into memory: given a path, pyshp 3.1.9 leaves the .dbf open
    after the Writer closes, which pytest reports as an unraisable ResourceWarning."""
    parts = {ext: io.BytesIO() for ext in ("shp", "shx", "dbf")}
    with shapefile.Writer(shapeType=shapefile.POINT, **parts) as writer:
        writer.field("NAME", "C", size=80)
        writer.field("CAPACITY", "N", size=6)
        for x, y, name in points:
            writer.point(x, y)
            writer.record(name, 120)
    files = {f"{stem}.{ext}": part.getvalue() for ext, part in parts.items()}
    if prj is not None:
        files[f"{stem}.prj"] = prj.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()


WGS84_PRJ = CRS.from_epsg(4326).to_wkt(version="WKT1_ESRI")
LAMBERT72_PRJ = CRS.from_epsg(31370).to_wkt(version="WKT1_ESRI")

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
  <Document>
    <name>Maisons de repos</name>
    <Placemark>
      <name>Résidence Les Tilleuls</name>
      <description>120 lits</description>
      <ExtendedData><Data name="beds"><value>120</value></Data></ExtendedData>
      <Point><coordinates>4.3530,50.8470,0</coordinates></Point>
    </Placemark>
    <Placemark>
      <name>Home Sint-Jozef</name>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        4.3600,50.8500,0 4.3610,50.8500,0 4.3610,50.8510,0 4.3600,50.8510,0 4.3600,50.8500,0
      </coordinates></LinearRing></outerBoundaryIs></Polygon>
    </Placemark>
    <Folder>
      <Placemark>
        <name>Twee paviljoenen</name>
        <MultiGeometry>
          <Point><coordinates>4.3700,50.8600</coordinates></Point>
          <Point><coordinates>4.3710,50.8610</coordinates></Point>
        </MultiGeometry>
      </Placemark>
    </Folder>
  </Document>
</kml>
"""

KML_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol3;</name>'
    b"<Point><coordinates>4.35,50.84</coordinates></Point></Placemark></kml>"
)


async def upload(
    http: httpx.AsyncClient,
    user: TestUser,
    name: str,
    file_name: str,
    content: bytes,
    *,
    method: str = "POST",
    layer_id: str | None = None,
    **fields: str,
) -> httpx.Response:
    path = "/api/layers" if layer_id is None else f"/api/layers/{layer_id}"
    data = {"name": name, **fields} if name else fields
    return await http.request(
        method, path, files={"file": (file_name, content)}, data=data, headers=bearer(user)
    )


async def uploaded(http: httpx.AsyncClient, user: TestUser, *args: Any, **kw: Any) -> LayerPublic:
    response = await upload(http, user, *args, **kw)
    assert response.status_code == (201 if kw.get("method", "POST") == "POST" else 200), (
        response.text
    )
    layer: LayerPublic = response.json()
    check(LayerPublic, layer)
    return layer


async def document(http: httpx.AsyncClient, user: TestUser, layer_id: str) -> dict[str, Any]:
    response = await http.get(f"/api/layers/{layer_id}", headers=bearer(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    check(LayerCollection, body)
    return body


async def names(http: httpx.AsyncClient, user: TestUser) -> set[str]:
    response = await http.get("/api/layers", headers=bearer(user))
    assert response.status_code == 200, response.text
    return {layer["name"] for layer in response.json()["layers"]}


async def test_geojson_kml_and_shapefiles_are_read_listed_and_cached(
    hub_server: HubProcess, seed: Seeder, tmp_path: Path
) -> None:
    admin = await seed.user("layers-admin", admin=True)
    reader = await seed.user("layers-reader")
    word = unique()
    kml_path = tmp_path / "homes.kml"
    kml_path.write_text(KML, encoding="utf-8")
    to_lambert = Transformer.from_crs(4326, 31370, always_xy=True)
    x, y = to_lambert.transform(*GRAND_PLACE)
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=60) as http:
        schools = await uploaded(
            http,
            admin,
            f"Écoles {word}",
            "ecoles.geojson",
            collection(
                point(4.3531, 50.8468, name="École 1"),
                point(4.3540, 50.8470, NOM="École 2", niveau="primaire"),
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [[4.36, 50.84], [4.361, 50.84], [4.361, 50.841], [4.36, 50.84]]
                        ],
                    },
                    "properties": None,
                },
            ),
            category="school",
            symbol="triangle",
            colour="#D97706",
        )
        assert schools["count"] == 3 and schools["format"] == "geojson"
        assert (schools["category"], schools["symbol"], schools["colour"]) == (
            "school",
            "triangle",
            "#d97706",
        )
        assert schools["version"] == 1 and schools["created_by"] is not None
        assert schools["bbox"] == [4.3531, 50.84, 4.361, 50.847]
        homes = await uploaded(
            http,
            admin,
            f"Maisons de repos {word}",
            kml_path.name,
            kml_path.read_bytes(),
            category="retirement_home",
        )
        assert homes["count"] == 3 and homes["format"] == "kml"
        shp = await uploaded(
            http,
            admin,
            f"Crèches {word}",
            "creches.zip",
            shapefile_zip([(4.35, 50.85, "Crèche A"), (4.36, 50.86, "Crèche B")], prj=WGS84_PRJ),
            category="childcare",
        )
        assert shp["count"] == 2 and shp["format"] == "shapefile"
        lambert = await uploaded(
            http,
            admin,
            f"Lambert {word}",
            "lambert.zip",
            shapefile_zip([(x, y, "Grand-Place")], prj=LAMBERT72_PRJ),
        )
        assert lambert["category"] == "other" and lambert["symbol"] == "circle"

        # every user lists and reads them
        listed = await names(http, reader)
        assert {schools["name"], homes["name"], shp["name"], lambert["name"]} <= listed

        read = await document(http, reader, schools["id"])
        assert read["layer"]["id"] == schools["id"]
        assert [f["name"] for f in read["features"]] == ["École 1", "École 2", None]
        assert read["features"][1]["properties"] == {"NOM": "École 2", "niveau": "primaire"}
        kml = await document(http, reader, homes["id"])
        first, polygon, multi = kml["features"]
        assert first["name"] == "Résidence Les Tilleuls"
        assert first["properties"] == {
            "name": "Résidence Les Tilleuls",
            "description": "120 lits",
            "beds": "120",
        }
        assert first["geometry"] == {"type": "Point", "coordinates": [4.353, 50.847]}
        assert polygon["geometry"]["type"] == "Polygon"
        assert multi["geometry"]["type"] == "MultiPoint"
        creches = await document(http, reader, shp["id"])
        assert [f["properties"] for f in creches["features"]] == [
            {"NAME": "Crèche A", "CAPACITY": 120},
            {"NAME": "Crèche B", "CAPACITY": 120},
        ]
        (grand_place,) = (await document(http, reader, lambert["id"]))["features"]
        lon, lat = grand_place["geometry"]["coordinates"]
        assert abs(lon - GRAND_PLACE[0]) < 1e-6 and abs(lat - GRAND_PLACE[1]) < 1e-6

        # cached by the browser: an ETag, revalidated with If-None-Match, 304 while it stands
        response = await http.get(f"/api/layers/{schools['id']}", headers=bearer(reader))
        etag = response.headers["etag"]
        assert response.headers["cache-control"] == "private, no-cache"
        again = await http.get(
            f"/api/layers/{schools['id']}", headers={**bearer(reader), "if-none-match": etag}
        )
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        changed = await uploaded(
            http,
            admin,
            "",
            "ecoles.geojson",
            collection(point(4.3531, 50.8468, name="École 1")),
            method="PUT",
            layer_id=schools["id"],
        )
        assert changed["version"] == 2 and changed["count"] == 1
        assert changed["name"] == schools["name"] and changed["symbol"] == "triangle"
        fresh = await http.get(
            f"/api/layers/{schools['id']}", headers={**bearer(reader), "if-none-match": etag}
        )
        assert fresh.status_code == 200 and fresh.headers["etag"] != etag
        assert len(fresh.json()["features"]) == 1

        # deleted with its features
        deleted = await http.delete(f"/api/layers/{shp['id']}", headers=bearer(admin))
        assert deleted.status_code == 200 and deleted.json()["id"] == shp["id"]
        gone = await http.get(f"/api/layers/{shp['id']}", headers=bearer(reader))
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
        assert shp["name"] not in await names(http, reader)


async def test_a_replacement_is_one_transaction(hub_server: HubProcess, seed: Seeder) -> None:
    """A reader polling while 20,000 features replace 3 sees 3 or 20,000, never a part; a bad
    replacement leaves the layer as it was."""
    admin = await seed.user("layers-admin", admin=True)
    word = unique()
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=120) as http:
        layer = await uploaded(
            http,
            admin,
            f"Points {word}",
            "p.geojson",
            collection(*(point(5 + i / 100, 50, name=f"p{i}") for i in range(3))),
        )
        big = collection(
            *(point(5 + (i % 200) / 1000, 50 + (i // 200) / 1000) for i in range(20_000))
        )
        seen: list[tuple[int, int]] = []
        replacing = asyncio.create_task(
            upload(http, admin, "", "big.geojson", big, method="PUT", layer_id=layer["id"])
        )
        while not replacing.done():
            body = await document(http, admin, layer["id"])
            seen.append((body["layer"]["count"], len(body["features"])))
        response = await replacing
        assert response.status_code == 200, response.text
        seen.append(
            ((b := await document(http, admin, layer["id"]))["layer"]["count"], len(b["features"]))
        )
        assert seen and all(count == features and count in (3, 20_000) for count, features in seen)
        assert seen[-1] == (20_000, 20_000)
        # a bad file changes nothing: neither features nor version nor name
        bad = collection(point(5, 50), point(5, 95))
        refused = await upload(
            http, admin, f"Renamed {word}", "bad.geojson", bad, method="PUT", layer_id=layer["id"]
        )
        assert refused.status_code == 400, refused.text
        assert "feature 2: latitude 95" in refused.json()["error"]["message"]
        after = await document(http, admin, layer["id"])
        assert after["layer"]["version"] == 2 and after["layer"]["name"] == f"Points {word}"
        assert len(after["features"]) == 20_000


async def _raw_upload_of(url: str, token: str, size: int) -> tuple[int, bytes]:
    """POSTs headers announcing `size` bytes and sends only 64 KiB of them: the hub answers
    from the Content-Length, without waiting for (or reading) the rest."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    boundary = "x" + uuid.uuid4().hex
    head = (
        f"POST /api/layers HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    writer.write(head.encode() + f"--{boundary}\r\n".encode() + b"0" * 65_536)
    await writer.drain()
    head_bytes = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
    lines = head_bytes.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 20)
    writer.close()
    await writer.wait_closed()
    return int(lines[0].split(" ", 2)[1]), body


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


async def test_bad_uploads_are_refused_with_their_message_and_write_nothing(
    hub_server: HubProcess, seed: Seeder, tmp_path: Path
) -> None:
    admin = await seed.user("layers-admin", admin=True)
    user = await seed.user("layers-user")
    word = unique()
    name = f"Refusé {word}"
    good = collection(point(4.35, 50.85, name="ok"))
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=120) as http:

        async def refused(response: httpx.Response, status: int, code: str, words: str) -> None:
            assert response.status_code == status, response.text
            error = response.json()["error"]
            assert error["code"] == code and words in error["message"], error

        async def bad(file_name: str, content: bytes, status: int, code: str, words: str) -> None:
            await refused(await upload(http, admin, name, file_name, content), status, code, words)

        shp = shapefile_zip([(4.35, 50.85, "A")], prj=WGS84_PRJ)
        await bad("broken.zip", shp[: len(shp) // 2], 400, "invalid", "the zip cannot be read")
        await bad("no-shp.zip", zip_of({"readme.txt": b"hello"}), 400, "invalid", "no Shapefile")
        # a projection that cannot be placed: a .prj that is none, a local engineering system,
        # and no .prj at all with coordinates that are no longitude/latitude
        await bad(
            "garbage-prj.zip",
            shapefile_zip([(4.35, 50.85, "A")], prj="PROJCS[nonsense"),
            400,
            "invalid",
            "the .prj is no coordinate system",
        )
        local = 'LOCAL_CS["Site grid",LOCAL_DATUM["x",0],UNIT["metre",1],AXIS["X",EAST]]'
        await bad(
            "local-prj.zip",
            shapefile_zip([(150_000, 170_000, "A")], prj=local),
            400,
            "invalid",
            "cannot be reprojected to WGS 84",
        )
        await bad(
            "no-prj.zip",
            shapefile_zip([(150_000.0, 170_000.0, "A")]),
            400,
            "invalid",
            "longitude 150000.0 is outside [-180, 180] (the zip has no .prj",
        )
        # a zip bomb: a member that inflates past the limit, and too many members
        bomb = zip_of({"schools.shp": b"\x00" * (MAX_ZIP_INFLATED_BYTES + 1)})
        assert len(bomb) < 1_000_000
        await bad("bomb.zip", bomb, 413, "too_large", "inflates to more than 100 MB")
        many = zip_of({f"f{i}.txt": b"x" for i in range(30)})
        await bad("many.zip", many, 413, "too_large", "at most 20")
        two = zip_of({"a.shp": b"x", "b.shp": b"y"})
        await bad("two.zip", two, 400, "invalid", "one layer per upload")
        # a KML bomb: no DTD at all, so no entity
        await bad("bomb.kml", KML_BOMB, 400, "invalid", "DTDs and entities are not accepted")
        await bad("broken.kml", b"<kml><Placemark>", 400, "invalid", "not well-formed XML")
        await bad(
            "mixed.kml",
            KML.replace(
                "<Point><coordinates>4.3710", "<LineString><coordinates>4.3700,50.86 4.3710"
            )
            .replace("50.8610</coordinates></Point>", "50.8610</coordinates></LineString>")
            .encode(),
            400,
            "invalid",
            "placemark 3 (Twee paviljoenen): a MultiGeometry mixes",
        )
        # bad GeoJSON
        await bad(
            "x.geojson",
            b'{"type": "FeatureCollection", "features": [',
            400,
            "invalid",
            "not valid JSON",
        )
        open_ring = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[[4, 50], [4.1, 50], [4.1, 50.1]]]},
            "properties": {},
        }
        await bad(
            "ring.geojson", collection(point(4, 50), open_ring), 400, "invalid", "feature 2: "
        )
        await bad("lat.geojson", collection(point(4, 95)), 400, "invalid", "feature 1: latitude 95")
        await bad(
            "crs.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "crs": {"type": "name", "properties": {"name": "EPSG:31370"}},
                    "features": [point(150000, 170000)],
                }
            ).encode(),
            400,
            "invalid",
            "coordinates are in EPSG:31370",
        )
        await bad("nul.geojson", collection(point(4, 50, name="a\u0000b")), 400, "invalid", "NUL")
        await bad(
            "props.geojson",
            collection(point(4, 50, note="x" * 20_000)),
            413,
            "too_large",
            "feature 1: properties exceed",
        )
        await bad("text.txt", b"just some words", 400, "invalid", "a layer is a GeoJSON")
        await bad("empty.geojson", b"", 400, "invalid", "empty")
        # 100 MB, refused from its Content-Length before the body is read
        status, body = await _raw_upload_of(hub_server.url, admin.token, 100 * 1024 * 1024)
        assert status == 413 and b"at most 20 MB" in body
        over = good + b" " * MAX_LAYER_UPLOAD_BYTES
        await bad("over.geojson", over, 413, "too_large", "at most 20 MB")
        # the form
        await refused(
            await upload(http, admin, name, "a.geojson", good, colour="red"),
            400,
            "invalid",
            "colour",
        )
        await refused(
            await upload(http, admin, name, "a.geojson", good, symbol="skull"),
            400,
            "invalid",
            "symbol",
        )
        await refused(
            await upload(http, admin, "", "a.geojson", good), 400, "invalid", "needs its `name`"
        )
        await refused(
            await http.post(
                "/api/layers",
                data={"name": name},
                files={"other": ("a", good)},
                headers=bearer(admin),
            ),
            400,
            "invalid",
            "`file` part",
        )
        await refused(
            await http.post("/api/layers", json={"name": name}, headers=bearer(admin)),
            400,
            "invalid",
            "multipart/form-data",
        )
        # who may: admins upload, replace and delete; others are refused; nobody anonymous
        await refused(
            await upload(http, user, name, "a.geojson", good), 403, "forbidden", "administrator"
        )
        assert (await http.get("/api/layers")).status_code == 401
        # nothing of it was written
        assert name not in await names(http, user)
        layer = await uploaded(http, admin, name, "a.geojson", good)
        await refused(
            await upload(http, user, "", "a.geojson", good, method="PUT", layer_id=layer["id"]),
            403,
            "forbidden",
            "administrator",
        )
        await refused(
            await http.delete(f"/api/layers/{layer['id']}", headers=bearer(user)),
            403,
            "forbidden",
            "administrator",
        )
        await refused(
            await upload(http, admin, name, "a.geojson", good), 409, "conflict", "already named"
        )
        assert (await document(http, user, layer["id"]))["layer"]["version"] == 1


def circle_anchor(lon: float, lat: float, radius_m: float) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "isolation_zone",
        "label": "Isolement",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"radius_m": radius_m},
    }


async def test_what_is_inside_a_polygon_and_a_circle(
    database_url: str,
    hub_server: HubProcess,
    seed: Seeder,
    tmp_path: Path,
    area_longitudes: Any,
) -> None:
    admin = await seed.user("layers-admin", admin=True)
    manager = await seed.user("layers-manager")
    viewer = await seed.user("layers-viewer")
    stranger = await seed.user("layers-stranger")
    incident = await seed.incident({manager: "manager", viewer: "viewer"}, title="Inside")
    west = next(area_longitudes)  # a band of longitude of this test's own
    south = 10.0
    zone = square(west, south)  # 0.1° a side
    k = uuid.uuid4().hex[:6]
    registrations = csv_file(
        tmp_path,
        f"in1-{k},fr,+32470000101,,,home,{south + 0.05},{west + 0.05},false",
        f"in2-{k},nl,,,a{k}@example.be,home,{south + 0.02},{west + 0.08},false",
        f"out-{k},en,+32470000102,,,home,{south + 0.05},{west + 0.3},false",
    )
    result = crisishub(database_url, "registrations", "import", str(registrations), cwd=tmp_path)
    last_line(result)
    word = unique()
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=60) as http:
        schools = await uploaded(
            http,
            admin,
            f"Schools {word}",
            "schools.geojson",
            collection(
                point(west + 0.01, south + 0.01, name="School A"),
                point(west + 0.05, south + 0.05, name="School B"),
                point(west + 0.1, south + 0.09, name="School C"),  # on the east edge
                point(west + 0.2, south + 0.05, name="School far"),
            ),
            category="school",
        )
        homes = await uploaded(
            http,
            admin,
            f"Homes {word}",
            "homes.geojson",
            collection(
                {
                    "type": "Feature",
                    "geometry": {  # a home's grounds, reaching into the zone from the west
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [west - 0.01, south + 0.04],
                                [west + 0.01, south + 0.04],
                                [west + 0.01, south + 0.06],
                                [west - 0.01, south + 0.06],
                                [west - 0.01, south + 0.04],
                            ]
                        ],
                    },
                    "properties": {"name": "Home Zonneweelde"},
                },
                point(west - 0.2, south + 0.05, name="Home far"),
            ),
            category="retirement_home",
        )
        many = await uploaded(
            http,
            admin,
            f"Many {word}",
            "many.geojson",
            collection(
                *(point(west + 0.06 + i / 10_000, south + 0.06, name=f"m{i}") for i in range(150))
            ),
        )
        base = f"/api/incidents/{incident}/anchors"
        created = await http.post(
            base,
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "exclusion_zone",
                "label": "Zone",
                "geometry": zone,
            },
            headers=bearer(manager),
        )
        assert created.status_code == 201, created.text
        anchor = created.json()["anchor"]

        async def inside(user: TestUser, anchor_id: str) -> InsidePublic:
            response = await http.get(f"{base}/{anchor_id}/inside", headers=bearer(user))
            assert response.status_code == 200, response.text
            body: InsidePublic = response.json()
            check(InsidePublic, body)
            return body

        def ours(body: InsidePublic) -> dict[str, tuple[int, list[str | None]]]:
            mine = {schools["id"], homes["id"], many["id"]}
            return {
                layer["name"].split()[0]: (layer["count"], [f["name"] for f in layer["features"]])
                for layer in body["layers"]
                if layer["layer_id"] in mine
            }

        body = await inside(viewer, anchor["id"])
        assert body["registrations"] == 2
        found = ours(body)
        assert found["Schools"] == (3, ["School A", "School B", "School C"])
        assert found["Homes"] == (1, ["Home Zonneweelde"])
        count, listed = found["Many"]
        assert count == 150 and len(listed) == MAX_INSIDE_FEATURES == 100
        assert listed[:2] == ["m0", "m1"]
        home = next(layer for layer in body["layers"] if layer["layer_id"] == homes["id"])
        assert home["category"] == "retirement_home"
        spot = home["features"][0]
        assert west - 0.01 <= spot["lon"] <= west + 0.01

        # redrawn: the east part only, School B and one registration left out
        moved = await http.patch(
            f"{base}/{anchor['id']}",
            json={
                "version": anchor["version"],
                "geometry": square(west + 0.06, south + 0.015, 0.085),
            },
            headers=bearer(manager),
        )
        assert moved.status_code == 200, moved.text
        body = await inside(manager, anchor["id"])
        assert body["anchor_version"] == anchor["version"] + 1
        found = ours(body)
        assert found["Schools"] == (1, ["School C"])
        assert found["Homes"] == (0, [])
        assert body["registrations"] == 1

        # a circle: a Point with radius_m, 3 km around School B (11 km from School A)
        circle = await http.post(
            base, json=circle_anchor(west + 0.05, south + 0.05, 3_000), headers=bearer(manager)
        )
        assert circle.status_code == 201, circle.text
        body = await inside(viewer, circle.json()["anchor"]["id"])
        assert ours(body)["Schools"] == (1, ["School B"])
        assert body["registrations"] == 1

        # no area, no anchor, no member
        post = await http.post(
            base,
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "command_post",
                "label": "CP",
                "geometry": {"type": "Point", "coordinates": [west, south]},
            },
            headers=bearer(manager),
        )
        response = await http.get(
            f"{base}/{post.json()['anchor']['id']}/inside", headers=bearer(manager)
        )
        assert response.status_code == 400
        assert "neither a polygon nor a circle" in response.json()["error"]["message"]
        response = await http.get(f"{base}/no-such-anchor/inside", headers=bearer(manager))
        assert response.status_code == 404
        response = await http.get(f"{base}/{anchor['id']}/inside", headers=bearer(stranger))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
        assert (await http.get(f"{base}/{anchor['id']}/inside")).status_code == 401
    log = hub_server.log_path.read_text()
    assert f"inside of anchor {anchor['id']}" in log
    assert "+32470000101" not in log and f"a{k}@example.be" not in log
