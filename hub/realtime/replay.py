"""The recent events of each incident as this instance delivered them: `since` replays from
memory instead of the database (docs/performance.md, reconnect storm).

A ring is filled where `incident.event` is delivered to this instance's sockets
(FastDelivery.deliver_local: after commit, for this instance's own events and for those received
through Redis), in the same synchronous step as the delivery. It only ever holds a run of
consecutive seqs: an event past a hole (a message lost on Redis, two emits of one incident
delivered out of order, a change made by an operator command without Redis) starts the ring
again from that event, and an event at or below the ring's last seq is a duplicate or a late
one and is left out.

A replay may come from the ring only when the socket is already in the incident's room and
the ring holds every seq from `since + 1` up to exactly the seq read under the role check:
then every event delivered here with a seq above `since` is in the ring (the ring's run has
no hole and nothing above its last seq has been delivered yet) or reaches the socket live
afterwards, so the ring cannot miss an event delivered to this instance. Otherwise the
database answers: past the database's own last seq (events delivered between the check and
the read, or a database that lost its last commits in a fail-over), and across a hole, which
is also where an event lost on Redis is recovered.

A seq delivered again with other content (a database restored or failed over, whose new
commits reuse seqs) drops the incident's ring: it no longer matches the database.

Memory is bounded in bytes of encoded JSON, per incident and in all, not only in events: an
anchor can carry 10,000 vertices.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from itertools import islice
from typing import Any

# Per incident: enough for a cut of a few minutes at a busy incident's pace; more goes to the
# database (which also answers up to REPLAY_LIMIT).
EVENTS_PER_INCIDENT = 512
BYTES_PER_INCIDENT = 1_000_000
# The incidents with the most recent events; the others' rings are dropped.
INCIDENTS = 64


class _Ring:
    __slots__ = ("bytes", "events", "first", "last", "sizes")

    def __init__(self, event: dict[str, Any], seq: int, size: int) -> None:
        self.events: deque[dict[str, Any]] = deque((event,))
        self.sizes: deque[int] = deque((size,))
        self.bytes = size
        self.first = seq
        self.last = seq


class RecentEvents:
    def __init__(
        self,
        per_incident: int = EVENTS_PER_INCIDENT,
        incidents: int = INCIDENTS,
        bytes_per_incident: int = BYTES_PER_INCIDENT,
    ) -> None:
        self.per_incident = per_incident
        self.incidents = incidents
        self.bytes_per_incident = bytes_per_incident
        self._rings: OrderedDict[str, _Ring] = OrderedDict()

    def add(self, event: Any, size: int = 0) -> None:
        """An `incident.event` (committed) as it is delivered to this instance's sockets;
        `size` is its encoded length in bytes."""
        if not isinstance(event, dict):
            return
        incident_id, seq = event.get("incident_id"), event.get("seq")
        if not isinstance(incident_id, str) or type(seq) is not int:
            return
        ring = self._rings.get(incident_id)
        if ring is not None and seq <= ring.last:
            if seq >= ring.first:
                held = ring.events[seq - ring.first]
                if held is not event and held != event:
                    del self._rings[incident_id]  # the database is not the one it was
            return  # a duplicate, or late: below the run, so never served
        if size > self.bytes_per_incident:
            self._rings.pop(incident_id, None)  # too large to keep: a hole, the database answers
            return
        if ring is None or seq != ring.last + 1:
            # new, or past a hole: the run starts again here
            self._rings[incident_id] = _Ring(event, seq, size)
            self._rings.move_to_end(incident_id)
            if len(self._rings) > self.incidents:
                self._rings.popitem(last=False)
            return
        ring.events.append(event)
        ring.sizes.append(size)
        ring.bytes += size
        ring.last = seq
        while len(ring.events) > self.per_incident or ring.bytes > self.bytes_per_incident:
            ring.events.popleft()
            ring.bytes -= ring.sizes.popleft()
            ring.first += 1
        self._rings.move_to_end(incident_id)

    def since(self, incident_id: str, since: int, last: int) -> list[dict[str, Any]] | None:
        """The events after `since`, or None when the ring cannot answer: it must hold every
        seq from since + 1 and end at `last` (the seq read under the role check)."""
        ring = self._rings.get(incident_id)
        if ring is None or since < ring.first - 1 or ring.last != last or since > ring.last:
            return None
        return list(islice(ring.events, since + 1 - ring.first, None))

    def clear(self) -> None:
        self._rings.clear()
