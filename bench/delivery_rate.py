"""Delivery (issue 13): how fast the outbox is drained, and how close SMS keep to their rate.

Each case: a throw-away database, a sink on 127.0.0.1 (a real SMTP server, aiosmtpd in a
thread, or a real SMPP 3.4 SMSC, smpp34.Server in this process, sending a delivery receipt
per part as an SMSC does), one or two `python -m hub serve` instances configured for it
(two instances drain one outbox: PostgreSQL only), an incident with its perimeter
(tests/test_alerts.py `Case`), N registrations inside it (bench/delivery.py), then an alert
on one channel sent over HTTP as a crisis cell sends it; the send writes the deliveries in
its transaction and the instances' workers hand them over.

Measured at the sink, by the time each message reached it: deliveries handed over a second
(from the first to the last; "from send" counts from the send's answer), the per-second
counts (full seconds only: min, median, max), and once every delivery is settled in the
database (`sent`; SMS: `delivered` once its receipt came), how long that took (none when
the receipts still lag 15 s after the sink had everything: `states` then says how far). The hubs'
CPU seconds come from /proc.

    python bench/delivery_rate.py [--deliveries 20000] [--rate-seconds 30] [--sms-rate 100]
        [--cases email-sqlite-1,sms-postgresql-2,rate-sqlite-1,...]

"lifted" cases set ALERT_EMAIL_PER_SECOND / ALERT_SMS_PER_SECOND to 1e6; "rate" cases set
ALERT_SMS_PER_SECOND to --sms-rate and send rate x seconds SMS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import smpp34
from aiosmtpd.controller import Controller
from common import start_hub, table, throwaway_database, workdir, write_result
from delivery import registrations
from sqlalchemy import func, select
from sqlmodel import col

from hub.alerts.registrations import store
from hub.db import driver_connection
from models.base import utcnow
from models.outbox import OutboxMessage
from tests.live import HubProcess, free_port
from tests.seed import Seeder
from tests.test_alerts import Case

LON, LAT = 4.0, 50.5  # the incident's 0.1-degree square (Case) starts here
LIFTED = 1_000_000.0
SETTLE_TIMEOUT_S = 150.0
RECEIPT_WAIT_S = 15.0
CASE_TIMEOUT_S = SETTLE_TIMEOUT_S + 120.0
DEFAULT_CASES = (
    "email-sqlite-1,email-postgresql-1,email-postgresql-2,"
    "sms-sqlite-1,sms-postgresql-1,sms-postgresql-2,"
    "rate-sqlite-1,rate-postgresql-1,rate-postgresql-2"
)


# the sinks -----------------------------------------------------------------------------------


class SmtpSink:
    """A real SMTP server (aiosmtpd in its own thread) that notes when each message came."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        with self._lock:
            self.times.extend(now for _ in envelope.rcpt_tos)
        return "250 queued as sink"

    def arrivals(self) -> list[float]:
        with self._lock:
            return list(self.times)

    async def start(self) -> None:
        await asyncio.to_thread(self.controller.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self.controller.stop)


