"""Delivering alerts (issue 13), against a live hub: sending writes one delivery per
recipient and channel into the outbox in the send's transaction, closest first, in the
recipient's language with its own unsubscribe link; an Update or Cancel supersedes what is
still queued of the earlier messages; an exercise reaches only the test audience."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import smpp34
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from sqlmodel import col

from hub.actions.registrations import import_registrations
from hub.actions.self_registration import unsubscribe_token
from hub.alerts.registrations import parse
from hub.delivery.sms import ESME_RMSGQFUL, ESME_RTHROTTLED
from models.outbox import OutboxMessage
from models.registration import Registration
from tests.conftest import Clients
from tests.live import HubProcess, free_port, migrate, throwaway_database
from tests.seed import Seeder
from tests.test_alerts import HEADER, TEXTS, Case

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
async def case(hub_server: HubProcess, seed: Seeder, area_longitudes: Iterator[float]) -> Case:
    return await with_site(await Case(hub_server, seed, lon=next(area_longitudes)).build())


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


# e-mail over SMTP, to a real aiosmtpd server ---------------------------------------------------


class Sink:
    """A real SMTP server (aiosmtpd, in its own thread) that keeps every message it accepts,
    in order; `refuse` maps an address to the replies it gets first (one per attempt)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, EmailMessage]] = []
        self.refuse: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=self.authenticate,
            auth_require_tls=False,
        )

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        accepted = isinstance(auth_data, LoginPassword) and auth_data == (
            b"hub",
            b"s3cret-pass",
        )
        return AuthResult(success=accepted, handled=False)

    @property
    def url(self) -> str:
        return f"smtp://hub:s3cret-pass@127.0.0.1:{self.controller.port}"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self._lock:
            replies = self.refuse.get(address)
            if replies:
                return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(mail, EmailMessage)
        with self._lock:
            for address in envelope.rcpt_tos:
                self.received.append((address, mail))
        return "250 queued as sink"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [mail for to, mail in self.received if to == address]


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    found = Sink()
    found.controller.start()
    yield found
    found.controller.stop()


@pytest.fixture(scope="module")
def mail_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own: this module's mailing hub drains every e-mail it holds."""
    with throwaway_database(database_url, tmp_path_factory.mktemp("mail")) as url:
        migrate(url)
        yield url


@pytest.fixture(scope="module")
def mail_hub(mail_database: str, sink: Sink, logs: Path) -> Iterator[HubProcess]:
    server = HubProcess(
        mail_database,
        log_dir=logs,
        smtp_url=sink.url,
        alert_email_per_second=10,
        delivery_retry_base_s=0.05,
        delivery_poll_s=0.05,
    ).start()
    yield server
    server.stop()


@pytest.fixture
async def mail_seed(mail_database: str) -> AsyncIterator[Seeder]:
    seeder = Seeder(mail_database)
    yield seeder
    await seeder.close()


async def mail_case(server: HubProcess, seed: Seeder, lon: float) -> Case:
    return await with_site(await Case(server, seed, lon=lon).build())


async def settled(seed: Seeder, alert_id: str, channel: str = "email") -> list[OutboxMessage]:
    """The alert's deliveries on `channel` once none is queued or being handed over."""
    for _ in range(1200):
        rows = [m for m, _ in await deliveries(seed, alert_id) if m.channel == channel]
        if rows and all(m.state not in ("queued", "sending") for m in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"deliveries still pending: {[plain(m) for m in rows]}")


async def extra(seed: Seeder, rows: list[str]) -> None:
    parsed = parse(io.StringIO(HEADER + "\n".join(rows) + "\n"))
    await import_registrations(seed.hub, parsed, replace=False)


