"""The Alerts panel (BE-Alert) in a real browser against a real hub: a manager of an exercise
warns the test audience of a perimeter, seeing the audience, the SMS segments and the EXERCICE
marker before confirming; a viewer follows it live without any way to draft; a contributor
draws an area and keeps a draft (and the drawing makes no anchor).

Fixtures, login and page helpers are test_browser.py's: Debian's chromium, bounded waits."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from tests import test_browser, test_delivery
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_browser import Tabs, api, assert_clean, open_incident
from tests.test_cli import crisishub, last_line

# test_browser.py's fixtures: Debian's chromium, one browser per module, a profile per tab.
chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs
# test_delivery.py's mailing hub: its own database, a real SMTP server (aiosmtpd) to drain to.
sink = test_delivery.sink
mail_database = test_delivery.mail_database
mail_hub = test_delivery.mail_hub
mail_seed = test_delivery.mail_seed

RED = "rgb(198, 40, 40)"  # --bea-red in alerts.css
# Antwerp's port, away from the areas of the other registration tests.
WEST, SOUTH, EAST, NORTH = 4.28, 51.24, 4.32, 51.27
ZONE = {
    "type": "Polygon",
    "coordinates": [[[WEST, SOUTH], [EAST, SOUTH], [EAST, NORTH], [WEST, NORTH], [WEST, SOUTH]]],
}
ZONE_LABEL = "Zone d'exclusion Seveso"
HEADLINE = "Fuite de chlore au port"
DESCRIPTION = "Un nuage de chlore s'échappe d'un dépôt du port d'Anvers."
INSTRUCTION = "Restez à l'intérieur, fermez portes et fenêtres, écoutez la radio."


def import_registrations(database_url: str, tmp_path: Path) -> None:
    """Three of the test audience inside the zone, two of the public inside, one outside."""
    k = uuid.uuid4().hex[:6]
    rows = [
        f"t1-{k},fr,+32470100001,,t1@example.be,home,51.25,4.29,true",
        f"t2-{k},nl,+32470100002,,,home,51.26,4.30,true",
        f"t3-{k},fr,,,t3@example.be,work,51.255,4.31,true",
        f"p1-{k},fr,+32470100004,,,home,51.25,4.30,false",
        f"p2-{k},nl,,,p2@example.be,home,51.26,4.29,false",
        f"far-{k},fr,+32470100006,,,home,50.85,4.35,true",
    ]
    path = tmp_path / f"registrations-{k}.csv"
    header = "external_id,language,sms,voice,email,label,lat,lon,test_audience\n"
    path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    last_line(crisishub(database_url, "registrations", "import", str(path), cwd=tmp_path))


async def create_zone(server: HubProcess, user: TestUser, incident: str) -> dict[str, Any]:
    async with api(server, user) as http:
        created = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "exclusion_zone",
                "label": ZONE_LABEL,
                "geometry": ZONE,
            },
        )
    assert created.status_code == 201, created.text
    return dict(created.json()["anchor"])


async def server_preview(server: HubProcess, user: TestUser, incident: str) -> dict[str, Any]:
    """What the hub itself says of the French text: the page must show this, not its own."""
    info = {"fr": {"headline": HEADLINE, "description": DESCRIPTION, "instruction": INSTRUCTION}}
    async with api(server, user) as http:
        answer = await http.post(f"/api/incidents/{incident}/alerts/preview", json={"info": info})
    assert answer.status_code == 200, answer.text
    sms: dict[str, Any] = answer.json()["languages"]["fr"]["sms"]
    return sms


async def color(page: Page, selector: str) -> str:
    return str(await page.locator(selector).first.evaluate("(el) => getComputedStyle(el).color"))


async def test_a_manager_warns_the_test_audience_of_a_perimeter_in_an_exercise(
    hub_server: HubProcess, database_url: str, seed: Seeder, tabs: Tabs, tmp_path: Path
) -> None:
    manager = await seed.user("d5", organisation="Province of Antwerp", discipline="D5")
    watcher = await seed.user("watcher", organisation="Police Antwerp", discipline="D3")
    incident = await seed.incident(
        {manager: "manager", watcher: "viewer"}, title="SEVESO drill Antwerp", kind="exercise"
    )
    zone = await create_zone(hub_server, manager, incident)
    import_registrations(database_url, tmp_path)
    viewer_tab, manager_tab = await tabs(), await tabs()
    viewer = await open_incident(viewer_tab, hub_server, watcher, incident)
    await viewer.click("#tab-alerts")
    await expect(viewer.locator("#panel-alerts .bea-list")).to_contain_text("No alert yet.")
    await expect(viewer.locator("#alert-new")).to_have_count(0)

    page = await open_incident(manager_tab, hub_server, manager, incident)
    await page.click("#tab-alerts")
    await page.click("#alert-new")
    # Before anything is written, the form says in red that this is an exercise.
    status = page.locator("#alert-status")
    await expect(status).to_have_class("bea-status bea-status-test")
    await expect(status).to_contain_text("Exercise")
    await expect(status).to_contain_text("Reaches only the test audience.")
    assert await color(page, "#alert-status") == RED

    # The perimeter, then the audience the hub counts: the test audience inside only.
    perimeter = page.locator(f"input[name=perimeter][value='{zone['id']}']")
    await expect(page.locator(".bea-zone-list")).to_contain_text(ZONE_LABEL)
    await perimeter.check()
    estimate = page.locator(".bea-estimate")
    await expect(estimate.locator(".bea-total")).to_have_text("3")
    await expect(estimate).to_contain_text(ZONE_LABEL)
    await expect(estimate.locator(".bea-test-only")).to_be_visible()
    await expect(estimate.locator(".bea-audience")).to_contain_text("SMS 2")
    await expect(estimate.locator(".bea-audience")).to_contain_text("FR 2")

    # French only (the page opened in English), then the text: the hub's segment count and the
    # marker in red, before anyone presses send.
    await page.check("input[name=alert-lang][value=fr]")
    await page.uncheck("input[name=alert-lang][value=en]")
    await expect(page.locator(".bea-lang")).to_have_count(1)
    await page.fill("#alert-fr-headline", HEADLINE)
    await page.fill("#alert-fr-description", DESCRIPTION)
    await page.fill("#alert-fr-instruction", INSTRUCTION)
    await page.fill("#alert-event", "Chlorine release")
    sms = await server_preview(hub_server, manager, incident)
    french = page.locator(".bea-lang[data-lang=fr]")
    word = "segment" if sms["segments"] == 1 else "segments"
    await expect(french.locator(".bea-segments")).to_have_text(f"{sms['segments']} {word}")
    await expect(french.locator(".bea-sms-count")).to_contain_text(
        f"{sms['encoding']} · {sms['units']} characters"
    )
    await expect(french.locator(".bea-sms-text")).to_have_text(sms["text"])
    marker = french.locator(".bea-sms-text .bea-marker")
    await expect(marker).to_have_text("EXERCICE")
    assert await color(page, ".bea-lang[data-lang=fr] .bea-sms-text .bea-marker") == RED
    await expect(status.locator(".bea-marker")).to_have_text("EXERCICE")

    # The confirmation repeats the area, the audience and the status before anything goes.
    await page.click("#alert-send")
    dialog = page.locator("dialog.dialog-alert-confirm[open]")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator(".bea-confirm-area")).to_have_text(ZONE_LABEL)
    await expect(dialog.locator(".bea-confirm-audience .bea-total")).to_have_text("3")
    await expect(dialog.locator(".bea-confirm-audience")).to_contain_text("test audience only")
    await expect(dialog.locator(".bea-confirm-status")).to_contain_text("Exercise")
    await expect(dialog.locator(".bea-confirm-status .bea-marker")).to_have_text("EXERCICE")
    await expect(dialog).to_contain_text("French")
    await expect(dialog).to_contain_text("SMS")
    await dialog.locator("button[value=confirm]").click()
    await expect(dialog).to_have_count(0)

    # The alert's state, its CAP message and document; no public page for an exercise.
    card = page.locator(".bea-card")
    await expect(card).to_have_count(1)
    await expect(card.locator(".bea-state")).to_have_text("Sent")
    await expect(card.locator(".bea-cap")).to_have_text("Exercise")
    await expect(card.locator(".bea-messages tbody tr")).to_have_count(1)
    await expect(card.locator(".bea-messages")).to_contain_text("Alert")
    async with api(hub_server, manager) as http:
        alerts = (await http.get(f"/api/incidents/{incident}/alerts")).json()["alerts"]
    assert [(a["state"], a["cap_status"]) for a in alerts] == [("sent", "Exercise")]
    alert = alerts[0]
    assert alert["area"]["anchor_ids"] == [zone["id"]]
    assert list(alert["info"]) == ["fr"]
    await expect(card.locator(".bea-cap-link")).to_have_attribute(
        "href", f"/api/alerts/{alert['id']}/cap"
    )
    await expect(card.locator(".bea-messages a")).to_have_text(alert["messages"][0]["identifier"])
    await expect(card.locator(".bea-public-link")).to_have_count(0)

    # The viewer saw it arrive, and can do nothing with it.
    viewer_card = viewer.locator(".bea-card")
    await expect(viewer_card.locator(".bea-state")).to_have_text("Sent")
    await expect(viewer_card.locator(".bea-headline")).to_have_text(HEADLINE)
    await expect(viewer.locator("#alert-new")).to_have_count(0)
    await expect(
        viewer_card.locator(".bea-update, .bea-cancel, .bea-edit, .bea-send")
    ).to_have_count(0)

    # An update: the sent alert back in the form, one text changed, its own confirmation.
    await card.locator(".bea-update").click()
    await expect(page.locator("#alert-fr-headline")).to_have_value(HEADLINE)
    await expect(page.locator(f"input[name=perimeter][value='{zone['id']}']")).to_be_checked()
    await page.fill("#alert-fr-instruction", "Restez à l'intérieur jusqu'à nouvel ordre.")
    await expect(french.locator(".bea-sms-text")).to_contain_text("jusqu'à nouvel ordre")
    await page.click("#alert-send-update")
    confirm = page.locator("dialog.dialog-alert-confirm[open]")
    await expect(confirm.locator("h2")).to_have_text("Send this update?")
    await expect(confirm.locator(".bea-confirm-area")).to_have_text(ZONE_LABEL)
    await expect(confirm.locator(".bea-confirm-audience .bea-total")).to_have_text("3")
    await confirm.locator("button[value=confirm]").click()
    await expect(card.locator(".bea-state")).to_have_text("Updated")
    await expect(viewer_card.locator(".bea-state")).to_have_text("Updated")
    await expect(card.locator(".bea-messages tbody tr")).to_have_count(2)
    async with api(hub_server, manager) as http:
        updated = (await http.get(f"/api/alerts/{alert['id']}")).json()["alert"]
    assert updated["info"]["fr"]["instruction"] == "Restez à l'intérieur jusqu'à nouvel ordre."
    assert [m["msg_type"] for m in updated["messages"]] == ["Alert", "Update"]

    # Cancelling has its own confirmation, and the state follows on both pages.
    await card.locator(".bea-cancel").click()
    await expect(confirm.locator("h2")).to_have_text("Cancel this alert?")
    await expect(confirm.locator(".bea-confirm-area")).to_have_text(ZONE_LABEL)
    await confirm.locator("button[value=confirm]").click()
    await expect(card.locator(".bea-state")).to_have_text("Cancelled")
    await expect(viewer_card.locator(".bea-state")).to_have_text("Cancelled")
    await expect(card.locator(".bea-messages tbody tr")).to_have_count(3)
    await expect(card.locator(".bea-update, .bea-cancel")).to_have_count(0)
    await assert_clean(viewer_tab, manager_tab)


async def test_a_contributor_draws_an_area_and_keeps_a_draft(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    author = await seed.user("d5", organisation="City of Liège", discipline="D5")
    incident = await seed.incident({author: "contributor"}, title="Flooding Liège")
    tab = await tabs()
    page = await open_incident(tab, hub_server, author, incident)
    await page.click("#tab-alerts")
    await page.click("#alert-new")
    status = page.locator("#alert-status")
    await expect(status).to_have_class("bea-status bea-status-actual")
    await expect(page.locator(".bea-zone-list")).to_have_count(0)  # no perimeter yet

    # Draw a triangle on the map: the polygon is the area, not a new anchor.
    await page.click("#alert-draw")
    box = await page.locator("#map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-80, -60), (90, -50), (10, 80)):
        await page.mouse.click(cx + dx, cy + dy)
    await page.mouse.click(cx - 80, cy - 60)  # back on the first corner closes it
    await expect(page.locator(".bea-drawn")).to_have_text("Drawn area")
    await expect(page.locator(".bea-estimate .bea-total")).to_be_visible()
    await expect(page.locator(".bea-estimate")).to_contain_text("Drawn area")

    await page.fill("#alert-en-headline", "River Meuse flooding")
    await page.fill("#alert-en-description", "The Meuse is overflowing in the city centre.")
    await page.fill("#alert-en-instruction", "Move to upper floors.")
    await page.fill("#alert-event", "Flood")
    await expect(page.locator(".bea-lang[data-lang=en] .bea-segments")).to_be_visible()
    await expect(page.locator(".bea-lang[data-lang=en] .bea-marker")).to_have_count(0)
    await expect(page.locator("#alert-send")).to_have_count(0)  # contributors do not send
    await page.click("#alert-save")
    card = page.locator(".bea-card")
    await expect(card.locator(".bea-state")).to_have_text("Draft")
    await expect(card).to_contain_text("Drawn area")
    await expect(card.locator(".bea-edit")).to_be_visible()
    await expect(card.locator(".bea-send, .bea-cancel, .bea-update")).to_have_count(0)
    async with api(hub_server, author) as http:
        anchors = (await http.get(f"/api/incidents/{incident}/anchors")).json()["features"]
        alerts = (await http.get(f"/api/incidents/{incident}/alerts")).json()["alerts"]
    assert anchors == []
    assert [(a["state"], a["cap_status"], a["area"]["anchor_ids"]) for a in alerts] == [
        ("draft", "Actual", [])
    ]
    assert alerts[0]["area"]["geometry"]["type"] == "Polygon"
    await assert_clean(tab)


async def test_the_panel_shows_each_channel_s_delivery_while_it_runs(
    mail_hub: HubProcess, mail_seed: Seeder, tabs: Tabs
) -> None:
    """A manager sends; the alert's card shows a bar per channel: e-mail fills up as the real
    SMTP server takes the messages, and says it is done; SMS and voice, which this hub has no
    gateway for, stay queued."""
    case = await test_delivery.mail_case(mail_hub, mail_seed, lon=25.0)
    tab = await tabs()
    page = await open_incident(tab, mail_hub, case.manager, case.incident)
    await page.click("#tab-alerts")
    sent = await case.act(await case.draft(), "send")
    card = page.locator(f".bea-card[data-alert-id='{sent['id']}']")
    await card.locator(".bea-toggle").click()
    email = card.locator(".bea-progress li", has_text="E-mail")
    # in@example.be and circle@example.be: the case's e-mail registrations inside the area
    await expect(email.locator("progress")).to_have_attribute("max", "2")
    await expect(email.locator("progress")).to_have_attribute("value", "2", timeout=30_000)
    await expect(email).to_contain_text("sent 2")
    await expect(email.locator(".bea-progress-pace")).to_have_text("done")
    sms = card.locator(".bea-progress li", has_text="SMS")
    await expect(sms).to_contain_text("queued 2")
    await expect(sms.locator("progress")).to_have_attribute("value", "0")
    await assert_clean(tab)
