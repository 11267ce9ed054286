"""Weather and symbols on the map (issue 16), in Debian's chromium against a real hub: a weather
anchor's wind arrow and downwind sector are drawn where the wind blows and move when its wind
changes (by another user, by the liaison officer's dialog, by a manager taking the current
observation from a real feed on 127.0.0.1, whose failure the page says); the popup gives the
direction in words and the speed; a vehicle whose SIDC is set shows its milsymbol icon, the
others the default arrow, and a new SIDC redraws it without a reload.

Fixtures, login and page helpers are test_browser.py's: bounded waits, nothing timed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import FloatRect, Locator, Page, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_browser import Tabs, api, assert_clean, open_incident
from tests.test_weather import OPEN_METEO, Feed

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

SITE = (4.3517, 50.8466)  # lon, lat: the Grand-Place
# 225 degrees (southwest) in the page's three languages, as wind-logic.js names it.
SOUTHWEST = {
    "fr": "sud-ouest (SO, 225°)",
    "nl": "zuidwest (ZW, 225°)",
    "en": "southwest (SW, 225°)",
}


@pytest.fixture(scope="module")
def feed() -> Iterator[Feed]:
    made = Feed()
    made.start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def weather_hub(database_url: str, logs: Path, feed: Feed) -> Iterator[HubProcess]:
    url = f"http://127.0.0.1:{feed.port}/v1/forecast?latitude={{lat}}&longitude={{lon}}"
    server = HubProcess(database_url, log_dir=logs, weather_url=url).start(timeout=60)
    yield server
    server.stop()


async def weather_anchor(
    server: HubProcess, user: TestUser, incident: str, **properties: Any
) -> dict[str, Any]:
    async with api(server, user) as http:
        created = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "weather",
                "label": "Vent Grand-Place",
                "geometry": {"type": "Point", "coordinates": list(SITE)},
                "properties": properties,
            },
        )
        assert created.status_code == 201, created.text
        return dict(created.json()["anchor"])


async def box_of(locator: Locator) -> FloatRect:
    await expect(locator).to_have_count(1)
    box = await locator.bounding_box()
    assert box is not None
    return box


def centre(box: FloatRect) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def sector_points_to(page: Page, downwind: str) -> tuple[float, float]:
    """The sector and arrow drawn towards `downwind` degrees: the sector's centre minus the
    arrow's (screen x grows east, y grows south)."""
    sector = page.locator("path.wind-sector")
    arrow = page.locator(".wind-arrow")
    await expect(sector).to_have_attribute("data-wind-to", downwind)
    await expect(arrow).to_have_attribute("data-wind-to", downwind)
    sx, sy = centre(await box_of(sector))
    ax, ay = centre(await box_of(arrow))
    return sx - ax, sy - ay


