"""hub/realtime/lightweight.py: the queue and the event that replace asyncio's in every socket
behave as asyncio's do for what uvicorn and python-engineio call, and keep nothing while idle.

Each behaviour is checked on asyncio.Queue (or Event) too, so the tests pin the stock
behaviour the light ones stand in for, not a behaviour of their own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.realtime.lightweight import LightEvent, LightQueue

QUEUES = [pytest.param(LightQueue, id="light"), pytest.param(asyncio.Queue, id="asyncio")]
EVENTS = [pytest.param(LightEvent, id="light"), pytest.param(asyncio.Event, id="asyncio")]


async def test_an_idle_queue_holds_no_deque_and_no_future() -> None:
    queue: LightQueue[int] = LightQueue()
    assert (queue._items, queue._getters, queue._joiners) == (None, None, None)
    queue.put_nowait(1)
    assert queue.get_nowait() == 1
    waiter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait(2)
    assert await waiter == 2
    assert (queue._items, queue._getters) == (None, None)


@pytest.mark.parametrize("make", QUEUES)
async def test_items_come_out_in_order(make: Any) -> None:
    queue = make()
    assert queue.empty() and queue.qsize() == 0
    for item in range(5):
        await queue.put(item)
    queue.put_nowait(None)
    assert queue.qsize() == 6 and not queue.empty()
    assert [await queue.get() for _ in range(3)] == [0, 1, 2]
    assert [queue.get_nowait() for _ in range(3)] == [3, 4, None]
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


@pytest.mark.parametrize("make", QUEUES)
async def test_waiting_getters_are_served_first_come(make: Any) -> None:
    queue = make()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("a")
    queue.put_nowait("b")
    assert list(await asyncio.wait_for(asyncio.gather(first, second), 5)) == ["a", "b"]


@pytest.mark.parametrize("make", QUEUES)
async def test_a_cancelled_getter_loses_nothing(make: Any) -> None:
    """A getter cancelled by a timeout (python-engineio's long-polling `poll` waits in
    wait_for) takes no item with it; one woken and then cancelled hands the wake-up on."""
    queue = make()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    woken = asyncio.ensure_future(queue.get())
    other = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("kept")
    woken.cancel()  # woken by the put, cancelled before it ran
    assert await asyncio.wait_for(other, 5) == "kept"
    assert queue.empty()


@pytest.mark.parametrize("make", QUEUES)
async def test_join_waits_for_every_task_done(make: Any) -> None:
    queue = make()
    await asyncio.wait_for(queue.join(), 5)  # nothing unfinished
    queue.put_nowait(1)
    queue.put_nowait(2)
    joined = asyncio.ensure_future(queue.join())
    queue.get_nowait()
    queue.task_done()
    await asyncio.sleep(0.01)
    assert not joined.done()
    queue.get_nowait()
    queue.task_done()
    await asyncio.wait_for(joined, 5)
    with pytest.raises(ValueError):
        queue.task_done()


@pytest.mark.parametrize("make", EVENTS)
async def test_an_event_wakes_every_waiter(make: Any) -> None:
    event = make()
    assert not event.is_set()
    waiters = [asyncio.ensure_future(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    assert list(await asyncio.wait_for(asyncio.gather(*waiters), 5)) == [True, True, True]
    assert await event.wait() is True  # set: no wait
    event.clear()
    assert not event.is_set()
    late = asyncio.ensure_future(event.wait())
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(late), 0.01)
    event.set()
    assert await asyncio.wait_for(late, 5) is True


async def test_a_set_event_holds_no_waiters() -> None:
    event = LightEvent(is_set=True)
    assert event.is_set() and event._waiters is None
    event.clear()
    cancelled = asyncio.ensure_future(event.wait())
    await asyncio.sleep(0)
    assert event._waiters is not None
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert event._waiters is None
