"""Delivering alerts (issue 13), against a live hub: sending writes one delivery per
recipient and channel into the outbox in the send's transaction, closest first, in the
recipient's language with its own unsubscribe link; an Update or Cancel supersedes what is
still queued of the earlier messages; an exercise reaches only the test audience."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from hub.actions.self_registration import unsubscribe_token
from models.outbox import OutboxMessage
from models.registration import Registration
from tests.live import HubProcess
from tests.seed import Seeder
from tests.test_alerts import TEXTS, Case

SECRET = "test-secret-key-not-for-production"  # tests/live.py HubProcess


async def deliveries(seed: Seeder, alert_id: str) -> list[tuple[OutboxMessage, str]]:
    """The alert's outbox rows in drain order, each with its registration's external_id
    prefix (in, edge, test, out, circle: tests/test_alerts.py `registrations`)."""
    async with seed.hub.db.read() as session:
        found = await session.execute(
            select(OutboxMessage, col(Registration.external_id))
            .join(Registration, col(Registration.id) == col(OutboxMessage.registration_id))
            .where(col(OutboxMessage.alert_id) == alert_id)
            .order_by(col(OutboxMessage.rank), col(OutboxMessage.id))
        )
        return [(row, str(external).split("-")[0]) for row, external in found.all()]


async def with_site(case: Case) -> Case:
    """The incident site at the square's south-west corner: `test` (0.02°, 0.02° from it) is
    closest, then `in`, then `edge`, all in the exclusion zone; `circle` is in the isolation
    zone, further out in the order whatever its distance."""
    await case.anchor(
        "incident_site", "Site", {"type": "Point", "coordinates": [case.lon, case.lat]}
    )
    return case


@pytest.fixture
async def case(hub_server: HubProcess, seed: Seeder, request: pytest.FixtureRequest) -> Case:
    band = abs(hash(request.node.nodeid)) % 400
    return await with_site(await Case(hub_server, seed, lon=-170 + band * 0.8).build())


def plain(message: OutboxMessage) -> dict[str, Any]:
    return {"channel": message.channel, "language": message.language, "state": message.state}


async def test_sending_queues_one_delivery_per_recipient_and_channel_closest_first(
    case: Case, seed: Seeder
) -> None:
    draft = await case.draft()
    assert await deliveries(seed, draft["id"]) == []  # a draft queues nothing
    sent = await case.act(draft, "send")
    [message] = sent["messages"]
    queued = await deliveries(seed, sent["id"])
    # the alert's channels (sms, voice, email, public) that each registration has; `out` is
    # outside the area; `test` (de) reads the alert's first language, fr
    assert [(who, plain(m)) for m, who in queued] == [
        ("test", {"channel": "sms", "language": "fr", "state": "queued"}),
        ("in", {"channel": "email", "language": "fr", "state": "queued"}),
        ("in", {"channel": "sms", "language": "fr", "state": "queued"}),
        ("edge", {"channel": "voice", "language": "nl", "state": "queued"}),
        ("circle", {"channel": "email", "language": "nl", "state": "queued"}),
    ]
    ranks = [m.rank for m, _ in queued]
    assert ranks == sorted(ranks) and ranks[-1] >= 1_000_000_000  # circle: the second tier
    for row, who in queued:
        assert row.message_identifier == message["identifier"] and row.attempts == 0
        assert row.purpose == "alert" and row.error is None
        link = (
            f"/public/registrations/{row.registration_id}/unsubscribe?token="
            f"{unsubscribe_token(SECRET, str(row.registration_id))}"
        )
        texts = TEXTS[row.language]
        if row.channel == "sms":
            assert row.text.startswith(texts["headline"]) and row.text.endswith(link)
            assert texts["instruction"] in row.text and row.subject is None
        elif row.channel == "email":
            assert row.subject == texts["headline"] and link in row.text
            assert texts["description"] in row.text and f"/alerts/{sent['id']}" in row.text
        else:
            assert row.text.startswith(texts["headline"]) and link not in row.text
        assert who != "out"
    addresses = {(who, m.channel): m.address for m, who in queued}
    assert addresses[("in", "sms")] == "+32470000001"
    assert addresses[("edge", "voice")] == "+3225550001"
    assert addresses[("circle", "email")] == "circle@example.be"


async def test_an_update_supersedes_what_is_queued_and_a_cancel_reaches_only_the_warned(
    case: Case, seed: Seeder
) -> None:
    sent = await case.act(await case.draft(channels=["sms", "email"]), "send")
    first = {m.id for m, _ in await deliveries(seed, sent["id"])}
    assert len(first) == 4  # in sms and email, test sms, circle email; edge has only voice
    new_fr = {**TEXTS["fr"], "instruction": "Évacuez vers le sud."}
    updated = await case.act(sent, "update", info={"fr": new_fr})
    identifier = updated["messages"][-1]["identifier"]
    rows = await deliveries(seed, sent["id"])
    earlier = [m for m, _ in rows if m.id in first]
    assert {m.state for m in earlier} == {"failed"}
    assert all(str(m.error).startswith(f"superseded by Update {identifier}") for m in earlier)
    later = [(m, who) for m, who in rows if m.id not in first]
    assert sorted((who, m.channel) for m, who in later) == [
        ("circle", "email"),
        ("in", "email"),
        ("in", "sms"),
        ("test", "sms"),
    ]
    # the update has French only: everyone reads it, circle (nl) included
    assert all(m.language == "fr" and "Évacuez vers le sud." in m.text for m, _ in later)
    assert all(m.message_identifier == identifier and m.state == "queued" for m, _ in later)

    cancelled = await case.act(updated, "cancel")
    rows = await deliveries(seed, sent["id"])
    # nothing was handed over yet (no channel is configured on this hub): the cancel
    # supersedes the update's deliveries and tells nobody, since nobody was warned
    assert len(rows) == 8 and {m.state for m, _ in rows} == {"failed"}
    cancel_id = cancelled["messages"][-1]["identifier"]
    assert all(
        str(m.error).startswith(f"superseded by Cancel {cancel_id}")
        for m, _ in rows
        if m.message_identifier == identifier
    )


async def test_an_exercise_queues_only_the_test_audience_marked(
    hub_server: HubProcess, seed: Seeder
) -> None:
    case = await with_site(await Case(hub_server, seed, lon=154.0).build(kind="exercise"))
    sent = await case.act(await case.draft(), "send")
    assert sent["cap_status"] == "Exercise"
    [(row, who)] = await deliveries(seed, sent["id"])
    assert who == "test" and row.channel == "sms"
    assert row.text.startswith("EXERCICE - " + TEXTS["fr"]["headline"])