class SmscSink:
    """A real SMPP 3.4 SMSC (smpp34.Server, in this event loop): it accepts every submit_sm,
    notes when each delivery's first part came, and sends each part's receipt (DELIVRD) to
    the session that submitted it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = smpp34.Server("127.0.0.1", self.port, system_id="BENCHSMSC")
        self.times: list[float] = []
        self.parts = 0
        self.binds = 0
        self._sessions: dict[str, smpp34.Esme] = {}
        self._receipts: asyncio.Queue[tuple[str, str, str, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def url(self) -> str:
        return f"smpp://bench:b3nch@127.0.0.1:{self.port}"

    def arrivals(self) -> list[float]:
        return list(self.times)

    async def start(self) -> None:
        await self.server.start()
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._report())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.stop()

    async def _run(self) -> None:
        while True:
            event = await self.server.next()
            if isinstance(event, smpp34.Esme):
                self._sessions[event.session_id] = event
                self.binds += 1
            elif isinstance(event, smpp34.SubmitSmEvent):
                self.parts += 1
                message_id = f"smsc-{self.parts}"
                event.accept(message_id)
                body = event.short_message
                # a delivery is counted by its first part (no UDH, or part number 1)
                if not event.esm_class & 0x40 or (len(body) > 5 and body[5] == 1):
                    self.times.append(time.monotonic())
                self._receipts.put_nowait(
                    (event.session_id, event.source_addr, event.destination_addr, message_id)
                )

    async def _report(self) -> None:
        while True:
            session_id, source, destination, message_id = await self._receipts.get()
            esme = self._sessions.get(session_id)
            if esme is None:
                continue
            text = (
                f"id:{message_id} sub:001 dlvrd:001 submit date:2612020400 done date:2612020400"
                " stat:DELIVRD err:000 text:"
            )
            try:
                await esme.deliver_sm(
                    source, text.encode(), source_addr=destination, esm_class=0x04
                )
            except (smpp34.SmppError, OSError):
                self._sessions.pop(session_id, None)


# one case -----------------------------------------------------------------------------------


@dataclass
class Spec:
    kind: str  # email | sms | rate
    backend: str
    instances: int
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"{self.kind}-{self.backend}-{self.instances}"

    @property
    def channel(self) -> str:
        return "email" if self.kind == "email" else "sms"


def parse_case(text: str) -> Spec:
    kind, backend, instances = text.split("-")
    if kind not in ("email", "sms", "rate") or backend not in ("sqlite", "postgresql"):
        raise SystemExit(f"unknown case {text!r}")
    if backend == "sqlite" and instances != "1":
        raise SystemExit("SQLite has one writer: one instance only")
    return Spec(kind, backend, int(instances))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_second(times: list[float]) -> list[int]:
    """Arrivals in each full second from the first one on (the last, partial second left
    out)."""
    if not times:
        return []
    first = times[0]
    seconds = int(times[-1] - first)
    counts = [0] * seconds
    for t in times:
        index = int(t - first)
        if index < seconds:
            counts[index] += 1
    return counts


async def states(seed: Seeder, alert_id: str) -> dict[str, int]:
    async with seed.hub.db.read() as session:
        found = await session.execute(
            select(col(OutboxMessage.state), func.count())
            .where(col(OutboxMessage.alert_id) == alert_id)
            .group_by(col(OutboxMessage.state))
        )
        return {str(state): int(count) for state, count in found.all()}


@contextmanager
def hubs(url: str, log_dir: Path, count: int, env: dict[str, Any]) -> Iterator[list[HubProcess]]:
    started: list[HubProcess] = []
    try:
        for _ in range(count):
            started.append(start_hub(url, log_dir, **env))
        yield started
    finally:
        for hub in started:
            hub.stop()


async def run_case(spec: Spec, url: str, where: Path, n: int, rate: float) -> dict[str, Any]:
    sink: SmtpSink | SmscSink = SmtpSink() if spec.channel == "email" else SmscSink()
    await sink.start()
    env: dict[str, Any] = {"delivery_poll_s": 0.05}
    if spec.channel == "email":
        env |= {"smtp_url": sink.url, "alert_email_per_second": LIFTED}
    else:
        env |= {
            "smpp_url": sink.url,
            "alert_sms_per_second": rate if spec.kind == "rate" else LIFTED,
        }
    seed = Seeder(url)
    load_before = os.getloadavg()
    try:
        # start (and stop) the hubs off the loop: the SMSC answers in it meanwhile
        manager = hubs(url, where, spec.instances, env)
        processes = await asyncio.to_thread(manager.__enter__)
        try:
            case = await Case(processes[0], seed, lon=LON, lat=LAT).build()
            async with seed.hub.db.write() as session:
                driver = await driver_connection(session)
                people = registrations(n, LON + 0.001, LAT + 0.001, 0.098)
                await store(driver, seed.hub.db.is_sqlite, people, replace=False, now=utcnow())
            cpu_before = [cpu_seconds(p.process.pid) for p in processes if p.process]
            draft = await case.draft(channels=[spec.channel])
            asked = time.monotonic()
            sent = await case.act(draft, "send")
            answered = time.monotonic()
            expected = int(sent["progress"][spec.channel]["queued"])
            final = "delivered" if spec.channel == "sms" else "sent"
            settled: dict[str, int] = {}
            deadline = answered + SETTLE_TIMEOUT_S
            complete: float | None = None  # when the sink had every delivery
            done: float | None = None  # when every delivery was settled in the database
            while time.monotonic() < deadline:
                settled = await states(seed, sent["id"])
                if settled.get(final, 0) + settled.get("failed", 0) >= expected:
                    done = time.monotonic()
                    break
                if complete is None and len(sink.arrivals()) >= expected:
                    complete = time.monotonic()
                if complete is not None and time.monotonic() > complete + RECEIPT_WAIT_S:
                    break  # the receipts lag: what they have done by then is in `states`
                await asyncio.sleep(0.25)
            cpu_after = [cpu_seconds(p.process.pid) for p in processes if p.process]
        finally:
            await asyncio.to_thread(manager.__exit__, None, None, None)
    finally:
        await seed.close()
        await sink.stop()
    times = sorted(sink.arrivals())
    counts = per_second(times)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    result: dict[str, Any] = {
        "case": spec.name,
        "channel": spec.channel,
        "backend": spec.backend,
        "instances": spec.instances,
        "limit_per_s": env.get("alert_email_per_second") or env.get("alert_sms_per_second"),
        "queued": expected,
        "handed": len(times),
        "send_s": answered - asked,
        "per_s": (len(times) - 1) / span if span else None,
        "from_send_per_s": len(times) / (times[-1] - answered) if times else None,
        "sec_min": min(counts) if counts else None,
        "sec_median": statistics.median(counts) if counts else None,
        "sec_max": max(counts) if counts else None,
        "settled_s": None if done is None else done - answered,
        "states": settled,
        "hub_cpu_s": round(sum(cpu_after) - sum(cpu_before), 1),
        "per_second": counts,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }
    if isinstance(sink, SmscSink):
        result |= {"parts": sink.parts, "binds": sink.binds}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES)
    parser.add_argument("--deliveries", type=int, default=20_000, help="lifted cases")
    parser.add_argument("--sms-rate", type=float, default=100.0, help="rate cases")
    parser.add_argument("--rate-seconds", type=int, default=30, help="rate cases")
    args = parser.parse_args(argv)
    where = workdir()
    rows = []
    for spec in [parse_case(text) for text in args.cases.split(",")]:
        n = int(args.sms_rate * args.rate_seconds) if spec.kind == "rate" else args.deliveries
        with throwaway_database(spec.backend, where) as url:
            coro = run_case(spec, url, where, n, args.sms_rate)
            try:
                result = asyncio.run(asyncio.wait_for(coro, CASE_TIMEOUT_S))
            except TimeoutError:
                print(f"{spec.name}: timed out after {CASE_TIMEOUT_S:.0f} s")
                rows.append({"case": spec.name, "handed": None, "timed_out": True})
                continue
        load = ", ".join(f"{x:.1f}" for x in result["load_after"])
        states_ = result["states"]
        print(f"{spec.name}: {result['handed']} handed over, states {states_}, load {load}")
        rows.append(result)
        write_result("delivery_rate", {"rows": rows})
    columns = [
        "case",
        "limit_per_s",
        "queued",
        "handed",
        "send_s",
        "per_s",
        "from_send_per_s",
        "sec_min",
        "sec_median",
        "sec_max",
        "settled_s",
        "hub_cpu_s",
    ]
    print(table(rows, columns, "delivery: deliveries handed over to a local sink"))
    write_result("delivery_rate", {"rows": rows})


if __name__ == "__main__":
    main()
