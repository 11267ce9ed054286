"""Tokens read at connect, many in one query (issue 18).

Each connect reads its token's principal (token -> user -> organisation). One read each cost
the SQLite hub five hops to aiosqlite's thread (cursor, execute, fetch, close, rollback), and
that was a third of the event loop while thousands of sockets connected (py-spy). Here the
connects that arrive while a read is in flight wait for the next read, which answers all of
them in one query (hub/auth.py's principals_until); a connect that finds no read in flight
starts one at once, so a lone connect waits for nobody.

Nothing is cached: every read is a query made after its connect asked, so it sees every
revocation committed before that (the handlers' short-lived cache, and the re-read after a
revocation applied during a connect, are hub/realtime/handlers.py's)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from hub.auth import MAX_TOKENS_PER_READ, Principal, principals_until
from hub.db import Database

Found = tuple[Principal, datetime | None]


class PrincipalReads:
    def __init__(self, db: Database, max_batch: int = MAX_TOKENS_PER_READ) -> None:
        self.db = db
        self.max_batch = max_batch
        self._waiting: dict[str, list[asyncio.Future[Found | None]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.reads = 0  # queries made
        self.tokens = 0  # tokens they answered

    async def read(self, raw: str) -> Found | None:
        """The token's principal and its end (principal_until's answer), read after now."""
        future: asyncio.Future[Found | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(raw, []).append(future)
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read_all())
        return await future

    async def _read_all(self) -> None:
        try:
            while self._waiting:
                batch: dict[str, list[asyncio.Future[Found | None]]] = {}
                for raw in list(self._waiting)[: self.max_batch]:
                    batch[raw] = self._waiting.pop(raw)
                try:
                    async with self.db.read() as session:
                        found = await principals_until(session, batch)
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
                self.tokens += len(batch)
                for raw, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(found.get(raw))
        finally:
            self._reader = None
            # Cancelled (the hub stopping): nobody may wait for ever.
            for futures in self._waiting.values():
                for future in futures:
                    future.cancel()
            self._waiting.clear()
