"""The delivery workers: every instance drains the outbox, one task per configured channel,
so that a slow or dead channel holds up no other.

A round of one channel: take back the deliveries whose lease ran out (their instance died
while handing them over), claim a batch of queued ones, closest first (state sending, a lease
of DELIVERY_LEASE_S in next_attempt_at, this instance in leased_by, attempts + 1; on
PostgreSQL `FOR UPDATE SKIP LOCKED`, so two instances never claim the same row; on SQLite
the one writer), then hand them over chunk by chunk at the channel's pace and record each
chunk's answers at once: sent (with the server's identifier), queued again with back-off and
jitter (a Retry; a throttled server also halves the pace for a while), or failed with the
reason (a Refusal, or DELIVERY_MAX_ATTEMPTS reached).

What a SIGKILL costs: the chunk being handed over (at most `chunk` messages, counted in the
logs of the instance that takes the lease back) may have reached its server unrecorded; it
is sent again, and its `attempts` says so. Nothing else is lost or repeated.

Before each chunk the worker checks that each message is still its alert's latest (a Cancel
or Update may have come since the claim): a superseded one is not handed over.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlmodel import col

from hub.context import Hub
from hub.delivery.channel import Channel, Outgoing, Receipts, Refused, Retry
from models.alert import AlertMessage, MsgType
from models.base import utcnow
from models.outbox import ERROR_CHARS, PROVIDER_ID_CHARS, OutboxMessage, OutboxState

log = logging.getLogger(__name__)

_TABLE: Any = OutboxMessage.__table__  # type: ignore[attr-defined]  # set by SQLModel at run time
_SLOW_FOR_S = 5.0
# Delivery reports: recorded a batch every this often, looked up this many per query, and at
# most this many held in memory (past it a report is dropped and counted in the log: its
# delivery stays `sent`, as one whose SMSC never reported).
_REPORTS_EVERY_S = 0.25
_REPORTS_PER_QUERY = 500
_REPORTS_HELD = 200_000
_HANDED = (OutboxState.SENDING.value, OutboxState.SENT.value, OutboxState.DELIVERED.value)


class Pace:
    """At most `per_second` hand-overs a second, evenly spaced; `slow_down` halves it for a
    few seconds (a throttled server)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = time.monotonic()
        self._slow_until = 0.0

    def slow_down(self) -> None:
        self._slow_until = time.monotonic() + _SLOW_FOR_S

    async def wait(self) -> None:
        now = time.monotonic()
        factor = 2.0 if now < self._slow_until else 1.0
        start = max(self._next, now)
        self._next = start + self.interval * factor
        if start > now:
            await asyncio.sleep(start - now)


@dataclass(frozen=True, slots=True)
class Report:
    """A server's delivery report of one message (an SMPP receipt), as taken in."""

    channel: str
    provider_id: str
    state: str
    error: str | None
    # time.monotonic() after which a report still matching nothing is given up
    until: float


@dataclass(frozen=True, slots=True)
class Answer:
    """A hand-over's outcome, as recorded."""

    id: int
    state: str
    error: str | None = None
    provider_id: str | None = None
    retry_in_s: float | None = None


def back_off(attempts: int, base_s: float, max_s: float) -> float:
    """Exponential back-off with full-range jitter around it (0.5 to 1.5 times), so that the
    retries of one throttled burst do not come back as one burst."""
    return float(min(max_s, base_s * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.5))


