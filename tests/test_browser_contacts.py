"""The directory page and the incident's "Contacts and plans" panel in Debian's chromium
against a real hub: a search typed word by word finds a contact by an accented word of its
function, opening it shows its numbers as tel: links; in the incident a contributor finds
and lists a contact and a viewer sees it arrive live with its one-tap call link."""

from __future__ import annotations

from playwright.async_api import expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_browser import Tabs, assert_clean, login, open_incident
from tests.test_contacts import add, unique

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs


async def test_directory_search_and_the_incident_panel(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    word = unique()
    officer = await seed.user("officer", organisation=f"Zone {word.capitalize()}", discipline="D1")
    viewer = await seed.user("viewer", organisation=f"Police {word}")
    incident = await seed.incident({officer: "contributor", viewer: "viewer"}, title=f"Crue {word}")
    async with test_browser.api(hub_server, officer) as http:
        await add(
            http,
            officer,
            kind="function",
            name=f"Officier de garde {word}",
            function="Zone de secours Liège — permanence",
            methods=[{"type": "phone", "value": "04 229 91 11", "h24": True}],
        )
        await add(http, officer, name=f"Autre {word}", function="Logistique")

    tab = await tabs()
    await login(tab, hub_server, officer, "/directory")
    page = tab.page
    await page.locator("#dir-q").press_sequentially(f"{word} lieg", delay=20)
    results = page.locator("#dir-results li")
    await expect(results).to_have_count(1)
    await expect(results).to_contain_text(f"Officier de garde {word}")
    await results.locator("button").click()
    link = page.locator("#dir-detail a.method-phone")
    await expect(link).to_have_attribute("href", "tel:+3242299111")

    writer = await open_incident(await tabs(), hub_server, officer, incident)
    watcher_tab = await tabs()
    watching = await open_incident(watcher_tab, hub_server, viewer, incident)
    for each in (writer, watching):
        await each.click("#tab-contacts")
        await expect(each.locator("#incident-contacts")).to_contain_text("No contacts listed.")
        await expect(each.locator("#incident-plans")).to_have_count(1)
    await expect(watching.locator("#incident-contact-search")).to_have_count(0)
    await writer.locator("#incident-contact-search").press_sequentially(f"{word} offic", delay=20)
    found = writer.locator("#incident-contact-found li")
    await expect(found).to_have_count(1)
    await found.locator("button").click()
    for each in (writer, watching):
        listed = each.locator("#incident-contacts li", has_text=f"Officier de garde {word}")
        await expect(listed).to_have_count(1)
        await expect(listed.locator("a.method-phone")).to_have_attribute("href", "tel:+3242299111")
    await assert_clean(tab, watcher_tab)
