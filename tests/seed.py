"""Test data written through the same domain functions the CLI uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hub.actions import directory, incidents
from hub.actions.feed import FeedCommits
from hub.context import Hub
from hub.db import Database
from hub.realtime.notify import Notifier
from hub.settings import Settings
from models.directory import Discipline
from models.incident import IncidentKind, Role
from models.shapes import IncidentCreateIn, MemberIn, OrganisationIn, UserIn


@dataclass(frozen=True)
class TestUser:
    __test__ = False  # a data holder, not a test class

    id: str
    username: str
    token: str
    organisation: str
    password: str


class Seeder:
    def __init__(self, database_url: str) -> None:
        settings = Settings(
            environment="test",
            database_url=database_url,
            post_rate_per_second=1e6,
            post_rate_burst=10**6,
        )
        self.hub = Hub(
            settings=settings,
            db=Database(database_url),
            notifier=Notifier(None),
            feed_commits_for=FeedCommits,
        )
        self._organisations: set[str] = set()

    async def close(self) -> None:
        await self.hub.db.dispose()

    async def organisation(self, name: str) -> str:
        if name not in self._organisations:
            try:
                await directory.add_organisation(self.hub, None, OrganisationIn(name=name))
            except Exception:
                pass  # already there from another test module
            self._organisations.add(name)
        return name

    async def user(
        self,
        prefix: str = "user",
        *,
        organisation: str = "Police Brussels",
        discipline: str = "D3",
        admin: bool = False,
    ) -> TestUser:
        await self.organisation(organisation)
        username = f"{prefix}-{uuid.uuid4().hex[:8]}"
        password = "correct horse battery"
        user = await directory.add_user(
            self.hub,
            None,
            UserIn(
                username=username,
                organisation=organisation,
                discipline=Discipline(discipline),
                is_admin=admin,
                password=password,
            ),
        )
        _, token = await directory.create_token(self.hub, None, username)
        return TestUser(user["id"], username, token, organisation, password)

    async def incident(
        self, members: dict[TestUser, str], *, title: str = "Test incident", kind: str = "emergency"
    ) -> str:
        payload = IncidentCreateIn(title=title, kind=IncidentKind(kind))
        member_list = [
            MemberIn(username=u.username, role=Role(role)) for u, role in members.items()
        ]
        created = await incidents.create_incident(self.hub, None, payload, member_list)
        return str(created["id"])
