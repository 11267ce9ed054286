"""The web app in a real browser: Debian's chromium driven by Playwright against a real hub.

Playwright never downloads a browser here: every test launches /usr/bin/chromium (installed by
`scripts/setup --test`). Every wait is bounded; nothing asserts on how fast anything is.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, Unpack
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    FloatRect,
    Page,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)

from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from web.pages import frontend_built

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000  # the bound of every wait on the page
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
CP_POINT = {"type": "Point", "coordinates": [4.3517, 50.8466]}

# Collected in the page from the first script on: CSP violations would mean something the page
# needs is blocked (or something it should not load was tried).
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""

expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def chromium() -> str:
    assert frontend_built(), "build the front end first: scripts/setup (or npm run build)"
    assert Path(CHROMIUM).exists(), "install Debian's chromium: scripts/setup --test"
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@dataclass
class Tab:
    """One browser profile (its own cookies and storage) with one page, and what it requested."""

    context: BrowserContext
    page: Page
    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def csp_violations(self) -> list[str]:
        return list(await self.page.evaluate("window.__csp || []"))

    def foreign_hosts(self) -> set[str]:
        return {urlsplit(url).hostname or url for url in self.urls} - {"127.0.0.1"}


class ContextOptions(TypedDict, total=False):
    """The options of Browser.new_context that the tests (and scripts/screenshots.py) vary."""

    is_mobile: bool
    has_touch: bool
    device_scale_factor: float
    timezone_id: str


class Tabs:
    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.open: list[Tab] = []

    async def __call__(
        self, viewport: ViewportSize = DESKTOP, **options: Unpack[ContextOptions]
    ) -> Tab:
        context = await self.browser.new_context(
            viewport=viewport,
            locale="en-GB",
            service_workers="block",
            **options,
        )
        context.set_default_timeout(WAIT_MS)
        await context.add_init_script(WATCH_CSP)
        page = await context.new_page()
        tab = Tab(context, page)

        async def record(route: Route) -> None:
            tab.urls.append(route.request.url)
            await route.continue_()

        await context.route("**/*", record)
        page.on("websocket", lambda ws: tab.urls.append(ws.url))
        page.on("pageerror", lambda error: tab.errors.append(f"pageerror: {error}"))

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                tab.errors.append(message.text)

        page.on("console", console)
        self.open.append(tab)
        return tab


@pytest.fixture
async def tabs(browser: Browser) -> AsyncIterator[Tabs]:
    made = Tabs(browser)
    yield made
    for tab in made.open:
        await tab.context.close()


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20) -> None:
    """Poll `check` until it holds; fail after `timeout` seconds saying what was awaited."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def api(server: HubProcess, user: TestUser) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {user.token}"}, timeout=10
    )


async def login(tab: Tab, server: HubProcess, user: TestUser, path: str) -> None:
    """Through the real login page: the page asked for sends us there and back."""
    page = tab.page
    await page.goto(server.url + path)
    await expect(page).to_have_url(f"{server.url}/login?next={path}")
    await page.fill("#username", user.username)
    await page.fill("#password", user.password)
    await page.click("#login-form button[type=submit]")
    await expect(page).to_have_url(server.url + path)


async def open_incident(tab: Tab, server: HubProcess, user: TestUser, incident: str) -> Page:
    await login(tab, server, user, f"/incidents/{incident}")
    await expect(tab.page.locator("#conn-state")).to_have_class("conn conn-live")
    return tab.page


async def post_from_page(page: Page, text: str) -> None:
    await page.fill("#feed-text", text)
    await page.click(".feed-form button[type=submit]")
    await expect(page.locator(".feed-list .entry-text", has_text=text)).to_have_count(1)


async def anchor_box(page: Page, label: str) -> FloatRect:
    """Where the point anchor labelled `label` is drawn (its marker's title is "kind: label")."""
    marker = page.locator(f'.anchor-icon[title$=": {label}"]')
    # The map draws its anchors after the snapshot arrives, and draws a marker anew when its
    # anchor changes: wait for one to be there, as a user would, and measure it while it is.
    for _ in range(50):
        await expect(marker).to_be_visible()
        box = await marker.bounding_box()
        if box is not None:
            return box
        await asyncio.sleep(0.1)
    raise AssertionError(f"anchor {label!r} is not on the map")


async def drag_anchor(page: Page, label: str, dx: float, dy: float) -> None:
    """Move a point anchor with the drawing toolbar's drag mode, as a user does."""
    await page.click(".leaflet-pm-icon-drag")
    box = await anchor_box(page, label)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    await page.mouse.move(x + dx, y + dy, steps=5)
    await page.mouse.up()
    await page.click(".leaflet-pm-icon-drag")  # leave drag mode


