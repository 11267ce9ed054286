"""The interface every channel implements, and what a hand-over can answer.

A channel hands one message over to its server (an SMTP relay, an SMSC, a voice gateway) and
answers the server's own identifier of it, or raises: `Retry` for what may pass (a
throttled server, a dropped connection, a 4xx reply), `Refused` for what will not (a 5xx
reply, an address the server does not take). The worker (hub/delivery/worker.py) paces
each channel at its rate, records the answer and retries with back-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery as the worker claimed it."""

    id: int
    channel: str
    address: str
    language: str
    subject: str | None
    text: str
    purpose: str
    registration_id: str | None
    alert_id: str | None
    message_identifier: str | None
    attempts: int
    # The registration's unsubscribe link (None when the message has no registration).
    unsubscribe: str | None


class Retry(Exception):
    """The hand-over may pass later: the worker queues the message again with back-off.
    `throttled` says the server asked to slow down (the channel's pace halves a while)."""

    def __init__(self, reason: str, *, throttled: bool = False) -> None:
        super().__init__(reason)
        self.throttled = throttled


class Refused(Exception):
    """The server will never take this message: the delivery fails for good."""


# HTTP answers of a gateway asking to slow down.
SLOW_DOWN = frozenset({429, 503})


def gateway_refusal(what: str, status: int, text: str) -> Retry | Refused:
    """What an HTTP gateway's answer other than 2xx means: slow down (429, 503), try again
    later (5xx), or never (4xx)."""
    reason = f"{what} HTTP {status}: {text[:200]}"
    if status in SLOW_DOWN:
        return Retry(reason, throttled=True)
    if status >= 500:
        return Retry(reason)
    return Refused(reason)


class Channel(Protocol):
    """A delivery channel: `name` is the outbox channel it drains, `per_second` its rate,
    `concurrency` how many hand-overs may be in flight at once."""

    name: str
    per_second: float
    concurrency: int

    async def send(self, message: Outgoing) -> str:
        """Hands the message over; answers the server's identifier of it (or its reply)."""
        ...

    async def close(self) -> None: ...

    def describe(self) -> str:
        """The channel's server for logs and /readyz, without any secret."""
        ...


@runtime_checkable
class Receipts(Protocol):
    """A channel whose server reports delivery (SMPP receipts): `listen` gives it what to
    call with (provider_id, delivered, reason) for each report. The call only takes the
    report in (the worker records them in batches): the channel's reader never waits on the
    database, which would hold up the server's answers behind it."""

    def listen(self, on_receipt: Callable[[str, bool, str], None]) -> None: ...
