"""The directory page and the incident's "Contacts and plans" panel in Debian's chromium
against a real hub: a search typed word by word finds a contact by an accented word of its
function, opening it shows its numbers as tel: links; in the incident a contributor finds
and lists a contact and a viewer sees it arrive live with its one-tap call link; the owning
organisation works its review queue, edits, meets a conflict and reads the history."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import expect
from sqlalchemy import update
from sqlmodel import col

from models.base import utcnow
from models.contact import Contact
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


async def test_the_owners_review_queue_edit_conflict_and_history(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    """The owning organisation keeps its records current on /directory: the overdue queue,
    a confirmation that takes the record out of it, an edit refused as stale because a
    colleague saved first (the page then shows the colleague's version), the edit made again
    on it, and the history naming who did what."""
    word = unique()
    organisation = f"Zone {word.capitalize()}"
    owner = await seed.user("owner", organisation=organisation, discipline="D1")
    colleague = await seed.user("colleague", organisation=organisation, discipline="D1")
    async with test_browser.api(hub_server, owner) as http:
        contact = await add(
            http,
            owner,
            kind="function",
            name=f"Dispatching {word}",
            function="Centrale 112",
            methods=[{"type": "phone", "value": "02 208 81 11"}],
        )
    async with seed.hub.db.write() as session:
        await session.execute(
            update(Contact)
            .where(col(Contact.id) == contact["id"])
            .values(review_due=utcnow() - timedelta(days=3))
        )

    tab = await tabs()
    await login(tab, hub_server, owner, "/directory")
    page = tab.page
    await page.check("#dir-due")
    row = page.locator("#dir-results li", has_text=f"Dispatching {word}")
    await expect(row.locator(".badge-overdue")).to_have_text("to review")
    await row.locator("button").click()
    await expect(page.locator("#dir-detail-name")).to_have_text(f"Dispatching {word}")
    await page.click("#dir-review")
    await expect(page.locator(".toast", has_text="Contact confirmed.")).to_have_count(1)
    await expect(row).to_have_count(0)  # out of the queue

    # The colleague saves first (version 2 -> 3); the page's edit still holds version 2.
    await page.click("#dir-edit")
    await page.fill("#edit-function", "Centrale 112 — nuit")
    async with test_browser.api(hub_server, colleague) as http:
        saved = await http.patch(
            f"/api/contacts/{contact['id']}",
            json={"version": 2, "function": "Centrale 112 Brabant"},
        )
        assert saved.status_code == 200, saved.text
    await page.click("#dir-form button[type=submit]")
    await expect(page.locator(".toast", has_text="Version conflict")).to_have_count(1)
    # The current record replaces the form: the colleague's function, from the hub.
    detail = page.locator("#dir-detail")
    await expect(detail).to_contain_text("Centrale 112 Brabant")
    await page.click("#dir-edit")
    await expect(page.locator("#edit-function")).to_have_value("Centrale 112 Brabant")
    await page.fill("#edit-function", "Centrale 112 Brabant — nuit")
    await page.click("#dir-form button[type=submit]")
    await expect(page.locator(".toast", has_text="Contact saved.")).to_have_count(1)
    await expect(detail).to_contain_text("Centrale 112 Brabant — nuit")

    await page.click("#dir-history")
    changes = page.locator("#dir-history-list li")
    await expect(changes).to_have_count(4)
    await expect(changes.nth(0)).to_contain_text(f"{owner.username} — updated: function")
    await expect(changes.nth(1)).to_contain_text(f"{colleague.username} — updated: function")
    await expect(changes.nth(2)).to_contain_text(f"{owner.username} — confirmed")
    await expect(changes.nth(3)).to_contain_text(f"{owner.username} — created")
    # The stale save's 409 is the only error the page logged.
    assert [e for e in tab.errors if "409" not in e] == [], tab.errors
    await assert_clean(tab, console=False)
