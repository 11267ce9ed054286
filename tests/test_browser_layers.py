"""Reference layers in Debian's chromium against a real hub (issue 16).

The incident map offers the hub's layers in its layer switcher; a 3,000-point layer shown is
drawn clustered (a few dozen elements on the map, whose counts add up to every point), in its
colour; a reload gets the layer again from the browser's cache, revalidated (the hub answers
304). An exclusion zone's popup says what lies inside it, "Inside: 3,000 schools, 1
retirement home, 2 registered addresses", and says it anew when the zone is redrawn by
someone else (a PATCH through the API: anchor.updated). The layers page: an admin uploads a
layer and sees the hub's own message for a KML bomb; a non-admin gets no form."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, FilePayload, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_browser import Tabs, assert_clean, login, open_incident
from tests.test_cli import crisishub, last_line
from tests.test_contacts import bearer, unique
from tests.test_layers import KML_BOMB, collection, point
from tests.test_registrations import csv_file, square

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

POINTS = 3_000


async def test_layers_clustered_cached_and_the_inside_counts_follow_a_redraw(
    database_url: str,
    hub_server: HubProcess,
    seed: Seeder,
    tabs: Tabs,
    browser: Browser,
    tmp_path: Path,
    area_longitudes: Any,
) -> None:
    admin = await seed.user("layers-admin", admin=True)
    manager = await seed.user("layers-manager")
    incident = await seed.incident({manager: "manager"}, title="Layers on the map")
    west, south = next(area_longitudes), 20.0
    word = unique()
    k = uuid.uuid4().hex[:6]
    registrations = csv_file(
        tmp_path,
        f"a-{k},en,+32470000201,,,home,{south + 0.05},{west + 0.05},false",
        f"b-{k},en,+32470000202,,,home,{south + 0.01},{west + 0.09},false",
    )
    last_line(crisishub(database_url, "registrations", "import", str(registrations), cwd=tmp_path))
    schools_name = f"Schools {word}"
    homes_name = f"Homes {word}"
    async with test_browser.api(hub_server, admin) as http:
        # 3,000 schools on a 60 x 50 grid inside the zone's west half
        grid = [
            point(
                west + 0.002 + (i % 60) * 0.0007, south + 0.002 + (i // 60) * 0.0019, name=f"S{i}"
            )
            for i in range(POINTS)
        ]
        ids: dict[str, str] = {}
        for name, category, symbol, colour, body in (
            (schools_name, "school", "triangle", "#d97706", collection(*grid)),
            (
                homes_name,
                "retirement_home",
                "cross",
                "#7c3aed",
                collection(point(west + 0.08, south + 0.08, name="Home Zonneweelde")),
            ),
        ):
            response = await http.post(
                "/api/layers",
                data={"name": name, "category": category, "symbol": symbol, "colour": colour},
                files={"file": (f"{category}.geojson", body)},
            )
            assert response.status_code == 201, response.text
            ids[category] = response.json()["id"]
        schools_id = ids["school"]
        zone = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "exclusion_zone",
                "label": "Zone école",
                "geometry": square(west, south),
            },
            headers=bearer(manager),
        )
        assert zone.status_code == 201, zone.text
        anchor = zone.json()["anchor"]

    tab = await tabs()
    page = await open_incident(tab, hub_server, manager, incident)
    switcher = page.locator(".leaflet-control-layers")
    await switcher.hover()
    entry = page.locator(".leaflet-control-layers-overlays label", has_text=schools_name)
    await expect(entry).to_contain_text(f"({POINTS})")
    await entry.locator("input").check()
    await (
        page.locator(".leaflet-control-layers-overlays label", has_text=homes_name)
        .locator("input")
        .check()
    )
    await page.mouse.move(5, 300)  # the switcher folds again

    # clustered: far fewer elements than points, their counts adding up to every point
    clusters = page.locator(".ref-layer-cluster")
    await expect(clusters.first).to_be_visible()

    async def drawn() -> tuple[int, int, int]:
        counts = await clusters.all_inner_texts()
        singles = await page.locator(".ref-layer-icon").count()
        return len(counts), sum(int(text) for text in counts), singles

    await test_browser.until(
        lambda: _adds_up(drawn, POINTS + 1), "the clusters to hold every point"
    )
    elements, _, singles = await drawn()
    assert elements + singles < 300
    colour = await clusters.first.locator("span").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert colour == "rgb(217, 119, 6)"  # the layer's #d97706

    # the zone's popup: what lies inside
    await page.click("#tab-anchors")
    await page.locator("#panel-anchors .anchor-list button.link", has_text="Zone école").click()
    inside = page.locator('.leaflet-popup .anchor-inside[data-version="1"]')
    await expect(inside).to_have_text(
        "Inside: 3000 schools, 1 retirement home, 2 registered addresses"
    )

    # redrawn by someone else: the east half only, which holds the home and one address
    async with test_browser.api(hub_server, manager) as http:
        moved = await http.patch(
            f"/api/incidents/{incident}/anchors/{anchor['id']}",
            json={
                "version": anchor["version"],
                "geometry": square(west + 0.06, south + 0.005, 0.09),
            },
        )
        assert moved.status_code == 200, moved.text
    # the popup is opened again on the new shape (the old one fades out) and asks again
    redrawn = page.locator(f'.leaflet-popup .anchor-inside[data-version="{anchor["version"] + 1}"]')
    await expect(redrawn).to_have_text("Inside: 1 retirement home, 1 registered address")
    await expect(page.locator(".leaflet-popup")).to_have_count(1)

    # a reload keeps the choice of layers shown
    await page.reload()
    await expect(page.locator("#conn-state")).to_have_class("conn conn-live")
    await expect(clusters.first).to_be_visible()
    await assert_clean(tab)

    # ...and gets them from the browser's cache, revalidated by their ETag: a context of its
    # own, since the recording tabs route every request, which turns Chromium's cache off
    context = await browser.new_context(viewport=test_browser.DESKTOP, locale="en-GB")
    try:
        plain = await context.new_page()
        await plain.goto(hub_server.url + "/login")
        await plain.fill("#username", manager.username)
        await plain.fill("#password", manager.password)
        await plain.click("#login-form button[type=submit]")
        await expect(plain).to_have_url(hub_server.url + "/incidents")
        await plain.evaluate(
            "ids => localStorage.setItem('crisishub.layers.shown', JSON.stringify(ids))",
            [schools_id],
        )
        for _ in range(2):
            await plain.goto(f"{hub_server.url}/incidents/{incident}")
            await expect(plain.locator(".ref-layer-cluster").first).to_be_visible()
    finally:
        await context.close()
    reads = re.findall(
        rf'"GET /api/layers/{schools_id} HTTP/1.1" (\d+)', hub_server.log_path.read_text()
    )
    assert reads[-2:] == ["200", "304"], reads


async def _adds_up(drawn: Any, total: int) -> bool:
    _, clustered, singles = await drawn()
    return bool(clustered + singles == total)


async def test_the_layers_page_uploads_and_shows_the_hub_s_refusal(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    admin = await seed.user("layers-admin", admin=True)
    reader = await seed.user("layers-reader")
    word = unique()
    tab = await tabs()
    await login(tab, hub_server, admin, "/layers")
    page = tab.page
    await page.fill("#layer-name", f"Hôpitaux {word}")
    await page.select_option("#layer-category", "hospital")
    await page.select_option("#layer-symbol", "cross")
    body = collection(point(4.35, 50.85, name="Saint-Pierre"), point(4.37, 50.84, name="Etterbeek"))
    await page.set_input_files(
        "#layer-file",
        FilePayload(name="hopitaux.geojson", mimeType="application/geo+json", buffer=body),
    )
    await page.click("#layer-upload")
    row = page.locator(".layer-row", has_text=f"Hôpitaux {word}")
    await expect(row).to_contain_text("Hospitals · 2 feature(s) · hopitaux.geojson · version 1")

    # a KML bomb: the hub's own words under the form, nothing added
    await page.fill("#layer-name", f"Bombe {word}")
    await page.set_input_files(
        "#layer-file",
        FilePayload(
            name="bomb.kml", mimeType="application/vnd.google-earth.kml+xml", buffer=KML_BOMB
        ),
    )
    await page.click("#layer-upload")
    await expect(page.locator("#layer-upload-error")).to_contain_text(
        "DTDs and entities are not accepted in uploaded XML"
    )
    await expect(page.locator(".layer-row", has_text=f"Bombe {word}")).to_have_count(0)

    # replaced from its row: version 2, one feature
    await row.locator("input[type=file]").set_input_files(
        FilePayload(
            name="hopitaux-2.geojson",
            mimeType="application/geo+json",
            buffer=collection(point(4.35, 50.85, name="Saint-Pierre")),
        )
    )
    await row.locator(".layer-replace").click()
    await expect(row).to_contain_text("1 feature(s) · hopitaux-2.geojson · version 2")
    page.once("dialog", lambda dialog: dialog.accept())
    await row.locator(".layer-delete").click()
    await expect(row).to_have_count(0)
    await assert_clean(tab, console=False)  # the refused upload's 400 is a console error

    # a reader sees the list, never the forms
    reading = await tabs()
    await login(reading, hub_server, reader, "/layers")
    await expect(reading.page.locator("#layers-upload")).to_contain_text(
        "Only administrators add, replace and delete layers."
    )
    await expect(reading.page.locator("#layer-file")).to_have_count(0)
    await expect(reading.page.locator(".layer-replace")).to_have_count(0)
    await assert_clean(reading)
