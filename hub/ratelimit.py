"""Per-user token buckets: a burst is allowed, a sustained flood is refused with rate_limited."""

from __future__ import annotations

import time

from hub.errors import HubError


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate = rate_per_second
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str, cost: float = 1.0) -> None:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens < cost:
            retry = (cost - tokens) / self.rate if self.rate > 0 else 60.0
            raise HubError(
                "rate_limited",
                f"too many writes: at most {self.rate:g}/s with bursts of {self.burst:g}; "
                f"retry in {retry:.1f}s",
            )
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            # Bounded memory: full buckets carry no information, so they go first.
            self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.burst}
        self._buckets[key] = (tokens - cost, now)