async def test_email_reaches_each_recipient_once_in_its_language_with_unsubscribe(
    mail_hub: HubProcess, mail_seed: Seeder, sink: Sink
) -> None:
    case = await mail_case(mail_hub, mail_seed, lon=10.0)
    k = uuid.uuid4().hex[:6]
    flaky, bad = f"flaky-{k}@example.be", f"bad-{k}@example.be"
    sink.refuse[flaky] = ["451 4.7.1 try again later", "452 4.3.1 still busy"]
    sink.refuse[bad] = ["550 5.1.1 no such mailbox"]
    inside = f"{case.lat + 0.01},{case.lon + 0.01}"
    await extra(
        mail_seed,
        [f"flaky-{k},nl,,,{flaky},home,{inside},false", f"bad-{k},en,,,{bad},home,{inside},false"],
    )
    sent = await case.act(await case.draft(), "send")
    rows = {m.address: m for m in await settled(mail_seed, sent["id"])}
    assert set(rows) == {"in@example.be", "circle@example.be", flaky, bad}
    assert rows[flaky].state == "sent" and rows[flaky].attempts == 3 and rows[flaky].error is None
    assert rows[bad].state == "failed" and rows[bad].attempts == 1
    assert str(rows[bad].error).startswith("SMTP 550")
    for address in ("in@example.be", "circle@example.be", flaky):
        [mail] = [m for m in sink.to(address) if f"/alerts/{sent['id']}" in str(m)]
        row = rows[address]
        assert row.provider_id is not None and "queued as sink" in row.provider_id
        assert mail["Message-ID"] == f"<outbox-{row.id}@localhost>"
        assert mail["Subject"] == TEXTS[row.language]["headline"]
        assert mail["Content-Language"] == row.language
        link = f"/public/registrations/{row.registration_id}/unsubscribe?token="
        assert link in mail["List-Unsubscribe"]
        text, html = mail.get_body(("plain",)), mail.get_body(("html",))
        assert text is not None and html is not None
        assert TEXTS[row.language]["instruction"] in text.get_content()
        assert f'lang="{row.language}"' in html.get_content()
    assert sink.to(bad) == []
    failures = await case.call(case.viewer, "GET", f"/api/alerts/{sent['id']}/failures")
    assert failures["failures"] == [{"channel": "email", "error": str(rows[bad].error), "count": 1}]
    # no SMSC is configured here: the SMS wait in the outbox, the e-mail did not wait for them
    sms = [m for m, _ in await deliveries(mail_seed, sent["id"]) if m.channel == "sms"]
    assert sms and {m.state for m in sms} == {"queued"}
    # the SMTP password is in no log line
    assert "s3cret-pass" not in mail_hub.log_path.read_text()


async def test_a_cancel_stops_the_rest_and_reaches_only_those_warned(
    mail_hub: HubProcess, mail_seed: Seeder, sink: Sink
) -> None:
    case = await mail_case(mail_hub, mail_seed, lon=20.0)
    k = uuid.uuid4().hex[:6]
    people = [f"bulk{i}-{k}@example.be" for i in range(60)]
    await extra(
        mail_seed,
        [
            f"bulk{i}-{k},fr,,,{address},home,{case.lat + 0.001 * i},{case.lon + 0.001 * i},false"
            for i, address in enumerate(people)
        ],
    )
    sent = await case.act(await case.draft(channels=["email"]), "send")
    # the closest first: bulk0 is at the incident site
    for _ in range(1200):
        if len([p for p in people if sink.to(p)]) >= 3:
            break
        await asyncio.sleep(0.05)
    first = [to for to, _ in sink.received if to in people][:3]
    assert first == people[:3]
    cancelled = await case.act(sent, "cancel")
    rows = await settled(mail_seed, sent["id"])
    alert_id, cancel_id = sent["messages"][0]["identifier"], cancelled["messages"][-1]["identifier"]
    warned = {m.address for m in rows if m.message_identifier == alert_id and m.state == "sent"}
    told = {m.address for m in rows if m.message_identifier == cancel_id and m.state == "sent"}
    superseded = [m for m in rows if m.message_identifier == alert_id and m.state == "failed"]
    assert warned and told == warned  # everyone warned is told it is over, and only they
    assert len(warned) + len(superseded) == len(people) + 2  # in@ and circle@ too
    assert all(str(m.error).startswith("superseded") for m in superseded)
    # in the order the server received them, no alert came after the first cancel
    order = [
        "cancel" if "ANNULÉ" in str(mail["Subject"]) else "alert"
        for to, mail in sink.received
        if to in people
        or (to in ("in@example.be", "circle@example.be") and f"/alerts/{sent['id']}" in str(mail))
    ]
    assert "alert" not in order[order.index("cancel") :]
    for address in warned:
        assert len(sink.to(address)) == 2


# seeing it: alert.progress, the alert's progress, the deliveries and the report -----------------