async def stored_anchor(server: HubProcess, user: TestUser, incident: str) -> dict[str, Any]:
    async with api(server, user) as http:
        features = (await http.get(f"/api/incidents/{incident}/anchors")).json()["features"]
    assert len(features) == 1
    return dict(features[0])


async def create_cp_anchor(server: HubProcess, user: TestUser, incident: str) -> dict[str, Any]:
    async with api(server, user) as http:
        created = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "command_post",
                "label": "CP Monnaie",
                "geometry": CP_POINT,
            },
        )
        assert created.status_code == 201, created.text
        return dict(created.json()["anchor"])


async def assert_clean(*tabs: Tab, console: bool = True) -> None:
    for tab in tabs:
        assert await tab.csp_violations() == []
        assert tab.foreign_hosts() == set(), tab.urls
        if console:
            assert tab.errors == []


# tests -----------------------------------------------------------------------------------------


async def test_command_post_and_field_team_see_each_other_live(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    cp = await seed.user("cp", organisation="Police Brussels", discipline="D3")
    field_team = await seed.user("field", organisation="Fire Brussels", discipline="D1")
    incident = await seed.incident(
        {cp: "manager", field_team: "contributor"}, title="Fire at Rue Neuve"
    )
    await create_cp_anchor(hub_server, cp, incident)
    wall, phone = await tabs(DESKTOP), await tabs(PHONE, is_mobile=True, has_touch=True)
    cp_page = await open_incident(wall, hub_server, cp, incident)
    field_page = await open_incident(phone, hub_server, field_team, incident)

    # Each sees the other online, then each other's feed entries as they are posted.
    await expect(cp_page.locator("#online-count")).to_have_text("2")
    await post_from_page(cp_page, "Perimeter set at 300 m, CP-Ops at Place de la Monnaie")
    await expect(
        field_page.locator(".feed-list .entry-text", has_text="Perimeter set at 300 m")
    ).to_be_visible()
    await post_from_page(field_page, "Two engines on site, fire on the 3rd floor")
    await expect(
        cp_page.locator(".feed-list .entry-text", has_text="Two engines on site")
    ).to_be_visible()

    # The command post moves the anchor on its map: the phone's marker follows, and back.
    title = "CP Monnaie"
    before = await anchor_box(field_page, title)
    await drag_anchor(cp_page, title, 120, 0)

    async def moved_on_phone() -> bool:
        return (await anchor_box(field_page, title))["x"] > before["x"] + 5

    await until(moved_on_phone, "the field team's map to show the anchor moved east")
    moved = await stored_anchor(hub_server, cp, incident)
    assert moved["properties"]["version"] == 2
    assert moved["geometry"]["coordinates"][0] > CP_POINT["coordinates"][0]

    before = await anchor_box(cp_page, title)
    await drag_anchor(field_page, title, 0, 60)

    async def moved_on_wall() -> bool:
        return (await anchor_box(cp_page, title))["y"] > before["y"] + 5

    await until(moved_on_wall, "the command post's map to show the anchor moved south")
    moved_back = await stored_anchor(hub_server, cp, incident)
    assert moved_back["properties"]["version"] == 3
    assert moved_back["geometry"]["coordinates"][1] < moved["geometry"]["coordinates"][1]

    # The phone leaves: the command post's list follows the change (presence as changes).
    await field_page.goto("about:blank")
    await expect(cp_page.locator("#online-count")).to_have_text("1")
    await assert_clean(wall, phone)


async def test_a_convoy_marker_moves_as_positions_are_ingested(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    monitor = await seed.user("monitor", organisation="Police Federal", discipline="D3")
    incident = await seed.incident({monitor: "manager"}, title="Summit motorcade", kind="event")
    async with api(hub_server, monitor) as http:
        convoy = (
            await http.post(f"/api/incidents/{incident}/convoys", json={"name": "Motorcade A"})
        ).json()["convoy"]
        added = await http.post(
            f"/api/incidents/{incident}/convoys/{convoy['id']}/vehicles",
            json={"label": "Lead car"},
        )
        assert added.status_code in (200, 201), added.text
        key = added.json()["device_key"]
    tab = await tabs()
    page = await open_incident(tab, hub_server, monitor, incident)

    start = int(time.time()) - 600
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as tracker:
        fix = {"id": key, "lat": 50.8466, "lon": 4.3517, "timestamp": start, "speed": 20}
        assert (await tracker.get("/ingest/osmand", params=fix)).status_code == 200
        marker = page.locator('.vehicle-icon[title="Lead car"]')
        await expect(marker).to_be_visible()
        first = await marker.bounding_box()
        assert first is not None
        # Ten minutes later, 7 km east (about 42 km/h): the marker moves east on the map.
        fix = {**fix, "lon": 4.4517, "timestamp": start + 600}
        assert (await tracker.get("/ingest/osmand", params=fix)).status_code == 200

    async def moved_east() -> bool:
        box = await marker.bounding_box()
        return box is not None and box["x"] > first["x"] + 3

    await until(moved_east, "the vehicle marker to move east")
    await page.click("#tab-convoys")
    await expect(page.locator("#panel-convoys .vehicle-name", has_text="Lead car")).to_be_visible()
    await assert_clean(tab)


async def test_a_conflicting_anchor_edit_shows_the_current_state(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    cp = await seed.user("cp", discipline="D3")
    medic = await seed.user("medic", organisation="SMUR Brussels", discipline="D2")
    incident = await seed.incident({cp: "manager", medic: "contributor"})
    anchor = await create_cp_anchor(hub_server, cp, incident)
    tab = await tabs()
    page = await open_incident(tab, hub_server, medic, incident)

    # The medic starts renaming the anchor...
    await page.click("#tab-anchors")
    await page.click("#panel-anchors .anchor-actions button >> nth=0")
    dialog = page.locator("dialog[open]")
    await expect(dialog.locator("input[name=label]")).to_be_visible()
    # ...while the command post renames it first.
    async with api(hub_server, cp) as http:
        changed = await http.patch(
            f"/api/incidents/{incident}/anchors/{anchor['id']}",
            json={"version": anchor["version"], "label": "CP Monnaie (moved to the town hall)"},
        )
        assert changed.status_code == 200, changed.text
    await expect(
        page.locator("#panel-anchors", has_text="CP Monnaie (moved to the town hall)")
    ).to_be_attached()
    await dialog.locator("input[name=label]").fill("CP Ops North")
    await dialog.locator("button[value=save]").click()

    # The conflict is shown with the anchor as it is now, not swallowed: who changed it (by
    # name, not user id), and their label beside my refused one (issue 19, item 6).
    conflict = page.locator("dialog.dialog-conflict[open]")
    await expect(conflict).to_be_visible()
    await expect(conflict).to_contain_text(f"{cp.username} changed")
    await expect(conflict).to_contain_text("version 2")
    assert str(anchor["updated_by"]) not in (await conflict.text_content() or "")
    label_row = conflict.locator(".conflict-state tr", has_text="Label")
    await expect(label_row).to_contain_text("CP Monnaie (moved to the town hall)")
    await expect(label_row.locator(".conflict-mine")).to_have_text("CP Ops North")
    place_row = conflict.locator(".conflict-state tr", has_text="Position")
    await expect(place_row).to_contain_text("unchanged")
    # Keeping theirs writes nothing.
    await conflict.locator("button[value=cancel]").click()
    await expect(conflict).to_have_count(0)
    current = await stored_anchor(hub_server, cp, incident)
    assert current["properties"]["label"] == "CP Monnaie (moved to the town hall)"
    assert current["properties"]["version"] == 2
    await assert_clean(tab)


async def test_the_page_recovers_after_the_hub_restarts_without_a_reload(
    database_url: str, logs: Path, seed: Seeder, tabs: Tabs
) -> None:
    server = HubProcess(database_url, log_dir=logs).start()
    try:
        cp = await seed.user("cp")
        incident = await seed.incident({cp: "manager"})
        tab = await tabs()
        page = await open_incident(tab, server, cp, incident)
        await post_from_page(page, "Before the restart")
        await page.evaluate("window.__sameDocument = true")

        server.kill()
        await expect(page.locator("#conn-state")).to_have_class("conn conn-offline")
        # Keep the page away from the hub while others post, so that it has to catch up by
        # seq rather than receive the events live.
        await tab.context.set_offline(True)
        server.start()
        async with api(server, cp) as http:
            for n in range(3):
                posted = await http.post(
                    f"/api/incidents/{incident}/feed",
                    json={"client_id": str(uuid.uuid4()), "text": f"While offline {n}"},
                )
                assert posted.status_code == 201, posted.text
        await tab.context.set_offline(False)

        await expect(page.locator("#conn-state")).to_have_class("conn conn-live")
        for n in range(3):
            await expect(
                page.locator(".feed-list .entry-text", has_text=f"While offline {n}")
            ).to_have_count(1)
        await expect(
            page.locator(".feed-list .entry-text", has_text="Before the restart")
        ).to_have_count(1)
        assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        # And it is live again: a new entry arrives without any help.
        async with api(server, cp) as http:
            await http.post(
                f"/api/incidents/{incident}/feed",
                json={"client_id": str(uuid.uuid4()), "text": "After the restart"},
            )
        await expect(
            page.locator(".feed-list .entry-text", has_text="After the restart")
        ).to_be_visible()
        # The socket's failed attempts while the hub was down log console errors: expected.
        await assert_clean(tab, console=False)
    finally:
        server.stop()


async def test_exercise_banner_and_language_switch(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    player = await seed.user("player", organisation="Civil Protection", discipline="D4")
    exercise = await seed.incident({player: "contributor"}, title="SEVESO drill", kind="exercise")
    real = await seed.incident({player: "viewer"}, title="Real incident")
    tab = await tabs()
    page = await open_incident(tab, hub_server, player, exercise)

    banner = page.locator("#exercise-banner")
    await expect(banner).to_be_visible()
    await expect(banner).to_contain_text("EXERCISE")
    await expect(page).to_have_title("[EXERCISE] SEVESO drill — CrisisHub")

    await expect(page.locator("#tab-feed")).to_have_text("Feed")
    await page.select_option("#lang-switch", "nl")
    await expect(page.locator("#tab-feed")).to_have_text("Logboek")
    await expect(page.locator("#conn-state")).to_have_text("Live")
    await expect(page.locator("html")).to_have_attribute("lang", "nl")
    await page.select_option("#lang-switch", "fr")
    await expect(page.locator("#tab-feed")).to_have_text("Journal")
    await expect(page.locator("#conn-state")).to_have_text("En direct")

    # The choice holds on the next page; a real incident shows no banner.
    await page.goto(f"{hub_server.url}/incidents/{real}")
    await expect(page.locator("#conn-state")).to_have_class("conn conn-live")
    await expect(page.locator("#tab-feed")).to_have_text("Journal")
    await expect(page.locator("#exercise-banner")).to_be_hidden()
    await assert_clean(tab)


async def test_pages_need_a_login_and_membership(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    member = await seed.user("member")
    outsider = await seed.user("outsider")
    incident = await seed.incident({member: "viewer"}, title="Members only")
    tab = await tabs()
    await login(tab, hub_server, outsider, "/incidents")
    await expect(tab.page.locator("#incident-rows")).not_to_contain_text("Members only")
    response = await tab.page.goto(f"{hub_server.url}/incidents/{incident}")
    assert response is not None and response.status == 403
    await expect(tab.page.locator("[data-error=forbidden]")).to_be_visible()
    headers = await response.all_headers()
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    # Logging out ends the session: the list page sends us back to the login page.
    await tab.page.goto(f"{hub_server.url}/incidents")
    await tab.page.click("#logout")
    await expect(tab.page).to_have_url(f"{hub_server.url}/login")
    await tab.page.goto(f"{hub_server.url}/incidents")
    await expect(tab.page).to_have_url(f"{hub_server.url}/login?next=/incidents")
    assert tab.foreign_hosts() == set()


async def test_managers_create_incidents_and_manage_members_from_the_list(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    manager = await seed.user("manager", organisation="Province of Namur", discipline="coord")
    medic = await seed.user("medic", organisation="SMUR Namur", discipline="D2")
    tab = await tabs()
    page = tab.page
    await login(tab, hub_server, manager, "/incidents")
    title = f"Flooding Meuse {uuid.uuid4().hex[:6]}"
    await page.fill("#create-title", title)
    await page.click("#create-form button[type=submit]")
    await expect(page.locator("#incident-title")).to_have_text(title)
    await expect(page.locator("#conn-state")).to_have_class("conn conn-live")
    incident = page.url.rsplit("/", 1)[1]

    await page.goto(f"{hub_server.url}/incidents")
    row = page.locator("#incident-rows tr", has_text=title)
    await row.locator("button").click()
    dialog = page.locator("dialog[open]")
    await dialog.locator("input[name=username]").fill(medic.username)
    await dialog.locator("select[name=role]").select_option("contributor")
    await dialog.locator("button.btn-primary", has_text="Add").click()
    await expect(dialog.locator(".members-table")).to_contain_text(medic.username)
    async with api(hub_server, manager) as http:
        members = (await http.get(f"/api/incidents/{incident}/members")).json()["members"]
    assert {m["username"]: m["role"] for m in members} == {
        manager.username: "manager",
        medic.username: "contributor",
    }
    await dialog.locator(".members-table tr", has_text=medic.username).locator("button").click()
    await page.locator("dialog.dialog-remove-member button[value=remove]").click()  # confirmed
    await expect(dialog.locator(".members-table")).not_to_contain_text(medic.username)
    async with api(hub_server, manager) as http:
        members = (await http.get(f"/api/incidents/{incident}/members")).json()["members"]
    assert [m["username"] for m in members] == [manager.username]
    await assert_clean(tab)
