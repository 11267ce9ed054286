"""Accessibility of the pages a crisis cell uses, checked by axe-core (issue 19, "Proof"): the
npm package `axe-core` (web/frontend's devDependencies, installed by `npm ci` like the rest of
the front end; no CDN) is run in the real page by Playwright against a real hub, at desk and
phone size, for WCAG 2.1 A and AA: colour contrast above all (the Urgent badge, the FLASH
and alert toasts, the convoy alerts), names of controls, labels, landmarks.

axe runs through `page.evaluate`, which the page's Content-Security-Policy does not govern:
the page itself loads nothing new, and the CSP check of every test still holds."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, ViewportSize, expect

from tests import test_browser
from tests.live import ROOT, HubProcess
from tests.seed import Seeder
from tests.test_browser import (
    DESKTOP,
    PHONE,
    Tabs,
    api,
    assert_clean,
    create_cp_anchor,
    login,
    open_incident,
)
from tests.test_convoys import ROUTE, ZONE, along

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

AXE = ROOT / "web" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def axe_source() -> str:
    assert AXE.exists(), "install the front end's packages: scripts/setup (npm ci)"
    return Path(AXE).read_text()


async def violations(page: Page, axe_source: str, context: str = "document") -> list[str]:
    """axe's WCAG A/AA violations on the page as it is now, one line per element."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(axe_source)
    found: list[dict[str, Any]] = await page.evaluate(
        """async ([context, tags]) => {
          const result = await axe.run(context === 'document' ? document : context, {
            runOnly: { type: 'tag', values: tags },
            resultTypes: ['violations'],
          });
          return result.violations;
        }""",
        [context, WCAG],
    )
    return [
        f"{v['id']}: {node['target']} {node.get('failureSummary', '')[:200]}"
        for v in found
        for node in v["nodes"]
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_incident_page_and_its_alerts_pass_axe(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs, viewport: ViewportSize, axe_source: str
) -> None:
    manager = await seed.user("monitor", organisation="NCCN", discipline="coord")
    field = await seed.user("field", organisation="Fire Brussels", discipline="D1")
    incident = await seed.incident(
        {manager: "manager", field: "contributor"}, title="Summit", kind="event"
    )
    await create_cp_anchor(hub_server, manager, incident)
    async with api(hub_server, manager) as http:
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
        convoy = (
            await http.post(
                f"/api/incidents/{incident}/convoys", json={"name": "Motorcade", "route": ROUTE}
            )
        ).json()["convoy"]["id"]
        key = (
            await http.post(
                f"/api/incidents/{incident}/convoys/{convoy}/vehicles", json={"label": "VIP 1"}
            )
        ).json()["device_key"]
        for priority in ("normal", "urgent"):
            posted = await http.post(
                f"/api/incidents/{incident}/feed",
                json={
                    "client_id": str(uuid.uuid4()),
                    "text": f"A {priority} report",
                    "priority": priority,
                },
            )
            assert posted.status_code == 201, posted.text
    phone = viewport == PHONE
    tab = await (tabs(viewport, is_mobile=True, has_touch=True) if phone else tabs(viewport))
    page = await open_incident(tab, hub_server, manager, incident)
    await expect(page.locator(".badge.prio-urgent")).to_be_visible()
    problems = {"feed": await violations(page, axe_source)}

    # The toasts: a FLASH from someone else, and a vehicle alert.
    async with api(hub_server, field) as http:
        posted = await http.post(
            f"/api/incidents/{incident}/feed",
            json={"client_id": str(uuid.uuid4()), "text": "Gas leak", "priority": "flash"},
        )
        assert posted.status_code == 201, posted.text
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as tracker:
        start = datetime.now(UTC) - timedelta(seconds=30)
        for n, fraction in enumerate((0.0, 0.65)):
            lon, lat = along(ROUTE, fraction)
            params = {"id": key, "lat": lat, "lon": lon}
            params.update(timestamp=int((start + timedelta(seconds=10 * n)).timestamp()))
            assert (await tracker.get("/ingest/osmand", params=params)).status_code == 200
    await expect(page.locator(".toast-flash")).to_be_visible()
    await expect(page.locator(".toast-alert")).to_be_visible()
    problems["toasts"] = await violations(page, axe_source, ".toasts")

    for tab_id in ("tab-anchors", "tab-convoys", "tab-alerts", "tab-online"):
        await page.click(f"#{tab_id}")
        if tab_id == "tab-convoys":
            await expect(page.locator("#panel-convoys li.alert-enter")).to_be_visible()
        problems[tab_id] = await violations(page, axe_source)

    found = {where: lines for where, lines in problems.items() if lines}
    assert not found, json.dumps(found, indent=1)
    await assert_clean(tab)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_login_and_incident_list_pass_axe(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs, viewport: ViewportSize, axe_source: str
) -> None:
    manager = await seed.user("manager", organisation="Province of Namur", discipline="coord")
    await seed.incident({manager: "manager"}, title="Flooding", kind="exercise")
    tab = await tabs(viewport)
    page = tab.page
    await page.goto(f"{hub_server.url}/login")
    problems = {"login": await violations(page, axe_source)}
    # The check sees what it is meant to: grey on white at 2.3:1 is reported, then removed.
    await page.evaluate(
        """() => document.body.append(Object.assign(document.createElement('p'),
             { id: 'probe', textContent: 'Low contrast', style: 'color:#aaa;background:#fff' }))"""
    )
    probe = await violations(page, axe_source, "#probe")
    assert [line.split(":")[0] for line in probe] == ["color-contrast"], probe
    await page.evaluate("document.getElementById('probe').remove()")
    await login(tab, hub_server, manager, "/incidents")
    await expect(page.locator("#incident-rows tr")).not_to_have_count(0)
    problems["list"] = await violations(page, axe_source)
    await page.locator("#incident-rows tr", has_text="Flooding").locator("button").click()
    await expect(page.locator("dialog[open] .members-table tr")).to_have_count(1)
    problems["members"] = await violations(page, axe_source, "dialog[open]")
    found = {where: lines for where, lines in problems.items() if lines}
    assert not found, json.dumps(found, indent=1)
    await assert_clean(tab)