async def test_progress_is_told_to_the_room_and_deliveries_are_listed_masked(
    mail_hub: HubProcess, mail_seed: Seeder, sink: Sink, clients: Clients
) -> None:
    case = await mail_case(mail_hub, mail_seed, lon=30.0)
    watcher = await clients(case.server, case.viewer)
    await watcher.join(case.incident)
    sent = await case.act(await case.draft(), "send")
    zero = {"queued": 0, "sent": 0, "delivered": 0, "failed": 0}
    # the send's own answer (and its alert.sent event) counts what it queued
    assert sent["progress"] == {
        "sms": {**zero, "queued": 2},
        "voice": {**zero, "queued": 1},
        "email": {**zero, "queued": 2},
    }
    await settled(mail_seed, sent["id"])
    final = {
        "sms": {**zero, "queued": 2},  # no SMSC here
        "voice": {**zero, "queued": 1},
        "email": {**zero, "sent": 2},
    }
    for _ in range(1200):
        mine = [m for m in watcher.alert_progress if m["alert_id"] == sent["id"]]
        if mine and mine[-1]["by_channel"] == final:
            break
        await asyncio.sleep(0.05)
    assert mine[-1] == {"incident_id": case.incident, "alert_id": sent["id"], "by_channel": final}
    got = await case.call(case.viewer, "GET", f"/api/alerts/{sent['id']}")
    assert got["alert"]["progress"] == final

    path = f"/api/alerts/{sent['id']}/deliveries"
    first = await case.call(case.viewer, "GET", path + "?limit=3")
    assert len(first["deliveries"]) == 3 and first["next_after"] is not None
    rest = await case.call(case.viewer, "GET", f"{path}?limit=3&after={first['next_after']}")
    assert len(rest["deliveries"]) == 2 and rest["next_after"] is None
    every = first["deliveries"] + rest["deliveries"]
    assert [d["id"] for d in every] == sorted(d["id"] for d in every)
    by_address = {d["address"]: d for d in every}
    assert set(by_address) == {
        "**********.be",
        "**************.be",
        "*********001",
        "*********002",
        "********001",
    }
    assert by_address["**********.be"]["state"] == "sent"
    assert by_address["**********.be"]["attempts"] == 1
    email = await case.call(case.viewer, "GET", path + "?channel=email&state=sent")
    assert {d["channel"] for d in email["deliveries"]} == {"email"}
    assert len(email["deliveries"]) == 2
    refused = await case.call(case.viewer, "GET", path + "?state=lost", None, 400)
    assert refused["error"]["code"] == "invalid"
    await case.call(case.outsider, "GET", path, None, 403)
    await case.call(case.outsider, "GET", f"/api/alerts/{sent['id']}/report.csv", None, 403)

    async with case.http(case.viewer) as http:
        response = await http.get(f"/api/alerts/{sent['id']}/report.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    report = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(row["id"]) for row in report] == [d["id"] for d in every]
    assert {row["address"] for row in report} == set(by_address)
    assert "example.be" not in response.text and "+3247" not in response.text
    assert {row["state"] for row in report if row["channel"] == "email"} == {"sent"}


# a SIGKILL of the instance that is sending ------------------------------------------------------


async def test_a_sigkill_mid_delivery_loses_nothing_and_resends_only_the_in_flight_chunk(
    database_url: str, sink: Sink, logs: Path, tmp_path: Path
) -> None:
    """Two instances drain one outbox; the one that has handed over the most is killed with
    SIGKILL mid-delivery. Its leases run out, the other takes them back: every recipient gets
    the alert, and a recipient gets it twice only when the kill fell between a hand-over and
    its record, with the same Message-ID both times (counted, and at most one chunk)."""
    with throwaway_database(database_url, tmp_path) as url:
        migrate(url)
        env: dict[str, Any] = {
            "smtp_url": sink.url,
            "alert_email_per_second": 20,
            "alert_email_connections": 2,
            "delivery_lease_s": 3,
            "delivery_poll_s": 0.05,
            "delivery_retry_base_s": 0.05,
        }
        first = HubProcess(url, log_dir=logs, **env).start()
        second = HubProcess(url, log_dir=logs, **env).start()
        seed = Seeder(url)
        try:
            case = await mail_case(first, seed, lon=40.0)
            k = uuid.uuid4().hex[:6]
            people = [f"kill{i}-{k}@example.be" for i in range(80)]
            await extra(
                seed,
                [
                    f"kill{i}-{k},fr,,,{a},home,{case.lat + 0.001 * i},{case.lon + 0.001 * i},false"
                    for i, a in enumerate(people)
                ],
            )
            sent = await case.act(await case.draft(channels=["email"]), "send")
            for _ in range(1200):
                if len([p for p in people if sink.to(p)]) >= 20:
                    break
                await asyncio.sleep(0.05)
            first.kill()
            rows = await settled(seed, sent["id"])
        finally:
            await seed.close()
            first.stop()
            second.stop()
    assert {m.state for m in rows} == {"sent"} and len(rows) == len(people) + 2

    def copies(m: OutboxMessage) -> list[EmailMessage]:
        return [mail for mail in sink.to(m.address) if f"/alerts/{sent['id']}" in str(mail)]

    taken_back = [m for m in rows if m.attempts > 1]
    twice = [m for m in rows if len(copies(m)) > 1]
    print(f"taken back after the kill: {len(taken_back)}; received twice: {len(twice)}")
    assert taken_back, "the killed instance held no lease: it was killed too late to tell"
    # only those taken back can have come twice, each copy with the delivery's Message-ID
    assert {m.id for m in twice} <= {m.id for m in taken_back}
    for m in twice:
        ids = {mail["Message-ID"] for mail in copies(m)}
        assert ids == {f"<outbox-{m.id}@localhost>"}
    # the in-flight window: one chunk of the killed worker (its 2 connections)
    assert len(twice) <= 2
    for m in rows:
        assert 1 <= len(copies(m)) <= 2


# SMS over SMPP 3.4, to a real SMSC (smpp34's server) -------------------------------------------


class Smsc:
    """An SMPP 3.4 SMSC of the test's own (smpp34.Server, in the test's event loop): it keeps
    every submit_sm it accepts, answers the statuses in `slow` first (ESME_RTHROTTLED,
    ESME_RMSGQFUL), and sends a delivery receipt per part, UNDELIV to the numbers in `lost`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = smpp34.Server("127.0.0.1", self.port, system_id="TESTSMSC")
        self.parts: list[tuple[str, int, int, bytes]] = []  # to, data_coding, esm_class, body
        self.slow: dict[str, list[int]] = {}
        self.lost: set[str] = set()
        # destinations whose next submit_sm this many times gets no answer at all (held)
        self.silent: dict[str, int] = {}
        self.held: list[smpp34.SubmitSmEvent] = []
        self.binds: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"smpp://hub:sms3cret@127.0.0.1:{self.port}"

    async def start(self) -> None:
        await self.server.start()
        self._tasks.add(asyncio.create_task(self._run()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.stop()

    async def _run(self) -> None:
        esme: smpp34.Esme | None = None
        accepted = 0
        while True:
            event = await self.server.next()
            if isinstance(event, smpp34.Esme):
                esme = event
                self.binds.append(event.system_id)
            elif isinstance(event, smpp34.SubmitSmEvent):
                statuses = self.slow.get(event.destination_addr)
                if statuses:
                    event.reject(statuses.pop(0))
                    continue
                if self.silent.get(event.destination_addr, 0) > 0:
                    self.silent[event.destination_addr] -= 1
                    self.held.append(event)  # kept: a dropped event would be answered
                    continue
                accepted += 1
                message_id = f"smsc-{accepted}"
                event.accept(message_id)
                self.parts.append(
                    (
                        event.destination_addr,
                        event.data_coding,
                        event.esm_class,
                        event.short_message,
                    )
                )
                if esme is not None:
                    stat = "UNDELIV" if event.destination_addr in self.lost else "DELIVRD"
                    task = asyncio.create_task(self._receipt(esme, event, message_id, stat))
                    self._tasks.add(task)

    async def _receipt(
        self, esme: smpp34.Esme, event: smpp34.SubmitSmEvent, message_id: str, stat: str
    ) -> None:
        text = (
            f"id:{message_id} sub:001 dlvrd:001 submit date:2612020300 done date:2612020300"
            f" stat:{stat} err:{'000' if stat == 'DELIVRD' else '001'} text:"
        )
        await esme.deliver_sm(
            event.source_addr,
            text.encode(),
            source_addr=event.destination_addr,
            esm_class=0x04,
        )

    def texts(self, to: str, since: int = 0) -> list[str]:
        """The messages received for `to` (from the `since`-th part on), concatenated parts
        put back together."""
        found: list[str] = []
        pending: dict[int, dict[int, str]] = {}
        for destination, coding, esm_class, body in self.parts[since:]:
            if destination != to:
                continue
            codec = "utf-16-be" if coding == 8 else "gsm03.38"
            if not esm_class & 0x40:
                found.append(body.decode(codec))
                continue
            reference, total, number = body[3], body[4], body[5]
            pending.setdefault(reference, {})[number] = body[6:].decode(codec)
            if len(pending[reference]) == total:
                parts = pending.pop(reference)
                found.append("".join(parts[i] for i in range(1, total + 1)))
        return found


@pytest.fixture(scope="module")
async def smsc() -> AsyncIterator[Smsc]:
    server = Smsc()
    await server.start()
    yield server
    await server.stop()


class Gateway:
    """A voice gateway of the test's own (aiohttp, a real HTTP server): it keeps every call
    it takes, answers 503 first to the numbers in `busy` and 400 to those in `bad`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[dict[str, Any]] = []
        self.busy: dict[str, int] = {}
        self.bad: set[str] = set()
        # the operators' CAP gateways: (name, content type, body) of each POST taken
        self.caps: list[tuple[str, str, str]] = []
        self.cap_busy: dict[str, int] = {}
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/calls?key=v0ice-secret"

    @property
    def operators(self) -> str:
        base = f"http://127.0.0.1:{self.port}/cap"
        return f"{base}/a,{base}/b?token=op-s3cret"

    async def call(self, request: web.Request) -> web.Response:
        body = await request.json()
        to = body["to"]
        if self.busy.get(to, 0) > 0:
            self.busy[to] -= 1
            return web.Response(status=503, text="all lines busy")
        if to in self.bad:
            return web.Response(status=400, text="no such line")
        self.calls.append(body)
        return web.json_response({"id": f"call-{len(self.calls)}"})

    async def operator(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if self.cap_busy.get(name, 0) > 0:
            self.cap_busy[name] -= 1
            return web.Response(status=503, text="try later")
        self.caps.append((name, request.content_type, await request.text()))
        return web.Response(text=f"ack {name} {len(self.caps)}")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/calls", self.call)
        app.router.add_post("/cap/{name}", self.operator)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[Gateway]:
    server = Gateway()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
def sms_hub(
    database_url: str,
    smsc: Smsc,
    gateway: Gateway,
    logs: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HubProcess]:
    with throwaway_database(database_url, tmp_path_factory.mktemp("sms")) as url:
        migrate(url)
        server = HubProcess(
            url,
            log_dir=logs,
            smpp_url=smsc.url,
            voice_url=gateway.url,
            operator_cap_urls=gateway.operators,
            alert_sms_per_second=50,
            smpp_timeout_s=1,
            delivery_retry_base_s=0.05,
            delivery_poll_s=0.05,
        ).start()
        yield server
        server.stop()


async def test_sms_over_smpp_survive_throttling_and_end_delivered_by_receipts(
    sms_hub: HubProcess, smsc: Smsc
) -> None:
    seed = Seeder(sms_hub.env["DATABASE_URL"])
    start = len(smsc.parts)  # the SMSC outlives one backend's run
    try:
        case = await mail_case(sms_hub, seed, lon=50.0)
        inside = f"{case.lat + 0.01},{case.lon + 0.01}"
        k = uuid.uuid4().hex[:6]
        await extra(
            seed,
            [
                f"throttled-{k},nl,+32470000011,,,home,{inside},false",
                f"full-{k},nl,+32470000012,,,home,{inside},false",
                f"lost-{k},nl,+32470000013,,,home,{inside},false",
            ],
        )
        smsc.slow["32470000011"] = [ESME_RTHROTTLED]
        smsc.slow["32470000012"] = [ESME_RMSGQFUL, ESME_RTHROTTLED]
        smsc.lost.add("32470000013")
        long_fr = {
            "headline": "Nuage toxique: cœur de Ruisbroek",  # œ: not GSM 03.38, so UCS-2
            "description": TEXTS["fr"]["description"],
            "instruction": "Restez à l'intérieur, fermez portes et fenêtres, coupez la "
            "ventilation et attendez la fin de l'alerte avant de sortir.",
        }
        sent = await case.act(
            await case.draft(info={"fr": long_fr, "nl": TEXTS["nl"]}, channels=["sms"]), "send"
        )
        rows = {m.address: m for m in await settled(seed, sent["id"], "sms")}
        final = {m.address: m for m in await delivered(seed, sent["id"])}
    finally:
        await seed.close()
    assert set(rows) == {"+32470000001", "+32470000002", "+32470000011", "+32470000012"} | {
        "+32470000013"
    }
    assert smsc.texts("32470000003", start) == []  # `out` is outside the area
    for address, row in final.items():
        [text] = smsc.texts(address.lstrip("+"), start)
        assert text == row.text
        assert row.provider_id is not None and row.provider_id.startswith("smsc-")
    # in (fr) and test (de, so the first language: fr) read the long UCS-2 text in parts
    fr = [p for p in smsc.parts[start:] if p[0] == "32470000001"]
    assert len(fr) > 1 and {p[1] for p in fr} == {8} and {p[2] for p in fr} == {0x40}
    assert final["+32470000001"].text.startswith(long_fr["headline"])
    assert {p[1] for p in smsc.parts[start:] if p[0] == "32470000011"} == {0}  # nl: GSM-7
    assert final["+32470000011"].state == "delivered" and final["+32470000011"].attempts == 2
    assert final["+32470000012"].state == "delivered" and final["+32470000012"].attempts == 3
    assert final["+32470000013"].state == "failed"
    assert str(final["+32470000013"].error).startswith("receipt UNDELIV")
    assert {final[a].state for a in ("+32470000001", "+32470000002")} == {"delivered"}
    assert smsc.binds and "sms3cret" not in sms_hub.log_path.read_text()


async def test_an_smsc_that_stops_answering_is_left_and_bound_again(
    sms_hub: HubProcess, smsc: Smsc
) -> None:
    seed = Seeder(sms_hub.env["DATABASE_URL"])
    binds = len(smsc.binds)
    try:
        case = await mail_case(sms_hub, seed, lon=55.0)
        inside = f"{case.lat + 0.01},{case.lon + 0.01}"
        await extra(seed, [f"silent-{uuid.uuid4().hex[:6]},nl,+32470000014,,,home,{inside},false"])
        smsc.silent["32470000014"] = 1
        sent = await case.act(await case.draft(channels=["sms"]), "send")
        final = {m.address: m for m in await delivered(seed, sent["id"])}
    finally:
        await seed.close()
    # its submit_sm unanswered for SMPP_TIMEOUT_S, the hub dropped the session, bound again
    # and handed the message over anew: delivered, on its second attempt at least
    assert final["+32470000014"].state == "delivered" and final["+32470000014"].attempts >= 2
    assert {m.state for m in final.values()} == {"delivered"}
    assert len(smsc.binds) > binds
    assert "did not answer submit_sm within 1 s" in sms_hub.log_path.read_text()


async def delivered(seed: Seeder, alert_id: str) -> list[OutboxMessage]:
    """The alert's SMS once every receipt has come (none left `sent`)."""
    for _ in range(1200):
        rows = [m for m, _ in await deliveries(seed, alert_id) if m.channel == "sms"]
        if rows and all(m.state in ("delivered", "failed") for m in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"receipts still missing: {[plain(m) for m in rows]}")


async def test_voice_calls_go_through_the_gateway_once_each_in_their_language(
    sms_hub: HubProcess, gateway: Gateway
) -> None:
    seed = Seeder(sms_hub.env["DATABASE_URL"])
    start = len(gateway.calls)
    try:
        case = await mail_case(sms_hub, seed, lon=60.0)
        inside = f"{case.lat + 0.01},{case.lon + 0.01}"
        k = uuid.uuid4().hex[:6]
        await extra(
            seed,
            [
                f"busy-{k},fr,,+3225550011,,home,{inside},false",
                f"bad-{k},nl,,+3225550012,,home,{inside},false",
            ],
        )
        gateway.busy["+3225550011"] = 1
        gateway.bad.add("+3225550012")
        sent = await case.act(await case.draft(channels=["voice", "sms"]), "send")
        rows = {m.address: m for m in await settled(seed, sent["id"], "voice")}
    finally:
        await seed.close()
    calls = {call["to"]: call for call in gateway.calls[start:]}
    assert len(gateway.calls[start:]) == len(calls) == 2  # edge and busy, once each
    assert set(rows) == {"+3225550001", "+3225550011", "+3225550012"}
    for address in ("+3225550001", "+3225550011"):
        row = rows[address]
        assert calls[address] == {"to": address, "language": row.language, "text": row.text}
        assert row.state == "sent" and str(row.provider_id).startswith("call-")
        assert TEXTS[row.language]["instruction"] in row.text
    assert rows["+3225550011"].attempts == 2
    assert rows["+3225550012"].state == "failed"
    assert str(rows["+3225550012"].error).startswith("voice gateway HTTP 400")
    assert "v0ice-secret" not in sms_hub.log_path.read_text()


async def cap_rows(seed: Seeder, alert_id: str, count: int) -> list[OutboxMessage]:
    """The alert's deliveries to the operators once there are `count`, all handed over."""
    for _ in range(1200):
        async with seed.hub.db.read() as session:
            rows = list(
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        col(OutboxMessage.alert_id) == alert_id,
                        col(OutboxMessage.channel) == "cap",
                    )
                    .order_by(col(OutboxMessage.id))
                )
            )
        if len(rows) == count and all(m.state not in ("queued", "sending") for m in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"operator deliveries pending: {[plain(m) for m in rows]}")


