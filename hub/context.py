"""The hub's parts, built once by create_app (or the CLI) and passed down: no globals.

A serving instance holds more (its socket server and handlers, the positions pipeline, the
Redis sync: hub/instance.py), around this context; the CLI and the tests' seeder build this
context alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from typing import Any, Protocol

from hub.auth import SessionCookies
from hub.db import Database
from hub.ratelimit import LoginThrottle, PublicThrottle, RateLimiter
from hub.realtime.notify import Notifier
from hub.realtime.presence import LocalPresence, Presence
from hub.settings import Settings


class FeedCommitter(Protocol):
    """The group commit of feed posts, hub/actions/feed.py's FeedCommits, by its shape: that
    module imports this one, so this one does not import it."""

    async def submit(self, post: Any, /) -> Any: ...


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
    # The public's self-registration, per client address and per contact point.
    public: PublicThrottle | None = None
    # Audience counts per user (hub/actions/registrations.py): a small area's count tells about
    # its households, so a stream of counts is scraping. 20 in a burst, then one every 2 s.
    counts: RateLimiter = field(default_factory=lambda: RateLimiter(1 / 2, 20))
    # Exports rendered at once by this instance (web/api/exports.py): one, since a logbook
    # takes a core for seconds and the live incident must not queue behind several.
    exports: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    # Makes the group commit of feed posts from this hub, which it writes through: pass
    # hub.actions.feed.FeedCommits to build a hub that posts to feeds (create_app, the CLI,
    # the tests' seeder). Without it `feed_commits` is None and feed posts are refused.
    feed_commits_for: InitVar[Callable[[Hub], FeedCommitter] | None] = None
    feed_commits: FeedCommitter | None = field(init=False, default=None)

    def __post_init__(self, feed_commits_for: Callable[[Hub], FeedCommitter] | None) -> None:
        if self.limiter is None:
            self.limiter = RateLimiter(
                self.settings.post_rate_per_second, self.settings.post_rate_burst
            )
        if self.public is None:
            self.public = PublicThrottle(
                self.settings.public_writes_burst,
                self.settings.public_writes_per_hour,
                self.settings.codes_per_contact_per_hour,
            )
        if self.cookies is None:
            assert self.settings.secret_key is not None
            self.cookies = SessionCookies(self.settings.secret_key)
        if feed_commits_for is not None:
            self.feed_commits = feed_commits_for(self)

    def check_rate(self, user_id: str) -> None:
        assert self.limiter is not None
        self.limiter.check(user_id)
