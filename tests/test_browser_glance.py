"""The map at a glance and the times (issue 19, items 4 and 13), in Debian's chromium against a
real hub, at desk (1400x900) and phone size: a legend of what the map shows (open at a desk,
folded on a phone, in the page's language); zone names without hovering; bunched vehicle
labels that do not overlap, the one pointed at shown, none cut at the map's edge; every time
in the incident's zone with its date when not today, whatever the browser's own zone; and a
post written offline that waits, is sent on reconnecting, and says when it was written.

Fixtures, login and page helpers are test_browser.py's: bounded waits, nothing timed."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import FloatRect, Page, ViewportSize, expect

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder, TestUser
from tests.test_browser import PHONE, Tabs, api, assert_clean, login, open_incident
from tests.test_browser_map import CENTRE, DESK, ZONES, nested_zones

chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

BRUSSELS = ZoneInfo("Europe/Brussels")
# Three vehicles a few metres apart at the venue (their labels would fall on one another), and
# one 2 km east of everything: the first view puts it 30 px from the map's right edge (its
# padding), where its name has no room on its right.
BUNCHED = {"Lead car": (0.0, 0.0), "VIP car": (0.00004, 0.00002), "Escort 1": (0.00008, 0.0)}
EAST = ("Escort east", (0.03, 0.0))


def has_class(name: str) -> re.Pattern[str]:
    """A class list containing `name` (to_have_class takes a pattern)."""
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def brussels(iso: str, fmt: str = "%H:%M") -> str:
    """An ISO time (the hub's UTC) as the page shows it, in Brussels."""
    return local(iso).strftime(fmt)


def local(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(BRUSSELS)


def zoned(iso: str) -> str:
    """ "09:41 CET": the time and its zone, as the page shows a time of today."""
    return f"{brussels(iso)} {zone_name(iso)}"


def dated(iso: str) -> str:
    """ "3 Dec, 09:41": the day and the time, as the page shows another day's."""
    when = local(iso)
    month = "Sept" if when.month == 9 else f"{when:%b}"  # en-GB's short September
    return f"{when.day} {month}, {brussels(iso)}"


def zone_name(iso: str) -> str:
    """en-GB's short name of Brussels time at that moment: CET in winter, CEST in summer."""
    return "CEST" if local(iso).dst() else "CET"


async def motorcade(server: HubProcess, manager: TestUser, incident: str) -> None:
    lon, lat = CENTRE
    route = {"type": "LineString", "coordinates": [[lon - 0.01, lat], [lon + 0.012, lat]]}
    async with api(server, manager) as http:
        created = await http.post(
            f"/api/incidents/{incident}/convoys", json={"name": "Motorcade", "route": route}
        )
        assert created.status_code == 201, created.text
        convoy = created.json()["convoy"]["id"]
        for label, (dlon, dlat) in [*BUNCHED.items(), EAST]:
            added = await http.post(
                f"/api/incidents/{incident}/convoys/{convoy}/vehicles", json={"label": label}
            )
            assert added.status_code == 201, added.text
            key = added.json()["device_key"]
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as tracker:
                fixed = await tracker.get(
                    "/ingest/osmand",
                    params={
                        "id": key,
                        "lat": lat + dlat,
                        "lon": lon + dlon,
                        "timestamp": int(datetime.now(UTC).timestamp()),
                        "bearing": 90,
                        "speed": 5,
                    },
                )
                assert fixed.status_code == 200, fixed.text


async def visible_labels(page: Page) -> dict[str, FloatRect]:
    """The map's labels a reader sees now, at least in part: text -> where (those hidden have
    no box or are made invisible by the declutter; those of things off the map lie outside)."""
    area = await page.locator("#map").bounding_box()
    assert area is not None
    found: dict[str, FloatRect] = {}
    for label in await page.locator(".leaflet-tooltip-pane .map-label").all():
        if not await label.is_visible():
            continue
        box = await label.bounding_box()
        if box is not None and not apart(box, area):
            found[(await label.text_content() or "").strip()] = box
    return found


async def names_over_symbols(page: Page) -> list[str]:
    """The points' and vehicles' names a reader sees drawn over a symbol on the map (touching
    one, as a name beside its own, is not over it; what lies off the map is not seen)."""
    return list(
        await page.evaluate(
            """() => {
              const boxes = (selector) => [...document.querySelectorAll(selector)]
                .filter((el) => getComputedStyle(el).visibility !== 'hidden')
                .map((el) => [el.textContent.trim(), el.getBoundingClientRect()])
                .filter(([, r]) => r.width > 0);
              const over = (a, b) => a.left < b.right && b.left < a.right
                && a.top < b.bottom && b.top < a.bottom;
              const map = document.querySelector('#map').getBoundingClientRect();
              const onMap = (selector) => boxes(selector).filter(([, r]) => over(r, map));
              const symbols = onMap('#map .leaflet-marker-pane .leaflet-marker-icon');
              const names = onMap('#map .map-label.label-point, #map .vehicle-tooltip');
              return names.filter(([, r]) => symbols.some(([, s]) => over(r, s)))
                .map(([name]) => name);
            }"""
        )
    )


def apart(a: FloatRect, b: FloatRect) -> bool:
    return (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def check_apart_and_inside(shown: dict[str, FloatRect], area: FloatRect) -> None:
    names = list(shown)
    for i, a in enumerate(names):
        assert inside(shown[a], area), (a, shown[a], area)
        for b in names[i + 1 :]:
            assert apart(shown[a], shown[b]), (a, b, shown[a], shown[b])


def inside(box: FloatRect, area: FloatRect) -> bool:
    return (
        area["x"] <= box["x"]
        and box["x"] + box["width"] <= area["x"] + area["width"]
        and area["y"] <= box["y"]
        and box["y"] + box["height"] <= area["y"] + area["height"]
    )


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desktop", "phone"])
async def test_the_map_says_what_it_shows_and_its_labels_do_not_collide(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs, viewport: ViewportSize
) -> None:
    manager = await seed.user("monitor", discipline="coord")
    incident = await seed.incident({manager: "manager"}, title="Sommet", kind="event")
    await nested_zones(hub_server, manager, incident)
    lon, lat = CENTRE
    async with api(hub_server, manager) as http:
        cp = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "command_post",
                "label": "CP-Ops Grand-Place",
                "geometry": {"type": "Point", "coordinates": [lon - 0.0015, lat + 0.0008]},
            },
        )
        assert cp.status_code == 201, cp.text
        # West of the site, a medical post and, just south-east of it, a staging area: at
        # street level (zoom 15, some 3 m a pixel) the post's name, drawn under its symbol,
        # would lie over the staging area's symbol.
        for kind, label, dlon, dlat in (
            ("advanced_medical_post", "PMA Ouest", -0.0075, 0.0008),
            ("staging_area", "Parking PMA", -0.0075 + 0.00129, 0.0008 - 0.00108),
        ):
            made = await http.post(
                f"/api/incidents/{incident}/anchors",
                json={
                    "client_id": str(uuid.uuid4()),
                    "kind": kind,
                    "label": label,
                    "geometry": {"type": "Point", "coordinates": [lon + dlon, lat + dlat]},
                },
            )
            assert made.status_code == 201, made.text
    await motorcade(hub_server, manager, incident)
    phone = viewport == PHONE
    tab = await (tabs(viewport, is_mobile=True, has_touch=True) if phone else tabs(viewport))
    page = await open_incident(tab, hub_server, manager, incident)
    for label in [*BUNCHED, EAST[0]]:
        await expect(page.locator(f'.vehicle-icon[title="{label}"]')).to_have_count(1)

    # The legend: open at a desk, folded on a phone until asked; the kinds on the map only.
    legend = page.locator("#map-legend")
    await expect(legend).to_be_visible()
    rows = legend.locator(".legend-rows .legend-text")
    if phone:
        await expect(legend).not_to_have_attribute("open", "")
        await expect(rows.first).to_be_hidden()
        await legend.locator("summary").click()
    await expect(legend).to_have_attribute("open", "")
    await expect(rows).to_have_text(
        [
            "Exclusion zone",
            "Isolation zone",
            "Dissuasion zone",
            "CP-Ops",
            "Advanced medical post",
            "Staging area",
            "Vehicle (the arrow shows its heading)",
            "Planned route",
            "Track driven",
        ]
    )
    map_box = await page.locator("#map").bounding_box()
    assert map_box is not None
    legend_box = await legend.bounding_box()
    assert legend_box is not None and inside(legend_box, map_box)

    # Names without hovering: none covers another, none is cut by the map's edge; the
    # innermost zone's always, of the bunched vehicles one at most.
    await expect(
        page.locator(".anchor-label.label-area", has_text=ZONES["exclusion_zone"][0])
    ).to_be_visible()
    shown = await visible_labels(page)
    assert ZONES["exclusion_zone"][0] in shown, shown.keys()
    assert len([name for name in shown if name in BUNCHED]) <= 1, shown.keys()
    check_apart_and_inside(shown, map_box)
    # Nor does a vehicle's name cover the symbol of another in the bunch.
    assert await names_over_symbols(page) == []
    # The east vehicle sits at the right edge: its name is drawn on its left, not cut.
    assert EAST[0] in shown, shown.keys()
    east = page.locator(".vehicle-tooltip", has_text=EAST[0])
    await expect(east).to_have_class(has_class("label-flipped"))
    marker = await page.locator(f'.vehicle-icon[title="{EAST[0]}"]').bounding_box()
    assert marker is not None
    assert shown[EAST[0]]["x"] + shown[EAST[0]]["width"] <= marker["x"] + marker["width"] / 2

    # Pointing at a bunched vehicle whose name is hidden shows its name.
    hidden = next(name for name in BUNCHED if name not in shown)
    await page.locator(f'.vehicle-icon[title="{hidden}"]').dispatch_event("mouseover")
    await expect(page.locator(".vehicle-tooltip", has_text=hidden)).to_be_visible()
    await expect(page.locator(".vehicle-tooltip", has_text=hidden)).not_to_have_class(
        has_class("label-hidden")
    )
    shown = await visible_labels(page)
    assert len([name for name in shown if name in BUNCHED]) == 1 and hidden in shown

    # Closer in (a street level), every zone has room for its name, on its northern edge.
    zoom_in = page.locator(".leaflet-control-zoom-in")
    map_el = page.locator("#map")
    zoom = int(await map_el.get_attribute("data-zoom") or 0)
    assert zoom >= 13  # the first view shows the zone names
    while zoom < 15:
        await zoom_in.click()
        zoom += 1
        await expect(map_el).to_have_attribute("data-zoom", str(zoom))
    for name, _half in ZONES.values():
        await expect(page.locator(".anchor-label.label-area", has_text=name)).to_be_visible()
    closer = await visible_labels(page)
    assert {name for name, _ in ZONES.values()} <= set(closer), closer.keys()
    check_apart_and_inside(closer, map_box)
    assert await names_over_symbols(page) == []
    # Zoomed out to the region, zone names give way (they would pile up on the site).
    zoom_out = page.locator(".leaflet-control-zoom-out")
    while zoom >= 13:
        await zoom_out.click()
        zoom -= 1
        await expect(map_el).to_have_attribute("data-zoom", str(zoom))
    await expect(page.locator(".anchor-label.label-area").first).to_be_hidden()

    # In French, the legend too.
    await page.select_option("#lang-switch", "fr")
    await expect(legend.locator("summary")).to_have_text("Légende")
    await expect(rows.first).to_have_text("Zone d'exclusion")
    await assert_clean(tab)


async def test_times_say_their_zone_and_a_post_written_offline_keeps_when_it_was_written(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    officer = await seed.user("officer", organisation="Fire Brussels", discipline="D1")
    incident = await seed.incident({officer: "contributor"}, title="Feu rue de la Colline")
    # An entry posted two days after it was written (a queue that waited), and a zone.
    written = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    async with api(hub_server, officer) as http:
        late = await http.post(
            f"/api/incidents/{incident}/feed",
            json={
                "client_id": str(uuid.uuid4()),
                "text": "Written two days ago",
                "written_at": written.isoformat().replace("+00:00", "Z"),
            },
        )
        assert late.status_code == 201, late.text
        late_entry = late.json()["entry"]
        zone = await http.post(
            f"/api/incidents/{incident}/anchors",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "exclusion_zone",
                "label": "Zone rouge",
                "geometry": {"type": "Point", "coordinates": list(CENTRE)},
                "properties": {"radius_m": 150},
            },
        )
        assert zone.status_code == 201, zone.text
        anchor = zone.json()["anchor"]
    # A browser in New York: the page still shows Brussels time, and says so.
    tab = await tabs(DESK, timezone_id="America/New_York")
    page = await open_incident(tab, hub_server, officer, incident)

    late_row = page.locator(".entry", has_text="Written two days ago")
    received = late_entry["created_at"]
    await expect(late_row.locator(".entry-written")).to_have_text(
        f"written {dated(late_entry['written_at'])}"
    )
    # Written another day than received: both carry their date, though received is today.
    await expect(late_row.locator(".entry-received")).to_have_text(
        f"received {dated(received)} {zone_name(received)}"
    )
    # The hub's own entry of the zone (anchor created) shows the time alone, with its zone.
    created_row = page.locator(".entry", has_text="Anchor created: Zone rouge")
    await expect(created_row.locator(".entry-head time")).to_have_text(zoned(anchor["updated_at"]))
    await page.click("#tab-anchors")
    await expect(page.locator(".anchor-updated")).to_have_text(
        f"Changed {zoned(anchor['updated_at'])}"
    )
    await page.click("#tab-feed")

    # Offline: the post waits in the page, marked, then goes when the network is back.
    await tab.context.set_offline(True)
    await expect(page.locator("#conn-state")).to_have_class("conn conn-offline")
    before = datetime.now(UTC) - timedelta(seconds=1)
    await page.fill("#feed-text", "Written offline at the cordon")
    await page.click(".feed-form button[type=submit]")
    pending = page.locator(".entry-pending", has_text="Written offline at the cordon")
    await expect(pending).to_have_count(1)
    await expect(pending.locator(".badge-pending")).to_have_text("Not sent yet")
    await expect(page.locator("#feed-text")).to_have_value("")
    after = datetime.now(UTC) + timedelta(seconds=1)
    queued = await page.evaluate(
        "(key) => JSON.parse(localStorage.getItem(key))",
        f"crisishub.outbox.{incident}.{officer.id}",
    )
    assert [item["payload"]["text"] for item in queued] == ["Written offline at the cordon"]
    await expect(pending.locator(".entry-written")).to_have_text(
        f"written {zoned(queued[0]['payload']['written_at'])}"
    )

    await tab.context.set_offline(False)
    await expect(page.locator("#conn-state")).to_have_class("conn conn-live")
    await expect(pending).to_have_count(0)
    await expect(
        page.locator(".entry:not(.entry-pending)", has_text="Written offline at the cordon")
    ).to_have_count(1)
    async with api(hub_server, officer) as http:
        stored = (await http.get(f"/api/incidents/{incident}/feed")).json()["entries"]
    offline = [e for e in stored if e["text"] == "Written offline at the cordon"]
    assert len(offline) == 1
    assert offline[0]["client_id"] == queued[0]["payload"]["client_id"]
    stamp = datetime.fromisoformat(offline[0]["written_at"].replace("Z", "+00:00"))
    assert before <= stamp <= after
    assert (
        await page.evaluate(
            "(key) => localStorage.getItem(key)", f"crisishub.outbox.{incident}.{officer.id}"
        )
        is None
    )
    await assert_clean(tab, console=False)  # the offline minute logs the socket's failures


async def test_a_post_queued_before_a_reload_is_sent_and_says_both_times(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs
) -> None:
    """Written 5 minutes ago in a tab that lost the network and was reopened: the queue kept
    in the browser goes at once, and the feed says "written 10:02, received 10:07 CET"."""
    officer = await seed.user("officer", organisation="Fire Brussels", discipline="D1")
    incident = await seed.incident({officer: "contributor"}, title="Feu rue de la Colline")
    tab = await tabs(PHONE, is_mobile=True, has_touch=True)
    await login(tab, hub_server, officer, f"/incidents/{incident}")
    await expect(tab.page.locator("#conn-state")).to_have_class("conn conn-live")
    written = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    item = {
        "payload": {
            "incident_id": incident,
            "client_id": str(uuid.uuid4()),
            "text": "Queued before the reload",
            "kind": "info",
            "priority": "urgent",
            "written_at": written.isoformat().replace("+00:00", "Z"),
        }
    }
    await tab.page.evaluate(
        "([key, value]) => localStorage.setItem(key, value)",
        [f"crisishub.outbox.{incident}.{officer.id}", json.dumps([item])],
    )
    await tab.page.reload()
    row = tab.page.locator(".entry:not(.entry-pending)", has_text="Queued before the reload")
    await expect(row).to_have_count(1)
    async with api(hub_server, officer) as http:
        stored = (await http.get(f"/api/incidents/{incident}/feed")).json()["entries"]
    entry = next(e for e in stored if e["text"] == "Queued before the reload")
    assert entry["written_at"] == item["payload"]["written_at"]
    await expect(row.locator(".entry-times")).to_have_text(
        f"written {brussels(entry['written_at'])}, received {zoned(entry['created_at'])}"
    )
    await assert_clean(tab)