async def test_the_wind_arrow_and_sector_follow_the_anchors_wind(
    weather_hub: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    fire = await seed.user("fire-officer", organisation="Fire Brussels", discipline="D1")
    liaison = await seed.user("liaison", discipline="D1")
    incident = await seed.incident({fire: "contributor", liaison: "contributor"})
    # A west wind at 5 m/s: the cloud goes east, over the default 3 km, 40 degrees.
    anchor = await weather_anchor(
        weather_hub, liaison, incident, wind_from_deg=270, wind_speed_ms=5
    )
    tab = await tabs()
    page = await open_incident(tab, weather_hub, fire, incident)
    dx, dy = await sector_points_to(page, "90")
    assert dx > 20 and abs(dy) < dx / 3, (dx, dy)
    await expect(page.locator(".wind-arrow")).to_have_attribute(
        "title", "Wind from: west, 18 km/h (5 m/s)"
    )

    # The liaison officer reports the wind turned: from the south, so the cloud goes north.
    async with api(weather_hub, liaison) as http:
        turned = await http.patch(
            f"/api/incidents/{incident}/anchors/{anchor['id']}",
            json={"version": 1, "properties": {"wind_from_deg": 180, "wind_speed_ms": 5}},
        )
        assert turned.status_code == 200, turned.text
    dx, dy = await sector_points_to(page, "0")
    assert dy < -20 and abs(dx) < -dy / 3, (dx, dy)
    await expect(page.locator("path.wind-sector")).to_have_count(1)  # redrawn, not added

    # The popup names the direction and the speed in the page's language.
    async with api(weather_hub, liaison) as http:
        await http.patch(
            f"/api/incidents/{incident}/anchors/{anchor['id']}",
            json={"version": 2, "properties": {"wind_from_deg": 225, "wind_speed_ms": 5}},
        )
    await expect(page.locator("path.wind-sector")).to_have_attribute("data-wind-to", "45")
    await page.locator('.anchor-icon[title$=": Vent Grand-Place"]').click()
    popup = page.locator(".leaflet-popup")
    lang = await page.evaluate("document.documentElement.lang")
    await expect(popup.locator(".wind-direction")).to_contain_text(SOUTHWEST[lang])
    await expect(popup.locator(".wind-speed")).to_contain_text("18 km/h (5 m/s)")
    await expect(popup.locator(".wind-sector-text")).to_contain_text("3 km, 40°")
    await popup.locator(".leaflet-popup-close-button").click()

    # In French the words are French.
    await page.select_option("#lang-switch", "fr")
    await page.locator('.anchor-icon[title$=": Vent Grand-Place"]').click()
    await expect(popup.locator(".wind-direction")).to_contain_text(SOUTHWEST["fr"])
    await expect(page.locator(".wind-arrow")).to_have_attribute(
        "title", "Vent venant de: sud-ouest, 18 km/h (5 m/s)"
    )
    await assert_clean(tab)


async def test_the_liaison_officer_enters_the_wind_in_the_anchor_dialog(
    weather_hub: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    liaison = await seed.user("liaison", discipline="D1")
    incident = await seed.incident({liaison: "contributor"})
    anchor = await weather_anchor(weather_hub, liaison, incident)
    tab = await tabs()
    page = await open_incident(tab, weather_hub, liaison, incident)
    marker = page.locator('.anchor-icon[title$=": Vent Grand-Place"]')
    await marker.click()
    popup = page.locator(".leaflet-popup")
    await expect(popup.locator(".wind-line")).to_have_text("No wind entered yet")
    await expect(page.locator("path.wind-sector")).to_have_count(0)
    await popup.get_by_role("button", name="Edit: Vent Grand-Place").click()
    dialog = page.locator("dialog")
    await expect(dialog.locator(".wind-fields")).to_be_visible()
    await dialog.locator("input[name=wind_from_deg]").fill("400")
    await dialog.locator("input[name=wind_speed_kmh]").fill("25")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_visible()  # 400 degrees: the form says so and stays
    await dialog.locator("input[name=wind_from_deg]").fill("90")
    await dialog.locator("input[name=plume_length_km]").fill("5")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_have_count(0)
    # From the east: the cloud goes west.
    dx, dy = await sector_points_to(page, "270")
    assert dx < -20 and abs(dy) < -dx / 3, (dx, dy)
    async with api(weather_hub, liaison) as http:
        stored = (await http.get(f"/api/incidents/{incident}/anchors")).json()["features"][0]
    properties = stored["properties"]
    assert stored["id"] == anchor["id"] and properties["version"] == 2
    assert properties["wind_from_deg"] == 90
    assert properties["wind_speed_ms"] == 6.9  # 25 km/h
    assert properties["plume_length_m"] == 5000
    assert properties["source"] == "Liaison officer"
    observed = datetime.fromisoformat(properties["observed_at"])
    assert abs((datetime.now(UTC) - observed).total_seconds()) < 600
    await assert_clean(tab)


async def test_a_manager_takes_the_current_observation_and_is_told_when_the_feed_is_down(
    weather_hub: HubProcess, feed: Feed, seed: Seeder, tabs: Tabs
) -> None:
    manager = await seed.user("dir-pc-ops", discipline="coord")
    incident = await seed.incident({manager: "manager"})
    await weather_anchor(weather_hub, manager, incident, wind_from_deg=270)
    feed.answer(OPEN_METEO)  # from 232 degrees, 18 km/h
    tab = await tabs()
    page = await open_incident(tab, weather_hub, manager, incident)
    await sector_points_to(page, "90")
    marker = page.locator('.anchor-icon[title$=": Vent Grand-Place"]')
    await marker.click()
    await page.get_by_role("button", name="Take the current observation").click()
    await sector_points_to(page, "52")
    await expect(
        page.locator(".toast", has_text="Wind from: southwest, 18 km/h (5 m/s)")
    ).to_have_count(1)
    await marker.click()
    popup = page.locator(".leaflet-popup")
    await expect(popup).to_contain_text(f"Open-Meteo (http://127.0.0.1:{feed.port})")
    await expect(popup.locator(".wind-gust")).to_contain_text("36 km/h (10 m/s)")

    feed.stop()
    try:
        await page.get_by_role("button", name="Take the current observation").click()
        await expect(page.locator(".toast", has_text="is unreachable")).to_have_count(1)
    finally:
        feed.answer(OPEN_METEO)
        feed.start()
    await expect(page.locator("path.wind-sector")).to_have_attribute("data-wind-to", "52")
    # The console's one error is the refused observation's 'unavailable', nothing else.
    await assert_clean(tab, console=False)


async def test_a_vehicle_with_a_sidc_shows_its_milsymbol_icon(
    weather_hub: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    manager = await seed.user("convoy-lead")
    incident = await seed.incident({manager: "manager"}, kind="event")
    async with api(weather_hub, manager) as http:
        convoy = (
            await http.post(f"/api/incidents/{incident}/convoys", json={"name": "Escorte"})
        ).json()["convoy"]["id"]
        keys, ids = {}, {}
        for label, sidc in (("Peloton 1", "SFGPUCI----D---"), ("Van", None)):
            body: dict[str, Any] = {"label": label}
            if sidc:
                body["sidc"] = sidc
            added = await http.post(
                f"/api/incidents/{incident}/convoys/{convoy}/vehicles", json=body
            )
            assert added.status_code == 201, added.text
            keys[label] = added.json()["device_key"]
            ids[label] = added.json()["vehicle"]["id"]
    async with httpx.AsyncClient(base_url=weather_hub.url, timeout=10) as tracker:
        for n, label in enumerate(keys):
            answer = await tracker.get(
                "/ingest/osmand",
                params={
                    "id": keys[label],
                    "lat": SITE[1] + 0.002 * n,
                    "lon": SITE[0],
                    "bearing": 90,
                },
            )
            assert answer.status_code == 200, answer.text
    tab = await tabs()
    page = await open_incident(tab, weather_hub, manager, incident)
    unit = page.locator('.vehicle-icon-sidc .milsymbol[data-sidc="SFGPUCI----D---"] svg')
    await expect(unit).to_have_count(1)
    await expect(page.locator(".vehicle-icon")).to_have_count(2)
    plain = page.locator(".vehicle-icon:not(.vehicle-icon-sidc) svg path")
    await expect(plain).to_have_count(1)  # the default arrow, turned to its heading
    assert "rotate(90" in str(await plain.get_attribute("transform"))

    # A new symbol (a wheeled police unit) reaches the open page in convoy.updated.
    async with api(weather_hub, manager) as http:
        changed = await http.patch(
            f"/api/incidents/{incident}/vehicles/{ids['Van']}", json={"sidc": "SFGPUCVRW------"}
        )
        assert changed.status_code == 200, changed.text
    await expect(page.locator('.milsymbol[data-sidc="SFGPUCVRW------"] svg')).to_have_count(1)
    await expect(page.locator(".vehicle-icon-sidc")).to_have_count(2)
    frames = await page.locator(".vehicle-icon-sidc svg").evaluate_all(
        "svgs => svgs.map(s => s.outerHTML.length)"
    )
    assert all(length > 200 for length in frames), json.dumps(frames)
    await assert_clean(tab)
