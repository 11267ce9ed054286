"""The Convoys tab as a summit monitor uses it (issue 19, items 8 and 9), in a real browser
against a real hub: each vehicle's fix age counts on by itself while nothing redraws the tab,
with its speed and a flag on a silent tracker; the vehicle alerts that fired before the page
opened are read from the log, stay after a reload, come grouped per convoy when a motorcade
crosses a zone line, and carry an ETA only where it means something.

Fixtures, login and page helpers are test_browser.py's: Debian's chromium, bounded waits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Page, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_browser import Tabs, api, assert_clean, open_incident
from tests.test_convoys import ROUTE, ZONE, along

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs


async def motorcade(
    server: HubProcess, manager: TestUser, incident: str, labels: list[str]
) -> tuple[str, dict[str, str]]:
    """A convoy on ROUTE with these vehicles: its id and each label's device key."""
    async with api(server, manager) as http:
        created = await http.post(
            f"/api/incidents/{incident}/convoys", json={"name": "Motorcade A", "route": ROUTE}
        )
        assert created.status_code == 201, created.text
        convoy = created.json()["convoy"]["id"]
        keys = {}
        for label in labels:
            added = await http.post(
                f"/api/incidents/{incident}/convoys/{convoy}/vehicles", json={"label": label}
            )
            assert added.status_code == 201, added.text
            keys[label] = added.json()["device_key"]
    return convoy, keys


async def fix(
    key: str, server: HubProcess, lon: float, lat: float, at: datetime, **extra: float
) -> None:
    params: dict[str, str | float] = {"id": key, "lat": lat, "lon": lon}
    params.update(timestamp=int(at.timestamp()), **extra)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as tracker:
        answer = await tracker.get("/ingest/osmand", params=params)
        assert answer.status_code == 200, answer.text


async def count_toasts(page: Page) -> None:
    """Keep the text of every alert toast shown from now on in `window.__toasts` (a toast
    goes after some seconds: counting those on screen would depend on how fast we look)."""
    await page.evaluate(
        """() => {
          window.__toasts = [];
          new MutationObserver((changes) => {
            for (const change of changes)
              for (const node of change.addedNodes)
                if (node.classList && node.classList.contains('toast-alert'))
                  window.__toasts.push(node.textContent);
          }).observe(document.body, { childList: true, subtree: true });
        }"""
    )


async def toasts(page: Page) -> list[str]:
    return list(await page.evaluate("window.__toasts"))


