"""The plans page and the incident's plans panel in Debian's chromium against a real hub.

The page: a title search typed word by word finds a seeded plan and a click on the map finds
it by place; opening it shows its versions, a file link that downloads the stored bytes and
its predefined anchors drawn on a map; a reader gets no forms; an owner creates a plan with a
pasted area, uploads a version with a real PDF and approves it, and sees the hub's own message
for a file that is no plan file.

The panel: a manager sees the plan proposed once the incident site is placed, activates it
through the confirmation that says what will happen, and its anchors appear on the map and its
contacts in the list; a viewer in a second browser sees it activated live, with no Activate
button; a plan activated by someone else while the dialog is open is answered "already
active"."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from playwright.async_api import FilePayload, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_browser import Tabs, assert_clean, login, open_incident
from tests.test_contacts import add, unique
from tests.test_plans import AREA, PLAN_ANCHORS, new_plan, pdf_bytes, png_bytes, upload

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

# The page's place map opens on Belgium's centre (50.6 N, 4.6 E): an area around it takes the
# click at the map's middle, and one 300 px east of it falls outside.
AROUND_CENTRE = {
    "type": "Polygon",
    "coordinates": [[[4.45, 50.45], [4.75, 50.45], [4.75, 50.75], [4.45, 50.75], [4.45, 50.45]]],
}

# The proposals test's own port (Zeebrugge): test_plans.py approves plans over Ostend's SITE in
# the same database, and the plans proposed are every approved one whose area holds the site.
PORT_SITE = (51.3300, 3.2000)  # lat, lon
PORT_AREA = {
    "type": "Polygon",
    "coordinates": [[[3.19, 51.32], [3.21, 51.32], [3.21, 51.34], [3.19, 51.34], [3.19, 51.32]]],
}


async def test_the_plans_page_search_detail_and_owner_forms(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    word = unique()
    owner = await seed.user("owner", organisation=f"Ville {word}")
    reader = await seed.user("reader", organisation=f"Police {word}")
    pdf = pdf_bytes(f"PPUI {word}")
    async with test_browser.api(hub_server, owner) as http:
        plan = await new_plan(http, owner, f"PPUI Terminal {word}", area=AROUND_CENTRE)
        response = await upload(
            http,
            owner,
            plan["id"],
            [("ppui.pdf", pdf, "application/pdf"), ("carte.png", png_bytes(), "image/png")],
            anchors=json.dumps(PLAN_ANCHORS),
            note="première version",
        )
        assert response.status_code == 201, response.text
        approved = await http.post(f"/api/plans/{plan['id']}/versions/1/approve")
        assert approved.status_code == 200, approved.text

    # A reader finds it by a half-typed word of its title...
    reading = await tabs()
    await login(reading, hub_server, reader, "/plans")
    page = reading.page
    await page.locator("#plans-q").press_sequentially(f"{word} term", delay=20)
    results = page.locator("#plans-results li")
    await expect(results).to_have_count(1)
    await expect(results).to_contain_text(f"PPUI Terminal {word}")
    await expect(results).to_contain_text(f"Ville {word}")
    await expect(results).to_contain_text("approved: v1")

    # ...and by place: a click inside its area lists it, a click outside does not.
    await page.locator("#plans-q").fill("")
    area_map = page.locator("#plans-at-map")
    box = await area_map.bounding_box()
    assert box is not None
    mine = page.locator(f'#plans-results li[data-plan-id="{plan["id"]}"]')
    await page.mouse.click(box["x"] + box["width"] / 2 + 300, box["y"] + box["height"] / 2)
    await expect(page.locator("#plans-at-place")).to_be_visible()
    await expect(mine).to_have_count(0)
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await expect(mine).to_have_count(1)
    await page.mouse.click(box["x"] + box["width"] / 2 + 300, box["y"] + box["height"] / 2)
    await expect(mine).to_have_count(0)
    # By keyboard the focused map picks its centre.
    await area_map.press("Enter")
    await expect(mine).to_have_count(1)
    await expect(page.locator("#plans-filters")).not_to_contain_text("null")
    await page.click("#plans-at-clear")
    await expect(page.locator("#plans-at-place")).to_have_count(0)

    # Opened: its version, its files (the PDF downloads byte for byte), its anchors on a map.
    await mine.locator("button.plan-title").click()
    await expect(page.locator("#plan-detail-title")).to_have_text(f"PPUI Terminal {word}")
    versions = page.locator("#plan-versions li")
    await expect(versions).to_have_count(1)
    await expect(versions).to_contain_text("approved")
    await expect(versions).to_contain_text("première version")
    await expect(page.locator("#plan-files li")).to_have_count(2)
    await expect(page.locator("#plan-files")).to_contain_text("PNG")
    async with page.expect_download() as downloading:
        await page.locator("#plan-files a", has_text="ppui.pdf").click()
    download = await downloading.value
    assert download.suggested_filename == "ppui.pdf"
    assert await asyncio.to_thread(Path(await download.path()).read_bytes) == pdf
    # Two point anchors (the command post and the medical post) and one exclusion zone.
    await expect(page.locator("#plan-map .anchor-icon")).to_have_count(2)
    await expect(page.locator('#plan-map .anchor-icon[title$=": PC-Ops"]')).to_have_count(1)
    await expect(page.locator("#plan-map path.anchor-shape-exclusion_zone")).to_have_count(1)
    await expect(page.locator("#plan-contacts")).to_have_text("Contacts named: 0")
    await expect(page.locator("#plan-detail")).not_to_contain_text("null")
    # A reader of another organisation gets no forms.
    await expect(page.locator("#plan-upload")).to_have_count(0)
    await expect(page.locator(".plan-approve")).to_have_count(0)

    # The owner creates a plan with a pasted area...
    owning = await tabs()
    await login(owning, hub_server, owner, "/plans")
    page = owning.page
    await page.click("#plans-new")
    await page.fill("#plan-new-title", f"Plan Écluse {word}")
    await page.select_option("#plan-new-level", "provincial")
    await page.fill("#plan-new-area", json.dumps(AREA))
    await page.click("#plan-new button[type=submit]")
    await expect(page.locator("#plan-detail-title")).to_have_text(f"Plan Écluse {word}")
    await expect(page.locator("#plan-detail")).to_contain_text("Special · Provincial")
    await expect(page.locator("#plans-results li", has_text=f"Plan Écluse {word}")).to_have_count(1)

    # ...and on the first one, a file that is no plan file gets the hub's own words...
    await page.goto(f"{hub_server.url}/plans?plan={plan['id']}")
    await expect(page.locator("#plan-versions li")).to_have_count(1)
    notes: FilePayload = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just text"}
    await page.set_input_files("#plan-files-input", files=[notes])
    await page.click("#plan-upload-submit")
    await expect(page.locator("#plan-upload-error")).to_contain_text("notes.txt is")
    await expect(page.locator("#plan-upload-error")).to_contain_text("a plan's files are PDF")
    await expect(page.locator("#plan-versions li")).to_have_count(1)

    # ...and a real PDF with its anchors is version 2, a draft until approved.
    second = pdf_bytes(f"PPUI {word} v2")
    pdf_file: FilePayload = {"name": "ppui-v2.pdf", "mimeType": "application/pdf", "buffer": second}
    await page.set_input_files("#plan-files-input", files=[pdf_file])
    one_anchor = {"type": "FeatureCollection", "features": PLAN_ANCHORS["features"][1:2]}
    await page.fill("#plan-anchors", json.dumps(one_anchor))
    await page.fill("#plan-note", "PC déplacé")
    await page.click("#plan-upload-submit")
    draft = page.locator('#plan-versions li[data-version="2"]')
    await expect(draft).to_contain_text("draft")
    await expect(draft).to_contain_text("PC déplacé")
    await expect(page.locator("#plan-files li")).to_have_count(1)
    await expect(page.locator("#plan-files")).to_contain_text("ppui-v2.pdf")
    await expect(page.locator("#plan-map .anchor-icon")).to_have_count(1)
    await draft.locator(".plan-approve").click()
    await expect(draft).to_contain_text("approved by")
    await expect(page.locator(".plan-approve")).to_have_count(0)
    async with test_browser.api(hub_server, owner) as http:
        stored = (await http.get(f"/api/plans/{plan['id']}")).json()["plan"]
    assert stored["approved_version"] == 2
    files = stored["versions"][1]["files"]
    assert [(f["name"], f["size"]) for f in files] == [("ppui-v2.pdf", len(second))]
    await assert_clean(reading, owning, console=False)
    # The refused upload's 400 is the only console error the owner's page logs.
    assert reading.errors == []
    assert all("400" in error for error in owning.errors), owning.errors


async def test_the_incident_proposes_and_activates_a_plan(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    word = unique()
    manager = await seed.user("manager", organisation=f"Ville {word}")
    viewer = await seed.user("viewer", organisation=f"Police {word}")
    incident = await seed.incident({manager: "manager", viewer: "viewer"}, title=f"Fuite {word}")
    async with test_browser.api(hub_server, manager) as http:
        duty = await add(
            http,
            manager,
            kind="function",
            name=f"Officier de garde {word}",
            methods=[{"type": "phone", "value": "+3259555555", "h24": True}],
        )
        port = await add(
            http,
            manager,
            name=f"Capitainerie {word}",
            methods=[{"type": "email", "value": "c@x.be"}],
        )
        plan = await new_plan(http, manager, f"PPUI Terminal {word}", area=PORT_AREA)
        other = await new_plan(http, manager, f"PPUI Quai {word}", area=PORT_AREA)
        for seeded, anchors, contacts in (
            (plan, PLAN_ANCHORS, [duty["id"], port["id"]]),
            (other, {"type": "FeatureCollection", "features": []}, []),
        ):
            response = await upload(
                http,
                manager,
                seeded["id"],
                [("plan.pdf", pdf_bytes(seeded["title"]), "application/pdf")],
                anchors=json.dumps(anchors),
                contact_ids=json.dumps(contacts),
            )
            assert response.status_code == 201, response.text
            approved = await http.post(f"/api/plans/{seeded['id']}/versions/1/approve")
            assert approved.status_code == 200, approved.text

    managing, watching = await tabs(), await tabs()
    boss = await open_incident(managing, hub_server, manager, incident)
    onlooker = await open_incident(watching, hub_server, viewer, incident)
    for each in (boss, onlooker):
        await each.click("#tab-contacts")
        await expect(each.locator("#incident-plans-activated")).to_have_text("No plan activated.")
        await expect(each.locator("#incident-plans-proposed")).to_contain_text("No approved plan")

    # The incident site is placed in the plans' area: both pages are proposed both plans.
    async with test_browser.api(hub_server, manager) as http:
        site = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "incident_site",
                "label": "Fuite d'ammoniac",
                "geometry": {"type": "Point", "coordinates": [PORT_SITE[1], PORT_SITE[0]]},
            },
        )
        assert site.status_code == 201, site.text
    proposal = f'#incident-plans-proposed li[data-plan-id="{plan["id"]}"]'
    for each in (boss, onlooker):
        await expect(each.locator(proposal)).to_contain_text(f"PPUI Terminal {word}")
        # Its two plans (others' tests approve plans over the same site in the same database).
        await expect(each.locator("#incident-plans-proposed li", has_text=word)).to_have_count(2)
    await expect(onlooker.locator(".plan-activate")).to_have_count(0)
    await expect(boss.locator("#map .anchor-icon")).to_have_count(1)

    # The manager activates it through a confirmation saying what will happen.
    await boss.locator(proposal).locator(".plan-activate").click()
    dialog = boss.locator("dialog.dialog-activate-plan[open]")
    await expect(dialog).to_contain_text(f"PPUI Terminal {word}")
    await expect(dialog).to_contain_text("3 anchor(s) on the map, 2 contact(s) listed")
    await expect(dialog).to_contain_text("a decision recorded in the feed")
    await dialog.locator("button[value=activate]").click()
    await expect(dialog).to_have_count(0)
    await expect(boss.locator("#incident-plans-status")).to_have_text("Plan activated.")

    activated = f'#incident-plans-activated li[data-plan-id="{plan["id"]}"]'
    for each in (boss, onlooker):
        await expect(each.locator(activated)).to_contain_text(f"activated by {manager.username}")
        await expect(each.locator(proposal)).to_have_count(0)
        # the site and the plan's two posts as markers, its exclusion zone as a shape
        await expect(each.locator("#map .anchor-icon")).to_have_count(3)
        await expect(each.locator('#map .anchor-icon[title$=": PMA"]')).to_have_count(1)
        await expect(each.locator("#map path.anchor-shape-exclusion_zone")).to_have_count(1)
        for name in (f"Officier de garde {word}", f"Capitainerie {word}"):
            await expect(each.locator("#incident-contacts li", has_text=name)).to_have_count(1)
        await expect(
            each.locator(".feed-list .entry-text", has_text=f"Plan activated: PPUI Terminal {word}")
        ).to_have_count(1)
    await expect(onlooker.locator(".plan-activate")).to_have_count(0)

    # The other plan: activated by someone else while the dialog is open, it is "already active".
    await boss.locator(".plan-activate").click()
    await expect(dialog).to_contain_text("0 anchor(s) on the map, 0 contact(s) listed")
    async with test_browser.api(hub_server, manager) as http:
        done = await http.post(f"/api/incidents/{incident}/plans", json={"plan_id": other["id"]})
        assert done.json()["created"] is True, done.text
    await dialog.locator("button[value=activate]").click()
    await expect(boss.locator("#incident-plans-status")).to_have_text(
        "This plan is already active."
    )
    await expect(boss.locator("#incident-plans-activated li")).to_have_count(2)
    await expect(onlooker.locator("#incident-plans-activated li")).to_have_count(2)
    await expect(onlooker.locator("#incident-plans-proposed")).to_contain_text(
        "No other approved plan"
    )
    for each in (boss, onlooker):
        await expect(each.locator("#incident-plans")).not_to_contain_text("null")
    await assert_clean(managing, watching)
