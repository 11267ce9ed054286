"""The base map (issue 16): the generated PMTiles archive of the summit's streets, and
/basemap.pmtiles served by a live hub with BASEMAP_PMTILES set: Range requests (206, several
ranges, 416 past the end, If-Range), the caching headers (ETag, Last-Modified, Cache-Control,
304 to If-None-Match and If-Modified-Since, a new ETag once the file is replaced), only for
logged-in callers, 404 where none is configured, and the setting refused at start-up when it
names no PMTiles archive. On every backend of `database_url`."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader
from pydantic import ValidationError

from hub.demo import VENUE
from hub.demo.basemap import tile_at, write_basemap
from hub.settings import Settings
from tests.live import HubProcess
from tests.seed import Seeder, TestUser

URL = "/basemap.pmtiles"
LONG_AGO = "Mon, 01 Jan 2001 00:00:00 GMT"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_basemap(tmp_path_factory.mktemp("basemap") / "brussels.pmtiles")


@pytest.fixture(scope="module")
def basemap_hub(database_url: str, logs: Path, archive: Path) -> Iterator[HubProcess]:
    server = HubProcess(database_url, log_dir=logs, basemap_pmtiles=archive).start(timeout=60)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def data(archive: Path) -> bytes:
    return archive.read_bytes()


@pytest.fixture
async def reader(seed: Seeder) -> TestUser:
    return await seed.user("map-reader")


def page_config(html: str) -> dict[str, object]:
    """The page's `config` (base.html's <script id="config" type="application/json">)."""
    start = html.index('<script id="config" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    config: dict[str, object] = json.loads(body)
    return config


def bearer(user: TestUser, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}", **headers}


def test_the_generated_archive_has_named_streets_and_buildings_at_the_venue(
    archive: Path,
) -> None:
    with archive.open("rb") as f:
        # pmtiles is untyped: its reader's calls are unchecked here.
        pmtiles = Reader(MmapSource(f))  # type: ignore[no-untyped-call]
        header = pmtiles.header()  # type: ignore[no-untyped-call]
        assert (header["min_zoom"], header["max_zoom"]) == (0, 15)
        x, y = tile_at(VENUE[0], VENUE[1], 15)
        data = pmtiles.get(15, x, y)  # type: ignore[no-untyped-call]
        tile = mapbox_vector_tile.decode(gzip.decompress(data))
    roads = {f["properties"]["name:fr"]: f["properties"] for f in tile["roads"]["features"]}
    assert roads["Rue de la Loi"]["name:nl"] == "Wetstraat"
    assert roads["Rue de la Loi"]["name:en"] == "Law Street"
    assert roads["Rue de la Loi"]["name"] == "Rue de la Loi - Wetstraat"
    assert roads["Rue de la Loi"]["kind"] == "major_road"
    buildings = {f["properties"]["name:en"] for f in tile["buildings"]["features"]}
    assert {"Europa building", "Justus Lipsius building"} <= buildings
    assert tile["earth"]["features"], "no land to draw the streets on"


async def test_range_requests_are_answered_206_with_the_bytes_asked(
    basemap_hub: HubProcess, reader: TestUser, data: bytes
) -> None:
    async with httpx.AsyncClient(base_url=basemap_hub.url, timeout=10) as http:
        # The map's first read: the header and root directory, 16 KiB from 0.
        first = await http.get(URL, headers=bearer(reader, Range="bytes=0-16383"))
        assert first.status_code == 206, first.text
        assert first.headers["accept-ranges"] == "bytes"
        assert first.headers["content-range"] == f"bytes 0-16383/{len(data)}"
        assert first.headers["content-type"] == "application/vnd.pmtiles"
        assert first.content == data[:16384]
        assert first.content[:7] == b"PMTiles"
        # A tile somewhere in the middle.
        middle = await http.get(URL, headers=bearer(reader, Range="bytes=20000-20099"))
        assert middle.status_code == 206
        assert middle.headers["content-range"] == f"bytes 20000-20099/{len(data)}"
        assert middle.content == data[20000:20100]
        # To the end, and the last bytes.
        tail = await http.get(URL, headers=bearer(reader, Range="bytes=-10"))
        assert tail.status_code == 206
        assert tail.content == data[-10:]
        # Two ranges at once: multipart/byteranges.
        both = await http.get(URL, headers=bearer(reader, Range="bytes=0-6,100-109"))
        assert both.status_code == 206
        assert both.headers["content-type"].startswith("multipart/byteranges; boundary=")
        assert b"PMTiles" in both.content and data[100:110] in both.content
        # No Range: the whole file.
        whole = await http.get(URL, headers=bearer(reader))
        assert whole.status_code == 200
        assert whole.content == data
        assert whole.headers["accept-ranges"] == "bytes"
        # HEAD: the headers alone.
        head = await http.head(URL, headers=bearer(reader))
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(data))
        assert head.content == b""
        # The security headers of every static file.
        assert whole.headers["x-content-type-options"] == "nosniff"


async def test_a_range_past_the_end_is_416_and_a_garbled_one_400(
    basemap_hub: HubProcess, reader: TestUser, data: bytes
) -> None:
    size = len(data)
    async with httpx.AsyncClient(base_url=basemap_hub.url, timeout=10) as http:
        past = await http.get(URL, headers=bearer(reader, Range=f"bytes={size}-{size + 99}"))
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{size}"
        garbled = await http.get(URL, headers=bearer(reader, Range="bytes=nine-ten"))
        assert garbled.status_code == 400
        lines = await http.get(URL, headers=bearer(reader, Range="lines=0-5"))
        assert lines.status_code == 400


async def test_caching_headers_and_304(
    basemap_hub: HubProcess, reader: TestUser, archive: Path, data: bytes
) -> None:
    async with httpx.AsyncClient(base_url=basemap_hub.url, timeout=10) as http:
        first = await http.get(URL, headers=bearer(reader, Range="bytes=0-126"))
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert etag.startswith('"') and not etag.startswith("W/")
        assert first.headers["cache-control"] == "private, max-age=3600"

        for conditional in (
            {"If-None-Match": etag},
            {"If-None-Match": f'"other", {etag}'},
            {"If-None-Match": "*"},
            {"If-Modified-Since": modified},
        ):
            again = await http.get(URL, headers=bearer(reader, Range="bytes=0-126", **conditional))
            assert again.status_code == 304, conditional
            assert again.content == b""
            assert again.headers["etag"] == etag
            assert again.headers["cache-control"] == "private, max-age=3600"
        # Another ETag, or an older date: the bytes.
        other = await http.get(
            URL, headers=bearer(reader, Range="bytes=0-126", **{"If-None-Match": '"other"'})
        )
        assert other.status_code == 206
        old = await http.get(
            URL,
            headers=bearer(
                reader,
                Range="bytes=0-126",
                **{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
            ),
        )
        assert old.status_code == 206
        # If-Range with the current ETag keeps the range; with another, the whole file.
        kept = await http.get(URL, headers=bearer(reader, Range="bytes=0-6", **{"If-Range": etag}))
        assert kept.status_code == 206
        changed = await http.get(
            URL, headers=bearer(reader, Range="bytes=0-6", **{"If-Range": '"older"'})
        )
        assert changed.status_code == 200
        assert changed.content == data

        # The operator replaces the file: another ETag, so no cache keeps the old bytes.
        stat = await asyncio.to_thread(archive.stat)
        later = (stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000)
        await asyncio.to_thread(os.utime, archive, ns=later)
        try:
            replaced = await http.get(
                URL, headers=bearer(reader, Range="bytes=0-126", **{"If-None-Match": etag})
            )
            assert replaced.status_code == 206
            assert replaced.headers["etag"] != etag
        finally:
            await asyncio.to_thread(os.utime, archive, ns=(stat.st_atime_ns, stat.st_mtime_ns))


async def test_only_logged_in_callers_read_it(basemap_hub: HubProcess, reader: TestUser) -> None:
    async with httpx.AsyncClient(base_url=basemap_hub.url, timeout=10) as http:
        for headers in ({}, {"Range": "bytes=0-16383"}, {"Authorization": "Bearer not-a-token"}):
            refused = await http.get(URL, headers=headers)
            assert refused.status_code == 401, headers
            assert refused.json()["error"]["code"] == "unauthorized"
            assert "PMTiles" not in refused.text
        # The browser's way: the session cookie of the login page.
        login = await http.post(
            "/api/session", json={"username": reader.username, "password": reader.password}
        )
        assert login.status_code == 200, login.text
        by_cookie = await http.get(URL, headers={"Range": "bytes=0-6"})
        assert by_cookie.status_code == 206
        assert by_cookie.content == b"PMTiles"
        posted = await http.post(URL)
        assert posted.status_code == 405


async def test_the_pages_name_it_only_when_it_is_configured(
    basemap_hub: HubProcess, hub_server: HubProcess, reader: TestUser, seed: Seeder
) -> None:
    incident = await seed.incident({reader: "viewer"}, title="Base map")
    for server, expected in ((basemap_hub, URL), (hub_server, None)):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            login = await http.post(
                "/api/session", json={"username": reader.username, "password": reader.password}
            )
            assert login.status_code == 200, login.text
            for path in (f"/incidents/{incident}", "/plans"):
                page = await http.get(path)
                assert page.status_code == 200
                assert page_config(page.text)["basemap_pmtiles"] == expected
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        missing = await http.get(URL, headers=bearer(reader))
        assert missing.status_code == 404
        assert missing.json()["error"] == {
            "code": "not_found",
            "message": "no base map is configured (BASEMAP_PMTILES)",
        }


def test_the_setting_names_a_pmtiles_archive(tmp_path: Path, archive: Path) -> None:
    assert Settings(environment="test", basemap_pmtiles=str(archive)).basemap_pmtiles == str(
        archive
    )
    assert Settings(environment="test", basemap_pmtiles="").basemap_pmtiles is None
    with pytest.raises(ValidationError, match="BASEMAP_PMTILES: cannot read"):
        Settings(environment="test", basemap_pmtiles=str(tmp_path / "missing.pmtiles"))
    mbtiles = tmp_path / "belgium.mbtiles"
    mbtiles.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(ValidationError, match="is not a PMTiles version 3 archive"):
        Settings(environment="test", basemap_pmtiles=str(mbtiles))
