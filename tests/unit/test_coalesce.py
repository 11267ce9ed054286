"""hub/convoys/coalesce.py: per incident at most N `convoy.positions` a second, each with the
latest position of every vehicle that moved since the previous one.

The coalescer's clock and its sleep are replaced (in that module only: the event loop keeps
the real ones), so the tests say how long it waits instead of waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import cast

import pytest

from hub.convoys import coalesce
from hub.convoys.coalesce import PositionCoalescer
from hub.realtime.notify import Notifier
from models.events import ConvoyPositions, PositionPublic
from tests.unit.clock import Clock


class Recorder(Notifier):
    """A notifier without a socket server that keeps what it was asked to send."""

    def __init__(self) -> None:
        super().__init__(None)
        self.sent: list[tuple[str, ConvoyPositions, str]] = []

    async def emit(self, name: str, data: Mapping[str, object], room: str) -> None:
        # The coalescer emits nothing but `convoy.positions` (hub.public.convoy_positions).
        self.sent.append((name, cast(ConvoyPositions, data), room))


class Sleeps:
    """asyncio for the coalescer: its sleeps are noted and pass at once, moving the clock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.asked: list[float] = []
        self.get_running_loop = asyncio.get_running_loop

    async def sleep(self, delay: float) -> None:
        self.asked.append(delay)
        self.clock.advance(delay)
        await asyncio.sleep(0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(coalesce, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Sleeps:
    fake = Sleeps(clock)
    monkeypatch.setattr(coalesce, "asyncio", fake)
    return fake


@pytest.fixture
def notifier() -> Recorder:
    return Recorder()


@pytest.fixture
def coalescer(notifier: Recorder) -> Iterator[PositionCoalescer]:
    made = PositionCoalescer(notifier, per_second=4)
    yield made
    assert made._timers == {}, "a flush is still scheduled at the end of the test"


def fix(vehicle_id: str, ts: str, lon: float = 4.35) -> PositionPublic:
    """A complete position of `vehicle_id` at `ts`; only the vehicle, time and lon vary."""
    return {
        "vehicle_id": vehicle_id,
        "convoy_id": "c1",
        "lat": 50.85,
        "lon": lon,
        "ts": ts,
        "speed": None,
        "heading": None,
        "accuracy": None,
    }


def position(vehicle_id: str, second: int, lon: float = 4.35) -> PositionPublic:
    return fix(vehicle_id, f"2024-05-01T10:00:{second:02d}Z", lon)


async def settle() -> None:
    """Let the scheduled flushes run (each takes a few turns of the loop)."""
    for _ in range(10):
        await asyncio.sleep(0)


def sent_positions(notifier: Recorder) -> list[list[tuple[str, str]]]:
    return [
        [(p["vehicle_id"], p["ts"][-3:-1]) for p in data["positions"]]
        for _, data, _ in notifier.sent
    ]


async def test_a_message_carries_the_latest_position_of_each_vehicle(
    coalescer: PositionCoalescer, notifier: Recorder, sleeps: Sleeps
) -> None:
    coalescer.add("i1", position("v1", 1))
    coalescer.add("i1", position("v2", 1))
    coalescer.add("i1", position("v1", 3))
    coalescer.add("i1", position("v1", 2))  # late: older than the one waiting, so dropped
    await settle()
    assert notifier.sent == [
        (
            "convoy.positions",
            {"incident_id": "i1", "positions": [position("v1", 3), position("v2", 1)]},
            "incident:i1",
        )
    ]
    assert sleeps.asked == []  # the first message of an incident goes at once


async def test_each_incident_has_its_own_messages_and_its_own_room(
    coalescer: PositionCoalescer, notifier: Recorder, sleeps: Sleeps
) -> None:
    coalescer.add("i1", position("v1", 1))
    coalescer.add("i2", position("v9", 1))
    await settle()
    assert sorted((data["incident_id"], room) for _, data, room in notifier.sent) == [
        ("i1", "incident:i1"),
        ("i2", "incident:i2"),
    ]
    # i1 just sent: a new i1 position waits, while i2's rhythm is its own.
    coalescer.add("i1", position("v1", 2))
    await settle()
    assert sleeps.asked == [pytest.approx(0.25)]


async def test_at_most_per_second_messages_and_what_comes_meanwhile_shares_one(
    coalescer: PositionCoalescer, notifier: Recorder, sleeps: Sleeps, clock: Clock
) -> None:
    coalescer.add("i1", position("v1", 1))
    await settle()
    clock.advance(0.1)
    coalescer.add("i1", position("v1", 2))
    coalescer.add("i1", position("v2", 2))  # while the second message waits
    coalescer.add("i1", position("v1", 3))
    await settle()
    assert sleeps.asked == [pytest.approx(0.15)]  # 4/s: 0.25 s after the first message
    assert sent_positions(notifier) == [[("v1", "01")], [("v1", "03"), ("v2", "02")]]
    # A position after a quiet spell longer than the interval goes at once.
    clock.advance(0.3)
    coalescer.add("i1", position("v3", 4))
    await settle()
    assert sleeps.asked == [pytest.approx(0.15)]
    assert sent_positions(notifier)[-1] == [("v3", "04")]


async def test_nothing_is_sent_for_an_incident_without_new_positions(
    coalescer: PositionCoalescer, notifier: Recorder, sleeps: Sleeps, clock: Clock
) -> None:
    coalescer.add("i1", position("v1", 1))
    await settle()
    clock.advance(10)
    await settle()
    assert len(notifier.sent) == 1


async def test_a_rate_of_zero_sends_every_position_at_once(
    notifier: Recorder, sleeps: Sleeps
) -> None:
    coalescer = PositionCoalescer(notifier, per_second=0)
    for second in range(3):
        coalescer.add("i1", position("v1", second))
        await settle()
    assert sleeps.asked == []
    assert sent_positions(notifier) == [[("v1", "00")], [("v1", "01")], [("v1", "02")]]


async def test_close_cancels_the_flushes_waiting_to_be_sent(
    coalescer: PositionCoalescer, notifier: Recorder, clock: Clock
) -> None:
    """With the real asyncio.sleep: the wait is cancelled, never waited."""
    coalescer.add("i1", position("v1", 1))
    await settle()
    before = asyncio.all_tasks()
    coalescer.add("i1", position("v1", 2))  # waits 0.25 s (real time) for its turn
    [waiting] = asyncio.all_tasks() - before
    await asyncio.sleep(0)
    await coalescer.close()
    await settle()
    assert waiting.cancelled()
    assert len(notifier.sent) == 1


async def test_send_times_of_idle_incidents_are_forgotten_past_a_thousand(
    coalescer: PositionCoalescer, notifier: Recorder, sleeps: Sleeps, clock: Clock
) -> None:
    for n in range(1_001):
        coalescer.add(f"i{n}", position("v1", 1))
    await settle()
    assert len(notifier.sent) == 1_001
    clock.advance(1)  # all of them idle for longer than the interval
    coalescer.add("busy", position("v1", 2))
    await settle()
    # Memory is only observable from inside: what is left is the one that just sent.
    assert list(coalescer._last_sent) == ["busy"]


async def test_the_newer_position_wins_even_within_the_same_second(
    coalescer: PositionCoalescer, notifier: Recorder, sleeps: Sleeps
) -> None:
    coalescer.add("i1", fix("v1", "2024-05-01T10:00:00Z"))
    coalescer.add("i1", fix("v1", "2024-05-01T10:00:00.500000Z"))
    await settle()
    [(_, data, _)] = notifier.sent
    assert data["positions"] == [fix("v1", "2024-05-01T10:00:00.500000Z")]
