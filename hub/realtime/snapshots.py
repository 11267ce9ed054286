"""Join snapshots shared by the joiners of one incident (issue 18).

After a restart thousands of clients join at once, and each join used to read the whole
incident (anchors, a hundred feed entries, convoys with their vehicles, contacts, plans): the
same rows, once per joiner. A snapshot is fixed by the incident's seq, but for one thing: the
vehicles' last positions, which move without a seq (they are `convoy.positions`, not events).
So a snapshot is shared while the seq is the same, no `convoy.positions` of the incident was
delivered on this instance since its read began (hub/realtime/fanout.py tells), and for at
most MAX_AGE seconds; joiners arriving while it is being read wait for that one read instead
of starting their own.

Correctness is the join's (hub/actions/join.py): a joiner enters the room before it reads the
incident's seq, so every event after the snapshot's seq reaches it live; a snapshot of an older
seq is never used, and a position at most MAX_AGE old is replaced by the next live one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from models.events import Snapshot

# How old a shared snapshot may be, for its vehicles' positions (which have no seq).
MAX_AGE = 1.0
# Incidents whose last snapshot is kept (each a few hundred KB at most).
KEPT = 256


@dataclass
class _Entry:
    seq: int
    built: float
    snapshot: asyncio.Future[Snapshot]


class SharedSnapshots:
    def __init__(self, max_age: float = MAX_AGE, kept: int = KEPT) -> None:
        self.max_age = max_age
        self.kept = kept
        self._entries: dict[str, _Entry] = {}
        self._moved: dict[str, float] = {}  # incident id -> when positions last moved
        self.reads = 0  # snapshots read from the database (the others were shared)
        self.shared = 0

    async def get(
        self, incident_id: str, seq: int, read: Callable[[], Awaitable[Snapshot]]
    ) -> Snapshot:
        """The incident's snapshot at `seq`: a shared one, or `read` (once for all who ask at
        the same time; if that read fails, each reads its own). A copy of its top level, so
        that a caller may add to it."""
        entry = self._entries.get(incident_id)
        if (
            entry is not None
            and entry.seq == seq
            and time.monotonic() - entry.built <= self.max_age
            and self._moved.get(incident_id, -1.0) < entry.built
        ):
            try:
                snapshot = await asyncio.shield(entry.snapshot)
            except Exception:
                pass  # the one read failed: read our own
            else:
                self.shared += 1
                return {**snapshot}
        future: asyncio.Future[Snapshot] = asyncio.get_running_loop().create_future()
        self._entries.pop(incident_id, None)  # re-inserted last: the dict's order is age
        self._entries[incident_id] = _Entry(seq, time.monotonic(), future)
        while len(self._entries) > self.kept:
            del self._entries[next(iter(self._entries))]
        self.reads += 1
        try:
            snapshot = await read()
        except BaseException as error:
            if self._entries.get(incident_id) is not None:
                if self._entries[incident_id].snapshot is future:
                    del self._entries[incident_id]
            future.set_exception(
                error if isinstance(error, Exception) else RuntimeError("cancelled")
            )
            future.exception()  # retrieved: nobody waiting is no error to log
            raise
        future.set_result(snapshot)
        return {**snapshot}

    def positions_moved(self, incident_id: str) -> None:
        """A `convoy.positions` of the incident is being delivered: snapshots read before
        now hold older positions."""
        if incident_id in self._entries:
            self._moved[incident_id] = time.monotonic()
            if len(self._moved) > 2 * self.kept:  # only incidents with a snapshot kept count
                self._moved = {k: v for k, v in self._moved.items() if k in self._entries}
