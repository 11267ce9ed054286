"""Reads of many callers in one query (issue 18).

While thousands of sockets connect and join at once, each read one row or a few (its token's
principal, its role in the incident, the events it missed), and each read cost the SQLite hub
five hops to aiosqlite's thread (cursor, execute, fetch, close, rollback): a third of the
event loop (py-spy). A BatchedReads makes the callers that arrive while its read is in
flight wait for the next read, which answers all of them in one query; a caller that finds
no read in flight starts one at once, so a lone caller waits for nobody.

Nothing is cached: every answer comes from a query begun after its caller asked, so it sees
whatever was committed before the caller asked (a revoked token, a removed member, the
events up to the seq the caller read), as a read of its own would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import Database

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BatchedReads(Generic[K, V]):
    """`read_many(session, keys)` answers many keys in one query, each key absent from its
    answer having none (None for its caller); at most `max_batch` keys a query."""

    def __init__(
        self,
        db: Database,
        read_many: Callable[[AsyncSession, list[K]], Awaitable[dict[K, V]]],
        max_batch: int,
    ) -> None:
        self.db = db
        self.read_many = read_many
        self.max_batch = max_batch
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.reads = 0  # queries made
        self.keys = 0  # keys they answered

    async def read(self, key: K) -> V | None:
        """The key's answer, from a query begun after now."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._reader is None:
            self._reader = loop.create_task(self._read_all())
        return await future

    async def _read_all(self) -> None:
        try:
            while self._waiting:
                batch: dict[K, list[asyncio.Future[V | None]]] = {}
                for key in list(self._waiting)[: self.max_batch]:
                    batch[key] = self._waiting.pop(key)
                try:
                    async with self.db.read() as session:
                        found = await self.read_many(session, list(batch))
                except BaseException as error:
                    for futures in batch.values():
                        for future in futures:
                            if future.done():
                                pass
                            elif isinstance(error, Exception):
                                future.set_exception(error)
                            else:
                                future.cancel()
                    if not isinstance(error, Exception):
                        raise
                    continue
                self.reads += 1
                self.keys += len(batch)
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(found.get(key))
        finally:
            self._reader = None
            # Cancelled (the hub stopping): nobody may wait for ever.
            for futures in self._waiting.values():
                for future in futures:
                    future.cancel()
            self._waiting.clear()
