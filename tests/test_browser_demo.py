"""The demo as a newcomer opens it (issue 19, Proof), in a real browser against a hub on the
demo's seed: the first view shows the venue, its perimeters and the motorcade, wherever on its
route the motorcade is (here still at the airport, 8 km from the venue), at desk and phone size.

The demo's database, seed and hub are test_demo.py's; the browser fixtures test_browser.py's."""

from __future__ import annotations

import time

import httpx
import pytest
from playwright.async_api import ViewportSize, expect

from hub import demo
from hub.convoys.geo import line_length_m
from hub.demo.simulator import Leg, position, report
from tests import test_browser, test_demo
from tests.live import HubProcess
from tests.test_browser import DESKTOP, PHONE, Tabs, assert_clean, until
from tests.test_browser_basemap import streets_drawn

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs
demo_database = test_demo.demo_database
seeded = test_demo.seeded
demo_server = test_demo.demo_server


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_demo_opens_on_the_venue_its_perimeters_and_the_motorcade(
    seeded: tuple[demo.Demo, str], demo_server: HubProcess, tabs: Tabs, viewport: ViewportSize
) -> None:
    made, _ = seeded
    # The motorcade at the start of its route, the airport, as when the demo has just started.
    leg = Leg(demo.ROUTE, line_length_m(demo.ROUTE))
    async with httpx.AsyncClient(base_url=demo_server.url, timeout=10) as http:
        for vehicle in made.vehicles:
            lon, lat, heading = position(leg, vehicle)
            code = await report(http, vehicle, lon, lat, heading, 0.0, time.time())
            assert code == 200
    phone = viewport == PHONE
    tab = await (tabs(viewport, is_mobile=True, has_touch=True) if phone else tabs(viewport))
    page = tab.page
    await page.goto(f"{demo_server.url}/login?next=/incidents/{made.incident_id}")
    await page.fill("#username", "monitor")
    await page.fill("#password", demo.PASSWORD)
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#conn-state")).to_have_class("conn conn-live")

    map_box = await page.locator("#map").bounding_box()
    assert map_box is not None
    venue = page.locator('.anchor-icon[title$=": Europa building (summit venue)"]')
    await expect(venue).to_be_in_viewport()
    for vehicle in made.vehicles:
        await expect(page.locator(f'.vehicle-icon[title="{vehicle.label}"]')).to_be_in_viewport()
    # Every perimeter drawn lies inside the map as shown.
    shapes = page.locator("#map path.leaflet-interactive")
    await expect(shapes.first).to_be_visible()
    for box in [await shape.bounding_box() for shape in await shapes.all()]:
        assert box is not None
        assert (
            map_box["x"] <= box["x"] and box["x"] + box["width"] <= map_box["x"] + map_box["width"]
        )
        assert (
            map_box["y"] <= box["y"]
            and box["y"] + box["height"] <= map_box["y"] + map_box["height"]
        )
    # Under them, the demo's own base map: the streets around the summit (issue 16).
    await until(lambda: streets_drawn(page), "the demo's street tiles to be drawn")
    await assert_clean(tab)
