"""The map and the feed as a crisis cell uses them (issue 19), in Debian's chromium against a
real hub, at desk (1400x900) and phone size: nested perimeters each take their own clicks,
picking a place inside one records it (with a pin) and ends with the post, a phone posts its
own position in one tap.

Fixtures, login and page helpers are test_browser.py's: bounded waits, nothing timed."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import FloatRect, Page, ViewportSize, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_browser import PHONE, Tabs, api, assert_clean, open_incident

# test_browser.py's fixtures: Debian's chromium, one browser per module, a profile per tab.
chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

DESK: ViewportSize = {"width": 1400, "height": 900}
CENTRE = (4.3517, 50.8466)  # lon, lat: the Grand-Place, the centre of the three zones
# Red inside orange inside yellow, as a Brussels perimeter is drawn, each half the one around.
ZONES = {
    "exclusion_zone": ("Zone rouge Grand-Place", 0.002),
    "isolation_zone": ("Zone orange Ilot Sacré", 0.004),
    "dissuasion_zone": ("Zone jaune Pentagone", 0.008),
}


def square(half: float) -> dict[str, Any]:
    lon, lat = CENTRE
    ring = [
        [lon - half, lat - half * 0.63],
        [lon + half, lat - half * 0.63],
        [lon + half, lat + half * 0.63],
        [lon - half, lat + half * 0.63],
        [lon - half, lat - half * 0.63],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


async def nested_zones(server: HubProcess, user: TestUser, incident: str) -> None:
    """The innermost first, so that drawn in the order they came the outer ones would cover it."""
    async with api(server, user) as http:
        for kind, (label, half) in ZONES.items():
            created = await http.post(
                f"/api/incidents/{incident}/anchors",
                json={
                    "client_id": str(uuid.uuid4()),
                    "kind": kind,
                    "label": label,
                    "geometry": square(half),
                },
            )
            assert created.status_code == 201, created.text


async def zone_box(page: Page, kind: str) -> FloatRect:
    shape = page.locator(f"path.anchor-shape-{kind}")
    await expect(shape).to_have_count(1)
    box = await shape.bounding_box()
    assert box is not None
    return box


async def entries(server: HubProcess, user: TestUser, incident: str) -> list[dict[str, Any]]:
    async with api(server, user) as http:
        answer = await http.get(f"/api/incidents/{incident}/feed")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["entries"])


async def test_every_nested_zone_opens_its_own_popup(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    cp = await seed.user("cp", discipline="D3")
    gis = await seed.user("gis")
    incident = await seed.incident({cp: "viewer", gis: "contributor"}, title="Manifestation")
    await nested_zones(hub_server, gis, incident)
    tab = await tabs(DESK)
    page = await open_incident(tab, hub_server, cp, incident)

    red = await zone_box(page, "exclusion_zone")
    orange = await zone_box(page, "isolation_zone")
    yellow = await zone_box(page, "dissuasion_zone")
    middle = red["y"] + red["height"] / 2
    popup = page.locator(".leaflet-popup")
    # The centre is in all three: the smallest, drawn on top, takes the click.
    for x, label in (
        (red["x"] + red["width"] / 2, ZONES["exclusion_zone"][0]),
        ((orange["x"] + red["x"]) / 2, ZONES["isolation_zone"][0]),
        ((yellow["x"] + orange["x"]) / 2, ZONES["dissuasion_zone"][0]),
    ):
        await page.mouse.click(x, middle)
        await expect(popup).to_have_count(1)
        await expect(popup).to_contain_text(label)
        await popup.locator(".leaflet-popup-close-button").click()
        await expect(popup).to_have_count(0)
    await assert_clean(tab)


async def test_a_place_picked_inside_a_perimeter_is_posted_with_the_entry(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    officer = await seed.user("officer", organisation="Fire Brussels", discipline="D1")
    incident = await seed.incident({officer: "contributor"}, title="Feu rue de la Colline")
    await nested_zones(hub_server, officer, incident)
    tab = await tabs(DESK)
    page = await open_incident(tab, hub_server, officer, incident)
    red = await zone_box(page, "exclusion_zone")

    await page.click("#feed-pick")
    await expect(page.locator("#feed-pick")).to_have_attribute("aria-pressed", "true")
    await page.mouse.click(red["x"] + red["width"] / 2, red["y"] + red["height"] / 2)
    # The place is taken, marked with a pin, and no popup came in its way.
    await expect(page.locator("#feed-location")).to_contain_text("50.84")
    await expect(page.locator(".feed-draft-pin")).to_be_visible()
    await expect(page.locator(".leaflet-popup")).to_have_count(0)
    await expect(page.locator("#feed-pick")).not_to_have_attribute("aria-pressed", "true")

    await page.fill("#feed-text", "Départ de feu au 3e étage, périmètre rouge tenu")
    await page.click(".feed-form button[type=submit]")
    await expect(page.locator(".feed-list .entry", has_text="Départ de feu")).to_have_count(1)
    await expect(page.locator(".feed-draft-pin")).to_have_count(0)
    await expect(page.locator("#feed-location")).to_have_text("")
    [entry] = [e for e in await entries(hub_server, officer, incident) if "Départ" in e["text"]]
    lon, lat = entry["location"]["coordinates"]
    half = ZONES["exclusion_zone"][1]
    assert abs(lon - CENTRE[0]) < half and abs(lat - CENTRE[1]) < half * 0.63, entry["location"]

    # Picking again and posting before a click ends the picking: nothing stays armed.
    await page.click("#feed-pick")
    await page.fill("#feed-text", "Pas de victime")
    await page.click(".feed-form button[type=submit]")
    await expect(page.locator(".feed-list .entry", has_text="Pas de victime")).to_have_count(1)
    await expect(page.locator("#feed-pick")).not_to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#map.map-picking")).to_have_count(0)
    await assert_clean(tab)


async def test_a_phone_posts_its_own_position_in_one_tap(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    medic = await seed.user("medic", organisation="SMUR Brussels", discipline="D2")
    incident = await seed.incident({medic: "contributor"}, title="Malaise Gare Centrale")
    tab = await tabs(PHONE, is_mobile=True, has_touch=True)
    await tab.context.grant_permissions(["geolocation"], origin=hub_server.url)
    await tab.context.set_geolocation({"latitude": 50.8453, "longitude": 4.3571, "accuracy": 12})
    page = await open_incident(tab, hub_server, medic, incident)

    await page.tap("#feed-here")
    await expect(page.locator("#feed-location")).to_have_text("50.84530, 4.35710 (±12 m)")
    await expect(page.locator(".feed-draft-pin")).to_be_attached()
    await page.fill("#feed-text", "Victime consciente, évacuation vers Saint-Pierre")
    await page.tap(".feed-form button[type=submit]")
    await expect(page.locator(".feed-list .entry", has_text="Victime consciente")).to_have_count(1)
    (entry,) = await entries(hub_server, medic, incident)
    assert entry["location"] == {"type": "Point", "coordinates": [4.3571, 50.8453]}
    await assert_clean(tab)


# The WCAG 2 contrast ratio of an element's text on its background, as the browser paints it.
CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const style = getComputedStyle(el);
  const [a, b] = [lum(style.color), lum(style.backgroundColor)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def overlap(a: FloatRect, b: FloatRect) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


async def box_of(page: Page, selector: str) -> FloatRect:
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


async def test_a_flash_warns_the_others_once_clear_of_the_message_box_and_not_its_author(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    officer = await seed.user("officer", organisation="Police Brussels", discipline="D3")
    medic = await seed.user("medic", organisation="SMUR Brussels", discipline="D2")
    incident = await seed.incident({officer: "contributor", medic: "contributor"})
    desk, phone = await tabs(DESK), await tabs(PHONE, is_mobile=True, has_touch=True)
    author = await open_incident(desk, hub_server, officer, incident)
    field = await open_incident(phone, hub_server, medic, incident)

    await author.select_option("#feed-priority", "flash")
    await author.fill("#feed-text", "Explosion rue Neuve, évacuez le secteur")
    await author.click(".feed-form button[type=submit]")
    # Once a later entry has reached both pages, the flash's ack and event have too.
    await field.fill("#feed-text", "Reçu, on se replie")
    await field.tap(".feed-form button[type=submit]")
    for page in (author, field):
        await expect(page.locator(".feed-list .entry", has_text="on se replie")).to_have_count(1)
    await expect(author.locator(".toast-flash")).to_have_count(0)
    flash = field.locator(".toast-flash")
    await expect(flash).to_have_count(1)
    await expect(flash).to_contain_text("Explosion rue Neuve")

    # On the phone it leaves the message box and the Post button free; its button closes it.
    toast_box = await box_of(field, ".toast-flash")
    for selector in ("#feed-text", ".feed-form button[type=submit]"):
        assert not overlap(toast_box, await box_of(field, selector)), selector
    assert await flash.evaluate(CONTRAST) >= 4.5
    await field.tap(".toast-flash .toast-close")
    await expect(flash).to_have_count(0)

    # Urgent badges and the vehicle alerts' toasts: white on orange readable (WCAG AA 4.5:1).
    await author.select_option("#feed-priority", "urgent")
    await author.fill("#feed-text", "Renfort demandé au PMA")
    await author.click(".feed-form button[type=submit]")
    badge = author.locator(".entry", has_text="Renfort demandé").locator(".badge.prio-urgent")
    assert await badge.evaluate(CONTRAST) >= 4.5
    alert_toast = await author.evaluate_handle(
        "() => { const el = document.createElement('div'); el.className = 'toast toast-alert';"
        " el.textContent = 'Lead car entered Zone rouge'; document.body.append(el); return el; }"
    )
    assert await alert_toast.evaluate(CONTRAST) >= 4.5
    await assert_clean(desk, phone)


async def stored_anchors(server: HubProcess, user: TestUser, incident: str) -> list[Any]:
    async with api(server, user) as http:
        return list((await http.get(f"/api/incidents/{incident}/anchors")).json()["features"])


async def test_drawing_asks_before_erasing_can_be_undone_and_is_written_to_the_feed(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    gis = await seed.user("gis", organisation="Police Brussels", discipline="D3")
    medic = await seed.user("medic", organisation="SMUR Brussels", discipline="D2")
    incident = await seed.incident({gis: "contributor", medic: "viewer"}, title="Sommet UE")
    await nested_zones(hub_server, gis, incident)
    drawing, reading = await tabs(DESK), await tabs(DESK)
    page = await open_incident(drawing, hub_server, gis, incident)
    other = await open_incident(reading, hub_server, medic, incident)
    await other.select_option("#lang-switch", "fr")
    red_label = ZONES["exclusion_zone"][0]

    # The eraser asks first; "Cancel" keeps the zone.
    red = await zone_box(page, "exclusion_zone")
    await page.click(".leaflet-pm-icon-delete")
    await page.mouse.click(red["x"] + red["width"] / 2, red["y"] + red["height"] / 2)
    dialog = page.locator("dialog[open]")
    await expect(dialog).to_contain_text(red_label)
    await dialog.locator("button[value=cancel]").click()
    await expect(dialog).to_have_count(0)
    assert len(await stored_anchors(hub_server, gis, incident)) == 3
    # Confirmed, it is gone, said in the feed in each reader's language, and can be undone.
    await page.mouse.click(red["x"] + red["width"] / 2, red["y"] + red["height"] / 2)
    await dialog.locator("button[value=delete]").click()
    await page.click(".leaflet-pm-icon-delete")  # leave the eraser
    await expect(page.locator("path.anchor-shape-exclusion_zone")).to_have_count(0)
    assert len(await stored_anchors(hub_server, gis, incident)) == 2
    await expect(
        other.locator(".feed-list .entry-text", has_text=f"Repère supprimé : {red_label}")
    ).to_have_count(1)
    await expect(
        page.locator(".feed-list .entry", has_text=f"Anchor deleted: {red_label}")
    ).to_contain_text(gis.username)
    await page.click(".toast .toast-action")
    await expect(page.locator("path.anchor-shape-exclusion_zone")).to_have_count(1)
    labels = [f["properties"]["label"] for f in await stored_anchors(hub_server, gis, incident)]
    assert sorted(labels) == sorted(label for label, _ in ZONES.values())
    await expect(
        other.locator(".feed-list .entry-text", has_text=f"Repère créé : {red_label}")
    ).to_have_count(2)  # drawn first, then made again by the undo

    # The circle tool draws a circular perimeter (a point with its radius).
    await page.click(".leaflet-pm-icon-circle")
    map_box = await box_of(page, "#map")
    # Bottom right, clear of the zones and of the legend, which is bottom left.
    x, y = map_box["x"] + map_box["width"] - 180, map_box["y"] + map_box["height"] - 120
    await page.mouse.click(x, y)
    await page.mouse.click(x + 60, y)
    await dialog.locator("input[name=label]").fill("Périmètre 300 m")
    await dialog.locator("button[value=save]").click()
    await expect(page.locator(".feed-list .entry", has_text="Périmètre 300 m")).to_have_count(1)
    [circle] = [
        f
        for f in await stored_anchors(hub_server, gis, incident)
        if f["properties"]["label"] == "Périmètre 300 m"
    ]
    assert circle["geometry"]["type"] == "Point"
    assert circle["properties"]["kind"] == "exclusion_zone"
    assert circle["properties"]["radius_m"] > 0
    await expect(page.locator("path.anchor-shape-exclusion_zone")).to_have_count(2)

    # The marker tool makes one marker and is put away, not left armed for the next click.
    await page.click(".leaflet-pm-icon-marker")
    await page.mouse.click(x - 140, y - 200)
    await dialog.locator("input[name=label]").fill("PC-Ops Berlaymont")
    await dialog.locator("button[value=save]").click()
    await expect(page.locator('.anchor-icon[title$=": PC-Ops Berlaymont"]')).to_have_count(1)
    await expect(page.locator(".leaflet-pm-toolbar .button-container.active")).to_have_count(0)
    assert len(await stored_anchors(hub_server, gis, incident)) == 5
    await assert_clean(drawing, reading)


async def focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement.id"))


async def test_the_keyboard_reaches_the_message_box_posts_and_picks_a_place(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    officer = await seed.user("officer", organisation="Police Brussels", discipline="D3")
    incident = await seed.incident({officer: "contributor"}, title="Manifestation Gare du Midi")
    await nested_zones(hub_server, officer, incident)
    tab = await tabs(DESK)
    page = await open_incident(tab, hub_server, officer, incident)

    # Two Tabs and Enter, not thirty: the second stop goes straight to the message box.
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await expect(page.locator("#skip-message")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#feed-text")).to_be_focused()
    # Ctrl+Enter posts, and the cursor stays in the box for the next one.
    await page.keyboard.type("Cortège arrivé place Bara")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator(".feed-list .entry", has_text="Cortège arrivé")).to_have_count(1)
    assert await focused(page) == "feed-text"

    # A place by keyboard: the pick button gives the map the focus, the arrows pan it, Enter
    # takes its centre (inside the red zone, where the map opened) and gives the focus back.
    await page.keyboard.press("Tab")  # kind
    await page.keyboard.press("Tab")  # priority
    await page.keyboard.press("Tab")
    await expect(page.locator("#feed-pick")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#map")).to_be_focused()
    await expect(page.locator("#map .map-crosshair")).to_be_visible()
    await page.keyboard.press("Enter")
    await expect(page.locator("#feed-location")).to_contain_text("50.84")
    await expect(page.locator("#feed-pick")).to_be_focused()
    await page.focus("#feed-text")
    await page.keyboard.type("Groupe de casseurs repéré")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator(".feed-list .entry", has_text="casseurs")).to_have_count(1)
    [entry] = [e for e in await entries(hub_server, officer, incident) if "casseurs" in e["text"]]
    lon, lat = entry["location"]["coordinates"]
    half = ZONES["exclusion_zone"][1]
    assert abs(lon - CENTRE[0]) < half and abs(lat - CENTRE[1]) < half * 0.63, entry["location"]

    # The same buttons on every entry and anchor say which one they act on.
    correct = page.locator(".entry", has_text="casseurs").get_by_role("button", name="Correct")
    await expect(correct).to_have_attribute("aria-label", "Correct: Groupe de casseurs repéré")
    await page.click("#tab-anchors")
    red_label = ZONES["exclusion_zone"][0]
    delete = page.get_by_role("button", name=f"Delete: {red_label}", exact=True)
    await expect(delete).to_have_count(1)
    # A zone the Tab key stops at is named, and Enter opens it as a click does.
    red = page.locator("path.anchor-shape-exclusion_zone")
    await expect(red).to_have_attribute("aria-label", f"Exclusion zone: {red_label}")
    await red.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator(".leaflet-popup")).to_contain_text(red_label)
    await assert_clean(tab)
