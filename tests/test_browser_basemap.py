"""The PMTiles base map (issue 16) in Debian's chromium against a hub with BASEMAP_PMTILES set
to the generated archive of the summit's streets (hub/demo/basemap.py): the incident map draws
its vector tiles (canvas tiles with more than a background on them), every read of the archive
is a Range request to the hub answered 206, nothing is requested from anywhere but 127.0.0.1,
the layer switcher offers the streets and the offline layer (and a WMS tile server when one is
set, which Leaflet then asks for its map), and the labels are drawn again when the page's
language changes. Without the setting, the map is as before."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Page, Request, Response, expect

from hub.demo import VENUE
from hub.demo.basemap import write_basemap
from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_browser import Tabs, assert_clean, open_incident, until
from tests.test_plans import png_bytes

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

ARCHIVE = "/basemap.pmtiles"
OFFLINE = re.compile(r"\bmap-offline\b")
# What the tile canvases hold, summed over every tile shown: how many of them, how many
# distinct colours (a blank or background-only tile has one), and a digest of their pixels.
TILES = """() => {
  const tiles = [...document.querySelectorAll('#map canvas.leaflet-tile')]
    .filter((c) => c.width > 0);
  const colours = new Set();
  let digest = '';
  for (const canvas of tiles) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4 * 7) {
      colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    }
    let h = 0;
    for (let i = 0; i < data.length; i += 4 * 3) {
      h = (h * 31 + data[i] + data[i + 1] + data[i + 2]) | 0;
    }
    digest += h.toString(16) + '.';
  }
  return { count: tiles.length, colours: colours.size, digest };
}"""


@pytest.fixture(scope="module")
def basemap_hub(
    database_url: str, logs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HubProcess]:
    archive = write_basemap(tmp_path_factory.mktemp("basemap") / "brussels.pmtiles")
    server = HubProcess(database_url, log_dir=logs, basemap_pmtiles=archive).start(timeout=60)
    yield server
    server.stop()


async def venue_incident(server: HubProcess, seed: Seeder, user: TestUser) -> str:
    """An incident whose only anchor is the Europa building: its map opens on the venue."""
    incident = await seed.incident({user: "manager"}, title="Summit base map")
    async with test_browser.api(server, user) as http:
        created = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "incident_site",
                "label": "Europa building",
                "geometry": {"type": "Point", "coordinates": VENUE},
            },
        )
        assert created.status_code == 201, created.text
    return incident


class ArchiveReads:
    """Every request of the page for the archive, with its Range header and its answer."""

    def __init__(self, page: Page) -> None:
        self.ranges: list[str | None] = []
        self.statuses: list[int] = []
        page.on("request", self.requested)
        page.on("response", self.answered)

    def requested(self, request: Request) -> None:
        if request.url.endswith(ARCHIVE):
            self.ranges.append(request.headers.get("range"))

    def answered(self, response: Response) -> None:
        if response.url.endswith(ARCHIVE):
            self.statuses.append(response.status)


async def drawn(page: Page) -> dict[str, object]:
    tiles: dict[str, object] = await page.evaluate(TILES)
    return tiles


async def streets_drawn(page: Page) -> bool:
    tiles = await drawn(page)
    # Land, buildings, parks, roads, their casings and labels: many colours, not one.
    return int(str(tiles["count"])) > 0 and int(str(tiles["colours"])) >= 4


async def test_the_incident_map_draws_the_hubs_pmtiles_by_range_requests(
    basemap_hub: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    user = await seed.user("streets")
    incident = await venue_incident(basemap_hub, seed, user)
    tab = await tabs()
    reads = ArchiveReads(tab.page)
    page = await open_incident(tab, basemap_hub, user, incident)

    await until(lambda: streets_drawn(page), "the street tiles to be drawn")
    # Every read of the archive: a Range request to the hub, answered with its part.
    assert reads.ranges, "the archive was never read"
    assert all(r is not None and r.startswith("bytes=") for r in reads.ranges), reads.ranges
    assert reads.ranges[0] == "bytes=0-16383"  # the header and root directory first
    assert set(reads.statuses) == {206}, reads.statuses
    archive_urls = [url for url in tab.urls if url.endswith(ARCHIVE)]
    assert archive_urls and all(url == basemap_hub.url + ARCHIVE for url in archive_urls)
    # Nothing left 127.0.0.1: every request the page made is recorded by the fixture.
    await assert_clean(tab)
    await page.screenshot(path=str(Path(basemap_hub.log_path).parent / "basemap-streets.png"))

    # The switcher offers the streets and the offline layer; the streets are shown.
    switcher = page.locator("#map .leaflet-control-layers")
    await switcher.hover()
    choices = switcher.locator(".leaflet-control-layers-base label")
    await expect(choices).to_have_text(["Street map", "Offline map (provinces)"])
    await expect(choices.nth(0).locator("input")).to_be_checked()
    # The offline layer instead: the tiles go, the provinces come, the sea behind them.
    await choices.nth(1).locator("input").check()
    await expect(page.locator("#map canvas.leaflet-tile")).to_have_count(0)
    await expect(page.locator("#map")).to_have_class(OFFLINE)
    await expect(page.locator("#map .leaflet-basemap-pane path").first).to_be_attached()
    await choices.nth(0).locator("input").check()
    await expect(page.locator("#map")).not_to_have_class(OFFLINE)
    await until(lambda: streets_drawn(page), "the street tiles to be drawn again")
    await assert_clean(tab)


async def test_the_labels_follow_the_pages_language(
    basemap_hub: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    user = await seed.user("labels")
    incident = await venue_incident(basemap_hub, seed, user)
    tab = await tabs()
    page = await open_incident(tab, basemap_hub, user, incident)
    await until(lambda: streets_drawn(page), "the street tiles to be drawn")

    # The first view, on the venue, names the main streets: let its tiles settle, then compare.
    async def settled() -> str:
        first = str((await drawn(page))["digest"])
        await page.wait_for_timeout(700)
        second = str((await drawn(page))["digest"])
        return second if first == second else ""

    async def digest_when_settled() -> str:
        found = ""

        async def check() -> bool:
            nonlocal found
            found = await settled()
            return bool(found) and await streets_drawn(page)

        await until(check, "the tiles to stop changing")
        return found

    english = await digest_when_settled()
    await page.select_option("#lang-switch", "nl")
    switcher = page.locator("#map .leaflet-control-layers")
    await switcher.hover()
    await expect(switcher.locator(".leaflet-control-layers-base label")).to_have_text(
        ["Stratenplan", "Offline kaart (provincies)"]
    )
    dutch = await digest_when_settled()
    assert dutch != english, "the labels were not drawn again in Dutch"
    await assert_clean(tab)


class TileServer:
    """A WMS on 127.0.0.1 that answers every GetMap with a PNG and keeps what was asked."""

    def __init__(self) -> None:
        asked: list[dict[str, str]] = []
        self.asked = asked

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                asked.append({key.upper(): values[0] for key, values in query.items()})
                body = png_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the test reads `asked`

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


async def test_the_switcher_also_offers_a_configured_wms_tile_server(
    database_url: str, logs: Path, tmp_path: Path, seed: Seeder, tabs: Tabs
) -> None:
    wms = TileServer()
    archive = await asyncio.to_thread(write_basemap, tmp_path / "brussels.pmtiles")
    server = HubProcess(
        database_url,
        log_dir=logs,
        basemap_pmtiles=archive,
        tile_url=f"{wms.url}/service?SERVICE=WMS&LAYERS=topo&FORMAT=image/png",
    ).start(timeout=60)
    try:
        user = await seed.user("tiles")
        incident = await venue_incident(server, seed, user)
        tab = await tabs()
        page = await open_incident(tab, server, user, incident)
        await until(lambda: streets_drawn(page), "the street tiles to be drawn")
        assert wms.asked == [], "the tile server was asked while the street map is shown"
        switcher = page.locator("#map .leaflet-control-layers")
        await switcher.hover()
        choices = switcher.locator(".leaflet-control-layers-base label")
        await expect(choices).to_have_text(["Street map", "Tile server", "Offline map (provinces)"])
        # Shown instead: Leaflet asks the WMS for the map, tile by tile, in web Mercator.
        await choices.nth(1).locator("input").check()
        await expect(page.locator("#map img.leaflet-tile-loaded").first).to_be_attached()
        await expect(page.locator("#map canvas.leaflet-tile")).to_have_count(0)
        assert wms.asked
        for asked in wms.asked:
            assert asked["SERVICE"] == "WMS" and asked["REQUEST"] == "GetMap"
            assert asked["LAYERS"] == "topo" and asked["FORMAT"] == "image/png"
            assert asked["SRS"] == "EPSG:3857" and asked["WIDTH"] == asked["HEIGHT"] == "256"
            assert len(asked["BBOX"].split(",")) == 4
        await assert_clean(tab)
    finally:
        server.stop()
        wms.close()


async def test_without_the_setting_the_map_stays_as_before(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    user = await seed.user("offline")
    incident = await venue_incident(hub_server, seed, user)
    tab = await tabs()
    page = await open_incident(tab, hub_server, user, incident)
    await expect(page.locator("#map")).to_have_class(OFFLINE)
    await expect(page.locator("#map .leaflet-basemap-pane path").first).to_be_attached()
    await expect(page.locator("#map .leaflet-control-layers")).to_have_count(0)
    assert not [url for url in tab.urls if url.endswith(ARCHIVE)]
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as http:
        assert (await http.get(ARCHIVE)).status_code == 401
    await assert_clean(tab)
