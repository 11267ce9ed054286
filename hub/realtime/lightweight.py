"""A queue and an event for one connection, smaller than asyncio's while the connection idles.

An asyncio.Queue makes three deques and an Event (a fourth) when it is made, an asyncio.Event
one more; an empty deque is ~380 bytes and its block as much again (tracemalloc). Each socket
of the hub had two queues (uvicorn's websocket protocol, Engine.IO's socket) and three events:
~6.8 KB of ~40 KB per idle socket, used by none while it idles. These make their deque when an
item arrives and drop it when the last leaves, and a future only while somebody waits.

They are what uvicorn's websocket protocol and python-engineio's socket call of asyncio's
(hub/realtime/internals.py swaps them in): unbounded, so `put` never waits, and `get_nowait`
raises asyncio.QueueEmpty as asyncio's does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class LightQueue(Generic[T]):
    """asyncio.Queue's put, put_nowait, get, get_nowait, empty, qsize, task_done and join, with
    no bound: items in a deque made by the first put and dropped when empty."""

    __slots__ = ("_getters", "_items", "_joiners", "_unfinished")

    def __init__(self) -> None:
        self._items: deque[T] | None = None
        self._getters: list[asyncio.Future[None]] | None = None
        self._unfinished = 0
        self._joiners: list[asyncio.Future[None]] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items is not None else 0

    def empty(self) -> bool:
        return self._items is None

    def put_nowait(self, item: T) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        self._unfinished += 1
        self._wake_getter()

    async def put(self, item: T) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> T:
        items = self._items
        if items is None:
            raise asyncio.QueueEmpty
        item = items.popleft()
        if not items:
            self._items = None
        return item

    async def get(self) -> T:
        # As asyncio.Queue.get: a waiter is only woken, the item stays queued until taken, so
        # a getter cancelled after its wake-up loses nothing (the next one is woken instead).
        while self._items is None:
            getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                self._forget_getter(getter)
                if self._items is not None and not getter.cancelled():
                    self._wake_getter()
                raise
            self._forget_getter(getter)
        return self.get_nowait()

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._joiners is not None:
            for joiner in self._joiners:
                if not joiner.done():
                    joiner.set_result(None)
            self._joiners = None

    async def join(self) -> None:
        if self._unfinished > 0:
            joiner: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if self._joiners is None:
                self._joiners = []
            self._joiners.append(joiner)
            await joiner

    def _wake_getter(self) -> None:
        getters = self._getters
        while getters:
            getter = getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break
        if not getters:
            self._getters = None

    def _forget_getter(self, getter: asyncio.Future[None]) -> None:
        getters = self._getters
        if getters is not None:
            if getter in getters:
                getters.remove(getter)
            if not getters:
                self._getters = None


class LightEvent:
    """asyncio.Event's set, clear, is_set and wait, with the waiters' list made only while
    somebody waits."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, *, is_set: bool = False) -> None:
        self._value = is_set
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if not self._value:
            self._value = True
            waiters, self._waiters = self._waiters, None
            for waiter in waiters or ():
                if not waiter.done():
                    waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
                if not self._waiters:
                    self._waiters = None
