"""The Evaluation tab in Debian's chromium against a real hub: a contributor records an
evaluation point from the incident page and sees it listed, a viewer sees it arrive live and
can only read, the export links are there and the logbook they give holds the point, and the
incident list counts the open points."""

from __future__ import annotations

import io
from pathlib import Path

from playwright.async_api import expect
from pypdf import PdfReader

from tests import test_browser
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_browser import Tabs, assert_clean, open_incident

# test_browser.py's fixtures: Debian's chromium, one browser per module, a profile per tab.
chromium = test_browser.chromium
browser = test_browser.browser
tabs = test_browser.tabs

FINDING = "Les radios ASTRID ont saturé au poste de commandement"
OWNER = "Cellule logistique D4"


async def test_an_evaluation_point_is_recorded_from_the_page_and_seen_live(
    hub_server: HubProcess, seed: Seeder, tabs: Tabs, tmp_path: Path
) -> None:
    officer = await seed.user("officer", organisation="SIAMU Bruxelles", discipline="D1")
    evaluator = await seed.user("evaluator", organisation="SPF Intérieur", discipline="coord")
    incident = await seed.incident(
        {officer: "contributor", evaluator: "viewer"}, title="Exercice Midi", kind="exercise"
    )
    writer = await tabs()
    reader = await tabs()
    page = await open_incident(writer, hub_server, officer, incident)
    watching = await open_incident(reader, hub_server, evaluator, incident)
    for each in (page, watching):
        await each.click("#tab-evaluation")
        await expect(each.locator("#panel-evaluation")).to_be_visible()
        await expect(each.locator("#panel-evaluation .eval-list")).to_contain_text(
            "No evaluation points."
        )

    # the viewer reads only: no form, the reason said
    await expect(watching.locator("#eval-text")).to_have_count(0)
    await expect(watching.locator("#panel-evaluation")).to_contain_text(
        "Contributors and managers record evaluation points."
    )

    await page.select_option("#eval-kind", "to_improve")
    await page.fill("#eval-text", FINDING)
    await page.fill("#eval-owner", OWNER)
    await page.fill("#eval-due", "2030-03-31")
    await page.click(".eval-form button[type=submit]")
    for each in (page, watching):
        point = each.locator(".eval-point", has_text=FINDING)
        await expect(point).to_have_count(1)
        await expect(point).to_contain_text("To improve")
        await expect(point).to_contain_text(OWNER)
        await expect(point).to_contain_text("SIAMU Bruxelles (D1)")
        await expect(point.locator(".eval-state")).to_have_text("open")
    await expect(page.locator("#eval-text")).to_have_value("")  # ready for the next one
    # only its author (or a manager) may close it
    await expect(watching.locator(".eval-point .eval-toggle")).to_have_count(0)

    # the export links, the logbook in the page's language holding the point
    links = page.locator("#eval-exports a")
    await expect(links).to_have_count(5)
    hrefs = [await link.get_attribute("href") for link in await links.all()]
    base = f"/api/incidents/{incident}"
    assert hrefs == [
        f"{base}/logbook.pdf?lang=en",
        f"{base}/feed.csv",
        f"{base}/anchors.geojson",
        f"{base}/anchors.kml",
        f"{base}/archive.zip?lang=en",
    ]
    async with watching.expect_download() as download_info:
        await watching.click("#eval-exports a.export-logbook")
    download = await download_info.value
    saved = tmp_path / "logbook.pdf"
    await download.save_as(saved)
    text = " ".join(
        sheet.extract_text() for sheet in PdfReader(io.BytesIO(saved.read_bytes())).pages
    )
    assert FINDING in " ".join(text.split()) and "EXERCISE" in text

    # the list counts the open point; closing it from the page clears the count
    await page.goto(f"{hub_server.url}/incidents")
    row = page.locator("#incident-rows tr", has_text="Exercice Midi")
    await expect(row.locator(".open-points")).to_have_text("1")
    await page.goto(f"{hub_server.url}/incidents/{incident}")
    await expect(page.locator("#conn-state")).to_have_class("conn conn-live")
    await page.click("#tab-evaluation")
    await page.locator(".eval-point", has_text=FINDING).locator(".eval-toggle").click()
    for each in (page, watching):
        await expect(each.locator(".eval-point .eval-state")).to_have_text("closed")
    await page.goto(f"{hub_server.url}/incidents")
    await expect(row.locator(".open-points")).to_have_text("")
    await assert_clean(writer, reader)