class Deliveries:
    """This instance's delivery workers, one per channel."""

    def __init__(
        self,
        hub: Hub,
        channels: Sequence[Channel],
        *,
        owner: str,
        link: Callable[[str], str],
        changed: Callable[[set[str]], None] | None = None,
    ) -> None:
        self.hub = hub
        self.channels = list(channels)
        self.owner = owner
        self.link = link
        # Called with the alert ids whose deliveries changed state (alert.progress).
        self.changed = changed
        self._tasks: list[asyncio.Task[None]] = []
        self._reports: list[Report] = []
        self._reports_arrived = asyncio.Event()
        self._reports_lost = 0
        # Per channel: None when its last hand-over passed, else why it did not.
        self.down: dict[str, str | None] = {channel.name: None for channel in self.channels}
        settings = hub.settings
        self.lease = timedelta(seconds=settings.delivery_lease_s)
        self.poll_s = settings.delivery_poll_s

    async def start(self) -> None:
        if any(isinstance(channel, Receipts) for channel in self.channels):
            self._tasks.append(asyncio.create_task(self._record_reports()))
        for channel in self.channels:
            if isinstance(channel, Receipts):
                channel.listen(self._receipt_of(channel.name))
            log.info(
                "delivery of %s through %s at %g a second (instance %s)",
                channel.name,
                channel.describe(),
                channel.per_second,
                self.owner,
            )
            self._tasks.append(asyncio.create_task(self._drain(channel)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        for channel in self.channels:
            await channel.close()

    def _receipt_of(self, channel: str) -> Callable[[str, bool, str], None]:
        def on_receipt(provider_id: str, delivered: bool, reason: str) -> None:
            if len(self._reports) >= _REPORTS_HELD:
                self._reports_lost += 1
                return
            self._reports.append(
                Report(
                    channel,
                    provider_id,
                    OutboxState.DELIVERED.value if delivered else OutboxState.FAILED.value,
                    None if delivered else reason[:ERROR_CHARS],
                    # A hand-over is recorded within its lease, or its rows are taken back.
                    time.monotonic() + self.lease.total_seconds(),
                )
            )
            self._reports_arrived.set()

        return on_receipt

    async def _record_reports(self) -> None:
        """Records the delivery reports that came in, a batch a round: at a thousand
        receipts a second, one transaction each would hold the writer they share with the
        claims and the records of hand-overs."""
        while True:
            await self._reports_arrived.wait()
            await asyncio.sleep(_REPORTS_EVERY_S)  # the round's batch fills meanwhile
            self._reports_arrived.clear()
            batch, self._reports = self._reports, []
            try:
                waiting = await self.receipts(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery reports: %d not recorded; trying again", len(batch))
                waiting = batch
            now = time.monotonic()
            kept = [report for report in waiting if report.until > now]
            lost, self._reports_lost = len(waiting) - len(kept) + self._reports_lost, 0
            if lost:
                log.warning("%d delivery reports matched no delivery handed over", lost)
            if kept:
                self._reports[:0] = kept
                self._reports_arrived.set()

    async def receipts(self, reports: list[Report]) -> list[Report]:
        """Records delivery reports in one transaction: each `sent` delivery with the report's
        channel and provider id becomes delivered, or failed with the reason. Answers the
        reports that found none: a report can overtake the record of its hand-over (the worker
        records a chunk once it is all handed over), so those wait for another round."""
        if not reports:
            return []
        found: dict[tuple[str, str], tuple[int, str | None]] = {}
        params: list[dict[str, Any]] = []
        waiting: list[Report] = []
        now = utcnow()
        async with self.hub.db.write() as session:
            for channel in {report.channel for report in reports}:
                ids = sorted({r.provider_id for r in reports if r.channel == channel})
                for start in range(0, len(ids), _REPORTS_PER_QUERY):
                    # by (channel, provider_id) alone, which ix_outbox_message_receipt
                    # answers: with the state in the query a planner may read the
                    # alert's every `sent` row instead
                    rows = await session.execute(
                        select(
                            col(OutboxMessage.id),
                            col(OutboxMessage.provider_id),
                            col(OutboxMessage.alert_id),
                            col(OutboxMessage.state),
                        ).where(
                            col(OutboxMessage.channel) == channel,
                            col(OutboxMessage.provider_id).in_(
                                ids[start : start + _REPORTS_PER_QUERY]
                            ),
                        )
                    )
                    for row_id, provider_id, alert_id, state in rows.all():
                        if state == OutboxState.SENT.value:
                            found[(channel, str(provider_id))] = (int(row_id or 0), alert_id)
            alerts: set[str] = set()
            for report in reports:
                # popped: a second report of one message finds it recorded, as it is
                hit = found.pop((report.channel, report.provider_id), None)
                if hit is None:
                    waiting.append(report)
                    continue
                params.append(
                    {"b_id": hit[0], "b_state": report.state, "b_error": report.error, "b_now": now}
                )
                if hit[1] is not None:
                    alerts.add(hit[1])
            if params:
                statement = (
                    _TABLE.update()
                    .where(
                        (_TABLE.c.id == bindparam("b_id"))
                        & (_TABLE.c.state == OutboxState.SENT.value)
                    )
                    .values(
                        state=bindparam("b_state"),
                        error=bindparam("b_error"),
                        updated_at=bindparam("b_now"),
                    )
                )
                connection = await session.connection()
                await connection.execute(statement, params)
        if alerts and self.changed is not None:
            self.changed(alerts)
        return waiting

    def readiness(self) -> dict[str, str]:
        return {
            name: "ok" if reason is None else f"down: {reason}"
            for name, reason in self.down.items()
        }

    # the loop -------------------------------------------------------------------------------

    async def _drain(self, channel: Channel) -> None:
        pace = Pace(channel.per_second)
        chunk = max(channel.concurrency, min(200, int(channel.per_second / 10)))
        # Two seconds of the channel's rate, and at most a third of the lease: a batch is
        # handed over long before its lease runs out, even at half the pace (throttled).
        seconds = min(2.0, self.lease.total_seconds() / 3)
        batch = max(chunk, min(1_000, int(channel.per_second * seconds)))
        while True:
            try:
                await self.reap(channel.name)
                claimed = await self.claim(channel.name, batch)
                if not claimed:
                    await asyncio.sleep(self.poll_s)
                    continue
                for start in range(0, len(claimed), chunk):
                    await self._hand_over(channel, pace, claimed[start : start + chunk])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery of %s: a round failed; trying again", channel.name)
                await asyncio.sleep(self.poll_s)

    async def _hand_over(self, channel: Channel, pace: Pace, messages: list[Outgoing]) -> None:
        current = await self._still_current(messages)
        gate = asyncio.Semaphore(channel.concurrency)
        answers: list[Answer] = []

        async def one(message: Outgoing) -> None:
            async with gate:
                answers.append(await self._send(channel, pace, message))

        tasks = []
        unreached: list[Outgoing] = []
        for message in messages:
            if not current.get(message.id, True):
                unreached.append(message)
                answers.append(
                    Answer(
                        message.id,
                        OutboxState.FAILED.value,
                        "superseded by a later message of the alert before it was handed over",
                    )
                )
                continue
            await pace.wait()
            tasks.append(asyncio.create_task(one(message)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        await self.record(answers)
        if unreached:
            await self.unneeded_cancels(unreached)
        alerts = {m.alert_id for m in messages if m.alert_id is not None}
        if alerts and self.changed is not None:
            self.changed(alerts)

    async def _send(self, channel: Channel, pace: Pace, message: Outgoing) -> Answer:
        settings = self.hub.settings
        try:
            provider_id = await channel.send(message)
        except Retry as error:
            if error.throttled:
                pace.slow_down()
            self._mark_down(channel.name, str(error))
            if message.attempts >= settings.delivery_max_attempts:
                reason = f"gave up after {message.attempts} attempts: {error}"
                return Answer(message.id, OutboxState.FAILED.value, reason)
            delay = back_off(
                message.attempts, settings.delivery_retry_base_s, settings.delivery_retry_max_s
            )
            return Answer(message.id, OutboxState.QUEUED.value, str(error), retry_in_s=delay)
        except Refused as error:
            return Answer(message.id, OutboxState.FAILED.value, str(error))
        if self.down.get(channel.name) is not None:
            log.warning("delivery of %s: the channel is back", channel.name)
        self.down[channel.name] = None
        return Answer(message.id, OutboxState.SENT.value, provider_id=provider_id)

    def _mark_down(self, name: str, reason: str) -> None:
        if self.down.get(name) is None:
            log.warning("delivery of %s: %s (retrying with back-off)", name, reason)
        self.down[name] = reason[:200]

    # the database ---------------------------------------------------------------------------

    async def reap(self, channel: str) -> int:
        """Deliveries of `channel` whose lease ran out, queued again at once."""
        now = utcnow()
        async with self.hub.db.write() as session:
            result: Any = await session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.state) == OutboxState.SENDING.value,
                    col(OutboxMessage.channel) == channel,
                    col(OutboxMessage.next_attempt_at) < now,
                )
                .values(
                    state=OutboxState.QUEUED.value,
                    leased_by=None,
                    next_attempt_at=now,
                    updated_at=now,
                    error="the lease ran out while it was being handed over: sent again",
                )
                .execution_options(synchronize_session=False)
            )
        taken = int(result.rowcount or 0)
        if taken:
            log.warning(
                "delivery of %s: %d deliveries taken back from an instance that stopped while "
                "handing them over (each may have reached its server once already)",
                channel,
                taken,
            )
        return taken

    async def claim(self, channel: str, limit: int) -> list[Outgoing]:
        now = utcnow()
        pick = (
            select(col(OutboxMessage.id))
            .where(
                col(OutboxMessage.state) == OutboxState.QUEUED.value,
                col(OutboxMessage.channel) == channel,
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .order_by(col(OutboxMessage.rank), col(OutboxMessage.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self.hub.db.write() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(pick.scalar_subquery()))
                .values(
                    state=OutboxState.SENDING.value,
                    leased_by=self.owner,
                    next_attempt_at=now + self.lease,
                    attempts=col(OutboxMessage.attempts) + 1,
                    updated_at=now,
                )
                .returning(
                    col(OutboxMessage.id),
                    col(OutboxMessage.rank),
                    col(OutboxMessage.channel),
                    col(OutboxMessage.address),
                    col(OutboxMessage.language),
                    col(OutboxMessage.subject),
                    col(OutboxMessage.text),
                    col(OutboxMessage.purpose),
                    col(OutboxMessage.registration_id),
                    col(OutboxMessage.alert_id),
                    col(OutboxMessage.message_identifier),
                    col(OutboxMessage.attempts),
                )
                .execution_options(synchronize_session=False)
            )
            rows = sorted(result.all(), key=lambda row: (row[1], row[0]))
        claimed = []
        for row in rows:
            assert row[0] is not None  # a claimed row has its id
            claimed.append(
                Outgoing(
                    id=row[0],
                    channel=row[2],
                    address=row[3],
                    language=row[4],
                    subject=row[5],
                    text=row[6],
                    purpose=row[7],
                    registration_id=row[8],
                    alert_id=row[9],
                    message_identifier=row[10],
                    attempts=int(row[11]),
                    unsubscribe=self.link(row[8]) if row[8] is not None else None,
                )
            )
        return claimed

    async def _still_current(self, messages: list[Outgoing]) -> dict[int, bool]:
        """For each alert delivery, whether its message is still the alert's latest."""
        alert_ids = {m.alert_id for m in messages if m.alert_id is not None}
        if not alert_ids:
            return {}
        async with self.hub.db.read() as session:
            latest = select(
                col(AlertMessage.alert_id), func.max(col(AlertMessage.number)).label("number")
            ).where(col(AlertMessage.alert_id).in_(alert_ids))
            newest = latest.group_by(col(AlertMessage.alert_id)).subquery()
            found = await session.execute(
                select(col(AlertMessage.alert_id), col(AlertMessage.identifier)).join(
                    newest,
                    (col(AlertMessage.alert_id) == newest.c.alert_id)
                    & (col(AlertMessage.number) == newest.c.number),
                )
            )
            current = {alert_id: identifier for alert_id, identifier in found.all()}
        return {
            m.id: current.get(m.alert_id) == m.message_identifier
            for m in messages
            if m.alert_id is not None
        }

    async def unneeded_cancels(self, unreached: list[Outgoing]) -> None:
        """A Cancel is queued for whoever was being handed the alert when it was cancelled;
        those this worker then did not hand it to (superseded in its hands) need no Cancel:
        its deliveries to them go, unless another delivery of the alert reached them."""
        async with self.hub.db.write() as session:
            cancels = set(
                await session.scalars(
                    select(col(AlertMessage.identifier)).where(
                        col(AlertMessage.alert_id).in_({m.alert_id for m in unreached}),
                        col(AlertMessage.msg_type) == MsgType.CANCEL.value,
                    )
                )
            )
            if not cancels:
                return
            for message in unreached:
                handed = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        col(OutboxMessage.alert_id) == message.alert_id,
                        col(OutboxMessage.registration_id) == message.registration_id,
                        col(OutboxMessage.channel) == message.channel,
                        col(OutboxMessage.state).in_(_HANDED),
                        col(OutboxMessage.id) != message.id,
                    )
                )
                if handed:
                    continue
                await session.execute(
                    delete(OutboxMessage)
                    .where(
                        col(OutboxMessage.alert_id) == message.alert_id,
                        col(OutboxMessage.registration_id) == message.registration_id,
                        col(OutboxMessage.channel) == message.channel,
                        col(OutboxMessage.state) == OutboxState.QUEUED.value,
                        col(OutboxMessage.message_identifier).in_(cancels),
                    )
                    .execution_options(synchronize_session=False)
                )

    async def record(self, answers: list[Answer]) -> None:
        """The chunk's answers in one transaction; a row whose lease was taken back meanwhile
        (this instance was too slow) is left to its new holder."""
        if not answers:
            return
        now = utcnow()
        params = [
            {
                "b_id": answer.id,
                "b_state": answer.state,
                "b_error": None if answer.error is None else answer.error[:ERROR_CHARS],
                "b_provider": (
                    None if answer.provider_id is None else answer.provider_id[:PROVIDER_ID_CHARS]
                ),
                "b_next": now + timedelta(seconds=answer.retry_in_s or 0),
                "b_now": now,
            }
            for answer in answers
        ]
        statement = (
            _TABLE.update()
            .where(
                (_TABLE.c.id == bindparam("b_id"))
                & (_TABLE.c.state == OutboxState.SENDING.value)
                & (_TABLE.c.leased_by == self.owner)
            )
            .values(
                state=bindparam("b_state"),
                error=bindparam("b_error"),
                provider_id=bindparam("b_provider"),
                next_attempt_at=bindparam("b_next"),
                updated_at=bindparam("b_now"),
                leased_by=None,
            )
        )
        async with self.hub.db.write() as session:
            connection = await session.connection()
            await connection.execute(statement, params)
