"""The delivery's pure parts: the order of recipients, the back-off, the HTML of an e-mail
and the URLs that logs may show."""

from __future__ import annotations

import numpy as np
import shapely.geometry

from hub.alerts.outbox import (
    NO_TIER,
    TIER_SPAN,
    Perimeter,
    Plan,
    Recipient,
    distances_m,
    order_keys,
    rows,
)
from hub.alerts.texts import Text, email_message, sms_text, voice_text
from hub.delivery.email import html_body, message_id
from hub.delivery.worker import back_off
from hub.logs import without_secret


def test_the_innermost_perimeter_comes_first_then_the_nearest() -> None:
    inner = shapely.geometry.box(0, 0, 1, 1)
    outer = shapely.geometry.box(-2, -2, 3, 3)
    ids = ["far-inner", "near-outer", "outside", "two-places", "two-places"]
    lons = np.array([0.9, 1.5, 5.0, 2.5, 0.5])
    lats = np.array([0.9, 1.5, 5.0, 2.5, 0.5])
    keys = order_keys(ids, lons, lats, [Perimeter(1, outer), Perimeter(0, inner)], (0.0, 0.0))
    assert sorted(keys, key=keys.__getitem__) == [
        "two-places",
        "far-inner",
        "near-outer",
        "outside",
    ]
    assert keys["outside"] // TIER_SPAN == NO_TIER
    # a registration of two places takes its better one: inside the inner perimeter
    assert keys["two-places"] // TIER_SPAN == 0


def test_distances_are_great_circle_metres() -> None:
    # one degree of latitude is about 111.2 km anywhere
    [metres] = distances_m((4.35, 50.0), np.array([4.35]), np.array([51.0])).tolist()
    assert 111_000 < metres < 111_400


def test_back_off_doubles_within_its_jitter_and_stops_at_its_ceiling() -> None:
    for attempts in range(1, 12):
        delay = back_off(attempts, 2.0, 300.0)
        expected = min(300.0, 2.0 * 2 ** (attempts - 1))
        assert 0.5 * expected <= delay <= 1.5 * expected


def test_the_html_part_escapes_the_text_and_links_its_urls() -> None:
    body = html_body("Fire <here> & there\n\nhttps://alert.example.be/alerts/1?x=1&y=2", "fr")
    assert "&lt;here&gt; &amp; there" in body and 'lang="fr"' in body
    assert '<a href="https://alert.example.be/alerts/1?x=1&amp;y=2">' in body


def test_message_ids_are_stable_per_delivery() -> None:
    assert message_id(42, "alerts@crisis.example.be") == "<outbox-42@crisis.example.be>"
    assert message_id(42, "alerts@crisis.example.be") == message_id(42, "alerts@crisis.example.be")


def test_urls_in_logs_keep_the_server_and_lose_the_secrets() -> None:
    assert without_secret("smtp://hub:s3cret@mail.example:587") == "smtp://hub:***@mail.example:587"
    assert without_secret("smtps://mail.example") == "smtps://mail.example"
    assert without_secret("https://gw.example/voice?key=abc&x=1") == "https://gw.example/voice?***"


def test_each_reader_s_text_is_the_channel_s_rendering_with_their_own_link() -> None:
    """rows() renders each language's texts once and splices each reader's link in: the
    result must be what rendering each reader's text from scratch gives, marker included,
    and a reader of a language the alert lacks gets its first."""
    info = {
        "nl": {"headline": "Brand", "description": "Rook.", "instruction": "Blijf binnen."},
        "fr": {"headline": "Feu", "description": "Fumée.", "instruction": "Restez dedans."},
    }

    def link(registration_id: str) -> str:
        return f"https://hub.example/u/{registration_id}"

    plan = Plan(
        "a1",
        "crisishub-1",
        "Alert",
        "Exercise",
        frozenset({"sms", "voice", "email"}),
        info,
        "https://hub.example/alerts/a1",
        link,
    )
    readers = [
        Recipient("r1", "sms", "+32470000001", "fr", 0),
        Recipient("r1", "email", "r1@example.be", "fr", 0),
        Recipient("r2", "voice", "+3225550002", "nl", 1),
        Recipient("r3", "email", "r3@example.be", "de", 2),  # no German text: Dutch, the first
    ]
    got = [(row[0], row[2], row[3], row[4]) for row in rows(plan, readers, "now")]
    fr = Text("Feu", "Fumée.", "Restez dedans.")
    nl = Text("Brand", "Rook.", "Blijf binnen.")
    page = plan.page
    assert got == [
        ("sms", "fr", None, sms_text(fr, "Exercise", "fr", link("r1"))),
        ("email", "fr", *email_message(fr, "Exercise", "fr", page, link("r1"))),
        ("voice", "nl", None, voice_text(nl, "Exercise", "nl")),
        ("email", "nl", *email_message(nl, "Exercise", "nl", page, link("r3"))),
    ]
    assert got[0][3].startswith("EXERCICE") and got[0][3].endswith(link("r1"))
