"""Replay mode of the incident page (issue 15) in a real browser against a real hub: the slider
takes the map back to a moment (the vehicle at its fix of then, the anchor where it stood),
the banner says REPLAY and the time, stepping goes to the next event, playing moves the moment
on, a vehicle can be followed, and leaving returns the live picture, which went on meanwhile.

Fixtures, login and page helpers are test_browser.py's: Debian's chromium, bounded waits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_browser import CP_POINT, Tabs, anchor_box, api, assert_clean, open_incident, until

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

LABEL = "CP Monnaie"
WEST_LON, LAT = 4.3500, 50.8500
EAST_LON = WEST_LON + 0.00213  # some 150 m east: a plausible 2 s later, with GPS slack
CP_LON, CP_LAT = 4.3517, 50.8466  # CP_POINT's


async def vehicle_x(page: Page) -> float:
    box = await page.locator('.vehicle-icon[title="Lead car"]').bounding_box()
    assert box is not None, "the vehicle is not on the map"
    return box["x"]


async def set_moment(page: Page, moment: datetime) -> None:
    """Drag the slider to `moment`, as its input and change events report a drag."""
    await page.evaluate(
        """(ms) => {
          const slider = document.getElementById('replay-slider');
          slider.value = String(ms);
          slider.dispatchEvent(new Event('input', { bubbles: true }));
          slider.dispatchEvent(new Event('change', { bubbles: true }));
        }""",
        await offset_ms(page, moment),
    )


async def offset_ms(page: Page, moment: datetime) -> int:
    """The slider's value for `moment`: milliseconds since the incident opened."""
    opened: str = await page.evaluate("document.getElementById('replay-bar').dataset.opened")
    return int(moment.timestamp() * 1000) - int(opened)


async def shown_at(page: Page) -> int:
    return int(
        await page.evaluate("Number(document.getElementById('replay-bar').dataset.shownAt || 0)")
    )