async def test_every_cap_message_is_posted_to_each_operator_and_acknowledged(
    sms_hub: HubProcess, gateway: Gateway
) -> None:
    seed = Seeder(sms_hub.env["DATABASE_URL"])
    start = len(gateway.caps)
    try:
        case = await mail_case(sms_hub, seed, lon=70.0)
        gateway.cap_busy["b"] = 1
        sent = await case.act(await case.draft(channels=["operators"]), "send")
        await cap_rows(seed, sent["id"], 2)
        updated = await case.act(sent, "update", info={"nl": TEXTS["nl"]})
        rows = await cap_rows(seed, sent["id"], 4)
        # a Test alert reaches the test audience alone: no operator, who warns everyone
        test = await case.act(await case.draft(channels=["operators"], cap_status="Test"), "send")
        assert await cap_rows(seed, test["id"], 0) == []
    finally:
        await seed.close()
    identifiers = [m["identifier"] for m in updated["messages"]]
    for name in ("a", "b"):
        posted = [(kind, body) for who, kind, body in gateway.caps[start:] if who == name]
        assert [kind for kind, _ in posted] == ["application/cap+xml"] * 2
        for (_, body), identifier in zip(posted, identifiers, strict=True):
            assert f"<identifier>{identifier}</identifier>" in body
    assert {m.state for m in rows} == {"sent"}
    assert [m.message_identifier for m in rows] == [identifiers[0]] * 2 + [identifiers[1]] * 2
    assert all(str(m.provider_id).startswith("ack ") for m in rows)  # each acknowledgement
    assert sorted(m.attempts for m in rows) == [1, 1, 1, 2]  # b was busy once
    assert "op-s3cret" not in sms_hub.log_path.read_text()


