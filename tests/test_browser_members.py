"""Managing an incident's members from the incident list (issue 19, item 14), in a real browser
against a real hub, at desk and phone size: names are offered as they are typed, an unknown
name is said inside the dialog (a toast would sit under its backdrop), removing someone asks
first, and the manager's own row offers no removal.

Fixtures, login and page helpers are test_browser.py's: Debian's chromium, bounded waits."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import ViewportSize, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_browser import DESKTOP, PHONE, Tabs, api, assert_clean, login

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs


async def members_of(server: HubProcess, manager: TestUser, incident: str) -> dict[str, str]:
    async with api(server, manager) as http:
        answer = await http.get(f"/api/incidents/{incident}/members")
        assert answer.status_code == 200, answer.text
    return {m["username"]: m["role"] for m in answer.json()["members"]}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_members_are_offered_named_and_removed_only_when_confirmed(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs, viewport: ViewportSize
) -> None:
    tag = uuid.uuid4().hex[:6]
    manager = await seed.user(f"lead{tag}", organisation="Province of Namur", discipline="coord")
    medic = await seed.user(f"medic{tag}", organisation="SMUR Namur", discipline="D2")
    title = f"Flooding Meuse {tag}"
    incident = await seed.incident({manager: "manager"}, title=title)
    tab = await tabs(viewport)
    page = tab.page
    await login(tab, hub_server, manager, "/incidents")
    await page.locator("#incident-rows tr", has_text=title).locator("button").click()
    dialog = page.locator("dialog[open]")
    rows = dialog.locator(".members-table tr")

    # The manager's own row says so and cannot be removed from here.
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("(you)")
    await expect(rows.first.locator("button")).to_have_count(0)

    # A name typed wrong is said in the dialog, visibly, and nothing is added.
    field = dialog.locator("input[name=username]")
    await field.fill(f"medik{tag}")
    await dialog.locator("button.btn-primary", has_text="Add").click()
    error = dialog.locator(".member-error")
    await expect(error).to_be_visible()
    await expect(error).to_have_text(f"No user “medik{tag}”: pick one of the names offered.")
    await expect(error).to_be_in_viewport()
    assert list(await members_of(hub_server, manager, incident)) == [manager.username]

    # Typing the first letters offers the user, with their name and organisation.
    await field.fill("")
    await field.press_sequentially(f"medic{tag}")
    offered = dialog.locator(f'datalist option[value="{medic.username}"]')
    await expect(offered).to_have_count(1)
    await expect(offered).to_have_attribute("label", f"{medic.username} — SMUR Namur (D2 Medical)")
    await expect(error).to_be_hidden()
    await field.fill(await offered.get_attribute("value") or "")
    await dialog.locator("select[name=role]").select_option("contributor")
    await dialog.locator("button.btn-primary", has_text="Add").click()
    await expect(rows).to_have_count(2)
    await expect(dialog.locator(".member-ok")).to_have_text("Members updated.")

    # Removing asks first; cancelling keeps the member.
    remove = rows.filter(has_text=medic.username).locator("button")
    await expect(remove).to_have_attribute("aria-label", f"Remove: {medic.username}")
    await remove.click()
    confirm = page.locator("dialog.dialog-remove-member[open]")
    await expect(confirm).to_contain_text(f"Remove {medic.username} from this incident?")
    await confirm.locator("button[value=cancel]").click()
    await expect(confirm).to_have_count(0)
    assert await members_of(hub_server, manager, incident) == {
        manager.username: "manager",
        medic.username: "contributor",
    }
    await remove.click()
    await confirm.locator("button[value=remove]").click()
    await expect(rows).to_have_count(1)
    assert list(await members_of(hub_server, manager, incident)) == [manager.username]
    # The browser logs the hub's 404 for the unknown name; nothing else went wrong.
    assert tab.errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    await assert_clean(tab, console=False)