async def test_fix_ages_count_on_live_with_speed_and_a_silent_flag(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    monitor = await seed.user("monitor", organisation="Police Federal", discipline="D3")
    incident = await seed.incident({monitor: "manager"}, title="Summit motorcade", kind="event")
    _, keys = await motorcade(hub_server, monitor, incident, ["Lead car", "VIP 1"])
    now = datetime.now(UTC)
    lon, lat = along(ROUTE, 0.1)
    # The lead's last fix is 90 s old (silent_after_s is 60 s); the VIP car's is of now, at
    # 20 knots.
    await fix(keys["Lead car"], hub_server, lon, lat, now - timedelta(seconds=90))
    await fix(keys["VIP 1"], hub_server, lon, lat, now, speed=20)

    tab = await tabs()
    page = await open_incident(tab, hub_server, monitor, incident)
    await page.click("#tab-convoys")
    lead = page.locator("#panel-convoys li.vehicle", has_text="Lead car")
    vip = page.locator("#panel-convoys li.vehicle", has_text="VIP 1")
    await expect(lead.locator(".vehicle-age")).to_contain_text("1 min")
    await expect(lead.locator(".vehicle-age")).to_contain_text("s ago")
    await expect(lead.locator(".vehicle-silent")).to_be_visible()
    await expect(lead.locator(".vehicle-silent")).to_have_text("Silent")
    await expect(vip.locator(".vehicle-speed")).to_have_text("37 km/h")
    await expect(vip.locator(".vehicle-silent")).to_be_hidden()

    # Nothing happens, yet the age counts on: its text changes while the row stays the same
    # element (the tab drawn again after loading the tracks would make a new one: then look
    # again at the new row).
    for _ in range(5):
        await lead.evaluate("(li) => { li.__kept = true; }")
        first = await lead.locator(".vehicle-age").inner_text()
        await expect(lead.locator(".vehicle-age")).not_to_have_text(first)
        if await lead.evaluate("(li) => li.__kept === true"):
            break
    else:
        raise AssertionError("the age changed only when the tab was drawn again")

    # The lead's tracker speaks again: the flag goes, the age starts over, the speed shows.
    await fix(keys["Lead car"], hub_server, lon, lat, datetime.now(UTC), speed=10)
    await expect(lead.locator(".vehicle-silent")).to_be_hidden()
    await expect(lead.locator(".vehicle-age")).not_to_contain_text("min")
    await expect(lead.locator(".vehicle-speed")).to_have_text("19 km/h")

    # In French the same reads as a French monitor says it.
    await page.select_option("#lang-switch", "fr")
    await expect(vip.locator(".vehicle-age")).to_contain_text("il y a")
    await assert_clean(tab)


async def test_alerts_come_from_the_log_grouped_per_convoy_and_stay_after_a_reload(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    monitor = await seed.user("monitor", organisation="Police Federal", discipline="D3")
    incident = await seed.incident({monitor: "manager"}, title="Summit motorcade", kind="event")
    async with api(hub_server, monitor) as http:
        zone = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "exclusion_zone",
                "label": "Red zone",
                "geometry": ZONE,
            },
        )
        assert zone.status_code == 201, zone.text
    _, keys = await motorcade(hub_server, monitor, incident, ["Lead car", "VIP 1"])
    # Before anyone opens the page, both cars drive through the red zone and the lead stops
    # at the end of the route: enter and exit for each, then stopped.
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    for fraction, seconds in ((0.0, 0), (0.65, 30), (0.8, 40)):
        lon, lat = along(ROUTE, fraction)
        for n, key in enumerate(keys.values()):
            await fix(key, hub_server, lon, lat, t0 + timedelta(seconds=seconds + n), speed=20)
    end_lon, end_lat = along(ROUTE, 1.0)
    for seconds in (70, 200):
        await fix(keys["Lead car"], hub_server, end_lon, end_lat, t0 + timedelta(seconds=seconds))

    tab = await tabs()
    page = await open_incident(tab, hub_server, monitor, incident)
    await page.click("#tab-convoys")
    alerts = page.locator("#panel-convoys ol.alerts > li")
    entered = page.locator("#panel-convoys li.alert-enter")
    left = page.locator("#panel-convoys li.alert-exit")
    stopped = page.locator("#panel-convoys li.alert-stopped")
    await expect(alerts).to_have_count(3)  # five alerts, three events
    await expect(entered).to_have_attribute("data-count", "2")
    await expect(entered).to_contain_text("Motorcade A: Lead car, VIP 1 entered Red zone")
    await expect(entered).to_contain_text("ETA")
    await expect(left).to_have_attribute("data-count", "2")
    await expect(left).to_contain_text("left Red zone")
    await expect(stopped).to_contain_text("Lead car has stopped")
    for where in (left, stopped):  # an ETA means nothing for a car out of a zone or stopped
        assert "ETA" not in await where.inner_text()

    # A reload does not lose them.
    await page.reload()
    await expect(page.locator("#conn-state")).to_have_class("conn conn-live")
    await page.click("#tab-convoys")
    await expect(alerts).to_have_count(3)
    await expect(entered).to_contain_text("Lead car, VIP 1")

    # A live alert joins the list once, with one toast.
    await count_toasts(page)
    lon, lat = along(ROUTE, 0.9)
    await fix(
        keys["VIP 1"], hub_server, lon, lat + 0.0027, datetime.now(UTC) - timedelta(seconds=1)
    )
    off_route = page.locator("#panel-convoys li.alert-off_route")
    await expect(off_route).to_have_count(1)
    await expect(off_route).to_contain_text("VIP 1 is off route")
    await expect(alerts).to_have_count(4)
    [toast] = await toasts(page)
    assert toast.startswith(await off_route.locator("button").inner_text())
    await assert_clean(tab)


async def test_a_motorcade_crossing_a_zone_live_raises_one_toast(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    monitor = await seed.user("monitor", organisation="Police Federal", discipline="D3")
    incident = await seed.incident({monitor: "manager"}, title="Summit motorcade", kind="event")
    async with api(hub_server, monitor) as http:
        zone = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "exclusion_zone",
                "label": "Red zone",
                "geometry": ZONE,
            },
        )
        assert zone.status_code == 201, zone.text
    labels = ["Lead car", "VIP 1", "Escort"]
    _, keys = await motorcade(hub_server, monitor, incident, labels)
    start = datetime.now(UTC) - timedelta(seconds=60)
    lon, lat = along(ROUTE, 0.0)
    for n, key in enumerate(keys.values()):
        await fix(key, hub_server, lon, lat, start + timedelta(seconds=n), speed=20)
    tab = await tabs()
    page = await open_incident(tab, hub_server, monitor, incident)
    await page.click("#tab-convoys")
    await expect(page.locator("#panel-convoys li.vehicle")).to_have_count(3)

    await count_toasts(page)
    lon, lat = along(ROUTE, 0.65)
    for n, key in enumerate(keys.values()):
        await fix(key, hub_server, lon, lat, start + timedelta(seconds=30 + n), speed=20)
    entered = page.locator("#panel-convoys li.alert-enter")
    await expect(entered).to_have_attribute("data-count", "3")
    await expect(entered).to_contain_text("Motorcade A: Lead car, VIP 1, Escort entered Red zone")
    # One toast, the first car's: the others joined its group without one.
    [toast] = await toasts(page)
    assert toast.startswith("Lead car entered Red zone")
    await assert_clean(tab)