async def test_a_dead_channel_is_said_by_readyz_and_its_deliveries_wait(
    database_url: str, logs: Path, tmp_path: Path
) -> None:
    dead = free_port()  # nothing listens there
    with throwaway_database(database_url, tmp_path) as url:
        migrate(url)
        server = HubProcess(
            url,
            log_dir=logs,
            smtp_url=f"smtp://hub:d3ad-pass@127.0.0.1:{dead}",
            delivery_max_attempts=1000,  # they wait for the server, however long it is down
            delivery_retry_base_s=0.05,
            delivery_poll_s=0.05,
        ).start()
        seed = Seeder(url)
        try:
            case = await mail_case(server, seed, lon=80.0)
            sent = await case.act(await case.draft(channels=["email"]), "send")
            for _ in range(1200):
                async with httpx.AsyncClient(base_url=server.url) as http:
                    ready = await http.get("/readyz")
                if ready.json()["channels"]["email"] != "ok":
                    break
                await asyncio.sleep(0.05)
            rows = [m for m, _ in await deliveries(seed, sent["id"])]
        finally:
            await seed.close()
            server.stop()
    # the instance stays in service: the e-mails wait, retried, and nothing is lost
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    assert ready.json()["channels"]["email"].startswith("down: SMTP server unreachable")
    assert rows and {m.state for m in rows} <= {"queued", "sending"}
    assert all(m.error is None or "unreachable" in m.error for m in rows)
    log = server.log_path.read_text()
    assert "SMTP server unreachable" in log and "d3ad-pass" not in log
