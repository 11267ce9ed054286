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
the ring holds every seq from `since + 1` up to at least the seq read under the role check:
then every event delivered here with a seq above `since` is in the ring (the ring's run has
no hole and nothing above its last seq has been delivered yet) or reaches the socket live
afterwards. Otherwise the database answers.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from itertools import islice
from typing import Any

# Per incident: enough for a cut of a few minutes at a busy incident's pace; more goes to the
# database (which also answers up to REPLAY_LIMIT).
EVENTS_PER_INCIDENT = 512
# The incidents with the most recent events; the others' rings are dropped.
INCIDENTS = 256


class _Ring:
    __slots__ = ("events", "first", "last")

    def __init__(self, event: dict[str, Any], seq: int, size: int) -> None:
        self.events: deque[dict[str, Any]] = deque((event,), maxlen=size)
        self.first = seq
        self.last = seq


class RecentEvents:
    def __init__(self, per_incident: int = EVENTS_PER_INCIDENT, incidents: int = INCIDENTS) -> None:
        self.per_incident = per_incident
        self.incidents = incidents
        self._rings: OrderedDict[str, _Ring] = OrderedDict()

    def add(self, event: Any) -> None:
        """An `incident.event` (committed) as it is delivered to this instance's sockets."""
        if not isinstance(event, dict):
            return
        incident_id, seq = event.get("incident_id"), event.get("seq")
        if not isinstance(incident_id, str) or type(seq) is not int:
            return
        ring = self._rings.get(incident_id)
        if ring is not None and seq <= ring.last:
            return  # a duplicate, or late: below the run, so never served
        if ring is None or seq != ring.last + 1:
            # new, or past a hole: the run starts again here
            self._rings[incident_id] = _Ring(event, seq, self.per_incident)
            self._rings.move_to_end(incident_id)
            if len(self._rings) > self.incidents:
                self._rings.popitem(last=False)
            return
        if len(ring.events) == self.per_incident:
            ring.first += 1  # the append drops the oldest
        ring.events.append(event)
        ring.last = seq
        self._rings.move_to_end(incident_id)

    def since(self, incident_id: str, since: int, at_least: int) -> list[dict[str, Any]] | None:
        """The events after `since`, or None when the ring cannot answer: it must hold every
        seq from since + 1 and reach at least `at_least` (the seq read under the role check)."""
        ring = self._rings.get(incident_id)
        if ring is None or since < ring.first - 1 or ring.last < at_least or since > ring.last:
            return None
        return list(islice(ring.events, since + 1 - ring.first, None))

    def clear(self) -> None:
        self._rings.clear()
