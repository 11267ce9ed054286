"""Token buckets: a burst is allowed, a sustained flood is refused with rate_limited."""

from __future__ import annotations

import math
import time

from hub.errors import HubError


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate = rate_per_second
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait(self, key: str, cost: float = 1.0) -> float:
        """Seconds until `key` may spend `cost` (0: now), spending nothing."""
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens >= cost:
            return 0.0
        return (cost - tokens) / self.rate if self.rate > 0 else 60.0

    def spend(self, key: str, cost: float = 1.0) -> None:
        """Spend `cost` of `key` (down to empty, never below)."""
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._forget(now)
        self._buckets[key] = (max(0.0, tokens - cost), now)

    def refund(self, key: str, cost: float = 1.0) -> None:
        """Give back what `spend` took (up to the burst): a reservation that was not used."""
        if key in self._buckets:
            tokens, stamp = self._buckets[key]
            self._buckets[key] = (min(self.burst, tokens + cost), stamp)

    def _forget(self, now: float) -> None:
        """Bounded memory: buckets that have refilled by now carry no information and go
        first; if a flood of new keys leaves too many, the oldest half goes too (those keys
        start again from a full bucket: the bound on memory wins over their history)."""
        refilled = self.burst - 1e-9
        self._buckets = {
            key: (tokens, stamp)
            for key, (tokens, stamp) in self._buckets.items()
            if tokens + (now - stamp) * self.rate < refilled
        }
        if len(self._buckets) >= self.max_keys:
            by_age = sorted(self._buckets.items(), key=lambda item: item[1][1])
            self._buckets = dict(by_age[len(by_age) // 2 :])

    def check(self, key: str, cost: float = 1.0) -> None:
        """Spend `cost` of `key`, or refuse with rate_limited and when to retry."""
        retry = self.wait(key, cost)
        if retry > 0:
            raise refused(
                f"too many writes: at most {self.rate:g}/s with bursts of {self.burst:g}",
                retry,
            )
        self.spend(key, cost)


def refused(message: str, retry: float) -> HubError:
    """rate_limited, with the seconds to wait in the message and as `retry_after` (which HTTP
    answers also carry as a Retry-After header)."""
    seconds = max(1, math.ceil(retry))
    return HubError("rate_limited", f"{message}; retry in {seconds} s", retry_after=seconds)


class LoginThrottle:
    """Password guesses. Only failures count (each attempt reserves one, given back on
    success), so a user who types the password right is never slowed by earlier successes;
    they count per username and address (10 in a burst, then one every 6 s) and per address
    (30, then one every 2 s: a crisis room's NAT may try several accounts). There is no lock
    per username alone: a guesser elsewhere must not be able to lock the real user out.
    Behind a proxy the address is the client's only when the proxy is trusted
    (TRUSTED_PROXIES); otherwise it is the proxy's, and all share its bucket."""

    def __init__(self) -> None:
        self.pairs = RateLimiter(1 / 6, 10)
        self.clients = RateLimiter(1 / 2, 30)

    def check(self, username: str, client: str) -> None:
        """Refuse when the budget is spent; otherwise reserve one failure at once, so that
        guesses sent in parallel cannot all pass before the first of them has failed."""
        pair = f"{username.lower()}|{client}"
        retry = max(self.pairs.wait(pair), self.clients.wait(client))
        if retry > 0:
            raise refused("too many failed logins from this address", retry)
        self.pairs.spend(pair)
        self.clients.spend(client)

    def succeeded(self, username: str, client: str) -> None:
        """The reservation of `check` is given back: a success costs nothing."""
        self.pairs.refund(f"{username.lower()}|{client}")
        self.clients.refund(client)


class PublicThrottle:
    """The public's writes, which need no login (self-registration): each client address
    gets a burst of `burst`, then `per_hour` an hour; and each contact point (a number, an
    address) is sent at most `codes_per_hour` confirmation codes an hour, whoever asks, so
    that the hub cannot be used to flood someone's phone. Both refuse with the same words:
    the answer says nothing of whether an address is registered. Per instance, as the login
    throttle."""

    def __init__(self, burst: int, per_hour: float, codes_per_hour: int) -> None:
        self.clients = RateLimiter(per_hour / 3600, burst)
        self.contacts = RateLimiter(codes_per_hour / 3600, codes_per_hour)

    def client(self, address: str) -> None:
        retry = self.clients.wait(address)
        if retry > 0:
            raise refused(TOO_MANY, retry)
        self.clients.spend(address)

    def codes(self, contacts: list[str]) -> None:
        """One code to each of `contacts`, or none: all are checked before any is spent."""
        keys = [contact.lower() for contact in contacts]
        retry = max((self.contacts.wait(key) for key in keys), default=0.0)
        if retry > 0:
            raise refused(TOO_MANY, retry)
        for key in keys:
            self.contacts.spend(key)


TOO_MANY = "too many requests, or too many codes sent to these contact details"
