"""Shared join snapshots (hub/realtime/snapshots.py): a unit with no I/O, its reads stand-ins."""

from __future__ import annotations

import asyncio

import pytest

from hub.realtime.snapshots import SharedSnapshots
from models.events import Snapshot


def snapshot(tag: str) -> Snapshot:
    """A snapshot told apart by its (empty) feed list's identity, kept in MADE by tag."""
    made: Snapshot = {
        "anchors": {"type": "FeatureCollection", "features": []},
        "feed": [],
        "convoys": [],
        "contacts": [],
        "plans": [],
    }
    MADE[tag] = made
    return made


MADE: dict[str, Snapshot] = {}


async def test_joiners_at_one_seq_share_one_read() -> None:
    shared = SharedSnapshots()
    started = asyncio.Event()
    release = asyncio.Event()
    reads = 0

    async def read() -> Snapshot:
        nonlocal reads
        reads += 1
        started.set()
        await release.wait()
        return snapshot(f"read {reads}")

    first = asyncio.create_task(shared.get("i1", 7, read))
    await started.wait()
    others = [asyncio.create_task(shared.get("i1", 7, read)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(first, *others)
    assert reads == 1 and shared.reads == 1 and shared.shared == 50
    assert all(r["feed"] is MADE["read 1"]["feed"] for r in results)
    # each caller holds its own top level: adding `online` to one changes no other
    results[0]["online"] = []
    assert "online" not in results[1]


async def test_a_new_seq_moved_positions_or_age_read_again() -> None:
    shared = SharedSnapshots(max_age=60)
    count = 0

    async def read() -> Snapshot:
        nonlocal count
        count += 1
        return snapshot(str(count))

    await shared.get("i1", 1, read)
    await shared.get("i1", 1, read)
    assert count == 1
    await shared.get("i1", 2, read)  # a new seq
    assert count == 2
    shared.positions_moved("i1")  # a convoy.positions delivered: positions changed
    await shared.get("i1", 2, read)
    assert count == 3
    await shared.get("i1", 2, read)
    assert count == 3
    aged = SharedSnapshots(max_age=0)
    await aged.get("i1", 1, read)
    await asyncio.sleep(0.01)
    await aged.get("i1", 1, read)
    assert count == 5


async def test_a_failed_read_fails_only_its_caller_and_waiters_read_their_own() -> None:
    shared = SharedSnapshots()
    release = asyncio.Event()

    async def broken() -> Snapshot:
        await release.wait()
        raise RuntimeError("database gone")

    async def fine() -> Snapshot:
        return snapshot("own")

    first = asyncio.create_task(shared.get("i1", 3, broken))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(shared.get("i1", 3, fine))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(RuntimeError):
        await first
    assert (await waiter)["feed"] is MADE["own"]["feed"]


async def test_only_so_many_incidents_are_kept() -> None:
    shared = SharedSnapshots(kept=3)

    async def read() -> Snapshot:
        return snapshot("x")

    for number in range(10):
        await shared.get(f"i{number}", 1, read)
    assert shared.reads == 10
    await shared.get("i9", 1, read)
    await shared.get("i0", 1, read)  # long evicted
    assert shared.reads == 11
