"""The hub's parts, built once by create_app (or the CLI) and passed down: no globals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hub.auth import SessionCookies
from hub.db import Database
from hub.ratelimit import LoginThrottle, RateLimiter
from hub.realtime.notify import Notifier
from hub.realtime.presence import LocalPresence, Presence
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.actions.feed import FeedCommits


@dataclass
class Hub:
    settings: Settings
    db: Database
    notifier: Notifier
    presence: Presence = field(default_factory=LocalPresence)
    limiter: RateLimiter | None = None
    cookies: SessionCookies | None = None
    # Failed password guesses, per username and address and per address (hub/ratelimit.py).
    logins: LoginThrottle = field(default_factory=LoginThrottle)
    # Group commit of feed posts, made by the first post (hub/actions/feed.py).
    feed_commits: FeedCommits | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = RateLimiter(
                self.settings.post_rate_per_second, self.settings.post_rate_burst
            )
        if self.cookies is None:
            assert self.settings.secret_key is not None
            self.cookies = SessionCookies(self.settings.secret_key)

    def check_rate(self, user_id: str) -> None:
        assert self.limiter is not None
        self.limiter.check(user_id)