async def test_the_slider_shows_the_incident_as_it_stood(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    manager = await seed.user("evaluator", organisation="Police Federal", discipline="D3")
    incident = await seed.incident({manager: "manager"}, title="Summit evaluation", kind="event")
    base = f"/api/incidents/{incident}"
    async with api(hub_server, manager) as http:

        async def ok(response: Any, status: int = 200) -> Any:
            reply = await response
            assert reply.status_code == status, reply.text
            return reply.json()

        body = {"client_id": str(uuid.uuid4()), "kind": "command_post", "label": LABEL}
        anchor = (await ok(http.post(f"{base}/anchors", json={**body, "geometry": CP_POINT}), 201))[
            "anchor"
        ]
        await ok(
            http.post(
                f"{base}/feed", json={"client_id": str(uuid.uuid4()), "text": "Motorcade leaves"}
            ),
            201,
        )
        convoy = (await ok(http.post(f"{base}/convoys", json={"name": "Motorcade A"}), 201))[
            "convoy"
        ]
        # A moment with the convoy and without its vehicle, wider than a step of the slider.
        await asyncio.sleep(0.3)
        added = await ok(
            http.post(f"{base}/convoys/{convoy['id']}/vehicles", json={"label": "Lead car"}), 201
        )
        log = (await ok(http.get(f"{base}/events")))["events"]
        registered = datetime.fromisoformat(log[-1]["at"])
        # The fixes' device times must have passed when the page asks for them.
        await asyncio.sleep(2.5)
        first, second = registered + timedelta(seconds=0.2), registered + timedelta(seconds=2.2)
        async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as tracker:
            for moment, lon in ((first, WEST_LON), (second, EAST_LON)):
                millis = str(int(moment.timestamp() * 1000))
                fix = {
                    "id": added["device_key"],
                    "lat": str(LAT),
                    "lon": str(lon),
                    "timestamp": millis,
                }
                assert (await tracker.get("/ingest/osmand", params=fix)).status_code == 200
        moved = {"type": "Point", "coordinates": [CP_LON + 0.003, CP_LAT]}
        await ok(
            http.patch(f"{base}/anchors/{anchor['id']}", json={"version": 1, "geometry": moved})
        )
        logged = (await ok(http.get(f"{base}/events")))["events"]
        # (the move's own event: its feed entry follows it)
        move_at = datetime.fromisoformat(
            next(e for e in reversed(logged) if e["type"] == "anchor.updated")["at"]
        )
    assert second < datetime.now(UTC)

    tab = await tabs()
    page = await open_incident(tab, hub_server, manager, incident)
    await expect(page.locator('.vehicle-icon[title="Lead car"]')).to_be_visible()
    live_anchor = await anchor_box(page, LABEL)
    live_vehicle = await vehicle_x(page)
    banner = page.locator("#replay-banner")
    await expect(banner).to_be_hidden()

    # Into the replay: it opens at the end, the live picture, under a banner that says so.
    await page.click("#replay-toggle")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("REPLAY —")
    await expect(page.locator("body")).to_have_class("incident-page is-replay")
    await expect(page.locator("#feed-live")).to_be_hidden()
    # The past cannot be edited: no drawing tools, no feed form.
    await expect(page.locator(".leaflet-pm-toolbar.leaflet-pm-draw")).to_be_hidden()
    await expect(page.locator("#panel-feed .feed-form:visible")).to_have_count(0)
    await expect(
        page.locator("#feed-replay .entry-text", has_text="Motorcade leaves")
    ).to_be_visible()

    # Back to a second after the registration: the vehicle at its first fix, west; the anchor
    # where it stood before it was moved; the banner at that moment.
    # Just before the vehicle was registered: the convoy is there, without it.
    await set_moment(page, registered - timedelta(milliseconds=150))
    await page.click("#tab-convoys")
    await expect(page.locator("#panel-convoys h3", has_text="Motorcade A")).to_be_visible()
    await expect(page.locator("#panel-convoys .vehicle-name")).to_have_count(0)
    await expect(page.locator('.vehicle-icon[title="Lead car"]')).to_have_count(0)
    await page.click("#tab-feed")
    before_text = await banner.text_content()
    await set_moment(page, registered + timedelta(seconds=1))

    async def vehicle_west() -> bool:
        box = await page.locator('.vehicle-icon[title="Lead car"]').bounding_box()
        return box is not None and box["x"] < live_vehicle - 10

    await until(vehicle_west, "the replayed vehicle to stand at its first fix, west")
    assert (await anchor_box(page, LABEL))["x"] < live_anchor["x"] - 10
    await expect(banner).not_to_have_text(before_text or "")
    await expect(banner).to_contain_text("REPLAY —")
    shown = await shown_at(page)
    assert registered < datetime.fromtimestamp(shown / 1000, UTC) < second
    # The tabs show the moment too, and nothing in them edits the past.
    await page.click("#tab-anchors")
    await expect(page.locator("#panel-anchors .anchor-list li")).to_have_count(1)
    await expect(page.locator("#panel-anchors .anchor-actions")).to_have_count(0)
    await page.click("#tab-convoys")
    await expect(page.locator("#panel-convoys .vehicle-name", has_text="Lead car")).to_be_visible()
    await page.click("#tab-feed")

    # The next event is the anchor's move: the anchor is back where it is live; the vehicle,
    # at its second fix by then, is east.
    await page.click("#replay-next")

    async def at_the_move() -> bool:
        return await shown_at(page) == int(move_at.timestamp() * 1000) + 1

    await until(at_the_move, "the replay to step to the anchor's move")

    async def anchor_moved() -> bool:
        return abs((await anchor_box(page, LABEL))["x"] - live_anchor["x"]) < 3

    await until(anchor_moved, "the anchor to stand where it was moved")
    assert abs(await vehicle_x(page) - live_vehicle) < 3

    # Follow the vehicle: its marker is marked as followed.
    await page.select_option("#replay-follow", label="Lead car")
    await expect(page.locator(".vehicle-icon.vehicle-followed")).to_have_count(1)

    # Playing moves the moment on from the start, at 60 times the pace.
    await set_moment(page, registered)

    async def back_at_the_start() -> bool:
        return await shown_at(page) < int(registered.timestamp() * 1000) + 100

    await until(back_at_the_start, "the replay to go back to the registration")
    await page.select_option("#replay-speed", "60")
    started = await shown_at(page)
    await page.click("#replay-play")
    await expect(page.locator("#replay-play")).to_have_attribute("aria-pressed", "true")

    async def moved_on() -> bool:
        return await shown_at(page) > started + 1000

    await until(moved_on, "playing to move the moment on")
    await page.click("#replay-play")
    await expect(page.locator("#replay-play")).to_have_attribute("aria-pressed", "false")

    # Meanwhile the incident went on live; leaving the replay shows it as it is now.
    async with api(hub_server, manager) as http:
        posted = await http.post(
            f"{base}/feed", json={"client_id": str(uuid.uuid4()), "text": "Motorcade arrived"}
        )
        assert posted.status_code == 201, posted.text
    await page.click("#replay-toggle")
    await expect(banner).to_be_hidden()
    await expect(page.locator("#replay-bar")).to_be_hidden()
    await expect(
        page.locator("#feed-live .entry-text", has_text="Motorcade arrived")
    ).to_be_visible()
    # (Following panned the map: the live anchor and vehicle stand as far apart as before.)
    apart = (await anchor_box(page, LABEL))["x"] - await vehicle_x(page)
    assert abs(apart - (live_anchor["x"] - live_vehicle)) < 3
    await expect(page.locator(".leaflet-pm-toolbar.leaflet-pm-draw")).to_be_visible()
    await expect(page.locator("#panel-anchors .anchor-actions")).to_have_count(1)
    await assert_clean(tab)
