"""The smaller things a crisis cell trips on (issue 19, item 15), in a real browser against a
real hub: the message box stays in view while the feed scrolls, the discipline badge names the
discipline, a manager sees phase and status once, the map's controls speak the page's language
in a crisis cell's words, the French and Dutch headers fit one line on a phone, and a viewer is
told the incident is read-only.

Fixtures, login and page helpers are test_browser.py's: Debian's chromium, bounded waits."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Page, ViewportSize, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_browser import (
    DESKTOP,
    PHONE,
    Tabs,
    api,
    assert_clean,
    create_cp_anchor,
    open_incident,
)

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs


async def uncovered(page: Page, selector: str) -> bool:
    """Whether the element's centre is on screen and the element itself is what is there."""
    return bool(
        await page.evaluate(
            """(selector) => {
              const el = document.querySelector(selector);
              const box = el.getBoundingClientRect();
              const x = box.left + box.width / 2, y = box.top + box.height / 2;
              if (y < 0 || y > innerHeight || x < 0 || x > innerWidth) return false;
              const top = document.elementFromPoint(x, y);
              return top === el || el.contains(top);
            }""",
            selector,
        )
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_message_box_stays_in_view_while_the_feed_scrolls(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs, viewport: ViewportSize
) -> None:
    officer = await seed.user("officer", organisation="Fire Brussels", discipline="D1")
    incident = await seed.incident({officer: "contributor"}, title="Warehouse fire")
    async with api(hub_server, officer) as http:
        for n in range(40):
            posted = await http.post(
                f"/api/incidents/{incident}/feed",
                json={"client_id": str(uuid.uuid4()), "text": f"Situation report {n}"},
            )
            assert posted.status_code == 201, posted.text
    phone = viewport == PHONE
    tab = await (tabs(viewport, is_mobile=True, has_touch=True) if phone else tabs(viewport))
    page = await open_incident(tab, hub_server, officer, incident)
    oldest = page.locator(".feed-list .entry-text", has_text="Situation report 0")
    await oldest.scroll_into_view_if_needed()
    await expect(oldest).to_be_in_viewport()
    await expect(page.locator("#feed-text")).to_be_in_viewport()
    assert await uncovered(page, "#feed-text"), "the feed covers the message box"
    assert await uncovered(page, ".feed-form button[type=submit]"), "Post is out of reach"
    # And it is used from there.
    await page.fill("#feed-text", "Posted from the bottom of the feed")
    await page.click(".feed-form button[type=submit]")
    await expect(
        page.locator(".feed-list .entry-text", has_text="Posted from the bottom")
    ).to_have_count(1)
    await assert_clean(tab)


async def test_disciplines_named_phase_once_and_viewers_told_read_only(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    coordinator = await seed.user("coordinator", organisation="NCCN", discipline="coord")
    medic = await seed.user("medic", organisation="SMUR Brussels", discipline="D2")
    incident = await seed.incident({coordinator: "manager", medic: "viewer"}, title="Summit")
    async with api(hub_server, coordinator) as http:
        posted = await http.post(
            f"/api/incidents/{incident}/feed",
            json={"client_id": str(uuid.uuid4()), "text": "Federal phase declared"},
        )
        assert posted.status_code == 201, posted.text
    desk, viewer_tab = await tabs(), await tabs()
    manager_page = await open_incident(desk, hub_server, coordinator, incident)
    viewer_page = await open_incident(viewer_tab, hub_server, medic, incident)

    # The badge names the discipline in the page's language, not its code.
    badge = viewer_page.locator(".entry", has_text="Federal phase declared").locator(".disc")
    await expect(badge).to_have_text("Coordination")
    await viewer_page.select_option("#lang-switch", "nl")
    await expect(badge).to_have_text("Coördinatie")

    # A manager reads phase and status in the controls that change them, once.
    badges = manager_page.locator("#incident-badges")
    await expect(badges.locator("select[name=phase]")).to_be_visible()
    await expect(badges.locator("select[name=status]")).to_be_visible()
    await expect(badges.locator(".badge")).to_have_count(1)  # the kind
    await expect(badges).not_to_contain_text("Phase:")
    await expect(manager_page.locator("#readonly-note")).to_be_hidden()
    # The viewer reads them as badges, and is told why there is no message box.
    await expect(viewer_page.locator("#incident-badges .badge")).to_have_count(3)
    note = viewer_page.locator("#readonly-note")
    await expect(note).to_be_visible()
    await expect(note).to_have_text(
        "Alleen lezen: uw rol in dit incident is Lezer. Een beheerder kan u laten schrijven."
    )
    await viewer_page.select_option("#lang-switch", "en")
    await expect(note).to_contain_text("Read only: your role in this incident is Viewer.")
    await expect(viewer_page.locator("#feed-text")).to_have_count(0)

    # Once the incident is closed, the manager is told too.
    await badges.locator("select[name=status]").select_option("closed")
    await badges.locator("button[type=submit]").click()
    await expect(manager_page.locator("#readonly-note")).to_have_text("Incident closed: read only.")
    await assert_clean(desk, viewer_tab)


async def test_the_map_speaks_the_page_language_in_a_crisis_cells_words(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    officer = await seed.user("officer", organisation="Police Brussels", discipline="D3")
    incident = await seed.incident({officer: "contributor"}, title="Demonstration")
    await create_cp_anchor(hub_server, officer, incident)
    tab = await tabs()
    page = await open_incident(tab, hub_server, officer, incident)
    await page.select_option("#lang-switch", "fr")
    zoom_in = page.locator(".leaflet-control-zoom-in")
    await expect(zoom_in).to_have_attribute("title", "Zoom avant")
    await expect(zoom_in).to_have_attribute("aria-label", "Zoom avant")
    await expect(page.locator(".leaflet-control-zoom-out")).to_have_attribute(
        "aria-label", "Zoom arrière"
    )
    eraser = page.locator(".leaflet-pm-icon-delete").locator("xpath=..")
    await expect(eraser).to_have_attribute("aria-label", "Supprimer une zone ou un point")
    await expect(page.locator("#tab-anchors")).to_have_text("Zones et points")
    titles = await page.evaluate(
        """() => [...document.querySelectorAll('#map [title], #map [aria-label]')]
              .map((el) => `${el.title} ${el.getAttribute('aria-label') || ''}`).join(' | ')"""
    )
    for jargon in ("calque", "Zoom in", "Zoom out", "polyligne"):
        assert jargon not in titles, f"{jargon!r} on the map: {titles}"

    # A popup's close button too.
    await page.locator('.anchor-icon[title$=": CP Monnaie"]').click()
    await expect(page.locator(".leaflet-popup-close-button")).to_have_attribute(
        "aria-label", "Fermer"
    )

    await page.select_option("#lang-switch", "nl")
    await expect(zoom_in).to_have_attribute("aria-label", "Inzoomen")
    await expect(eraser).to_have_attribute("aria-label", "Zone of punt verwijderen")
    await expect(page.locator("#tab-anchors")).to_have_text("Zones en punten")
    await page.select_option("#lang-switch", "en")
    await expect(zoom_in).to_have_attribute("aria-label", "Zoom in")
    await expect(eraser).to_have_attribute("aria-label", "Delete a zone or point")
    await assert_clean(tab)


@pytest.mark.parametrize(
    ("viewport", "scale"),
    [(PHONE, 3.0), ({"width": 360, "height": 740}, 2.0)],
    ids=["390px", "360px"],
)
async def test_the_header_fits_one_line_on_a_phone_in_every_language(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs, viewport: ViewportSize, scale: float
) -> None:
    officer = await seed.user("officer-with-a-long-name", organisation="Civil Protection")
    incident = await seed.incident({officer: "contributor"}, title="Flooding")
    tab = await tabs(viewport, is_mobile=True, has_touch=True, device_scale_factor=scale)
    page = await open_incident(tab, hub_server, officer, incident)
    for lang in ("fr", "nl", "en"):
        await page.select_option("#lang-switch", lang)
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        rows = await page.evaluate(
            """() => {
              const items = [document.querySelector('.topbar .brand'),
                ...document.querySelectorAll('.topbar nav > *')];
              const shown = items.filter((el) => el.getClientRects().length > 0);
              return [...new Set(shown.map((el) => {
                const box = el.getBoundingClientRect();
                return Math.round(box.top + box.height / 2);
              }))].length;
            }"""
        )
        assert rows == 1, f"the {lang} header takes {rows} lines"
        # Against the layout width the page asked for (device-width), not innerWidth: a page
        # wider than the phone widens innerWidth with it, as the phone zooms out to show it.
        overflow = await page.evaluate(
            "() => document.querySelector('.topbar').scrollWidth"
            " - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the {lang} header is {overflow} px wider than the phone"
        assert await page.evaluate("innerWidth") == viewport["width"]
        await expect(page.locator("#logout")).to_be_in_viewport(ratio=1)
        await expect(page.locator("#lang-switch")).to_be_in_viewport(ratio=1)
    # The pages' links wait behind Menu, which unfolds them over the page and folds on Escape.
    menu = page.locator("#nav-menu")
    directory = page.locator("#nav-links a[href='/directory']")
    await expect(directory).to_be_hidden()
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await expect(directory).to_be_in_viewport(ratio=1)
    await page.keyboard.press("Escape")
    await expect(directory).to_be_hidden()
    await expect(menu).to_be_focused()
    await menu.click()
    await directory.click()
    await page.wait_for_url(f"{hub_server.url}/directory")
    await expect(page.locator("#nav-menu")).to_have_attribute("aria-expanded", "false")
    await assert_clean(tab)
