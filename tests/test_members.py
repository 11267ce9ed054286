"""GET /api/users?q= against a live hub: the names offered while a manager types a member's
username (issue 19, item 14), so that nobody has to know a username by heart."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import update
from sqlmodel import col

from hub.actions import directory
from models import User
from models.directory import Discipline
from models.shapes import UserIn
from tests.live import HubProcess
from tests.seed import Seeder


async def test_users_are_offered_by_username_or_a_word_of_their_name(
    hub_server: HubProcess, seed: Seeder
) -> None:
    manager = await seed.user("manager", organisation="Province of Namur", discipline="coord")
    tag = uuid.uuid4().hex[:6]
    await seed.organisation("SMUR Namur")
    for username, name in (
        (f"zz{tag}-medic", "Anne Dubois"),
        (f"zz{tag}-nurse", f"Bruno Zz{tag}quet"),
        (f"zz{tag}-gone", "Left Already"),
        (f"xx{tag}_under", "Under Score"),
    ):
        await directory.add_user(
            seed.hub,
            None,
            UserIn(
                username=username,
                organisation="SMUR Namur",
                discipline=Discipline.D2,
                display_name=name,
            ),
        )
    async with seed.hub.db.write() as session:
        await session.execute(
            update(User).where(col(User.username) == f"zz{tag}-gone").values(active=False)
        )

    async with httpx.AsyncClient(
        base_url=hub_server.url, headers={"Authorization": f"Bearer {manager.token}"}, timeout=10
    ) as http:

        async def offered(q: str) -> list[str]:
            answer = await http.get("/api/users", params={"q": q})
            assert answer.status_code == 200, answer.text
            return [u["username"] for u in answer.json()["users"]]

        # The username's start, any case; or a word of the name (Bruno's surname); never a
        # disabled account.
        assert await offered(f"ZZ{tag}") == [f"zz{tag}-medic", f"zz{tag}-nurse"]
        assert await offered(f"zz{tag}q") == [f"zz{tag}-nurse"]
        answer = (await http.get("/api/users", params={"q": f"zz{tag}-me"})).json()
        assert answer["users"] == [
            {
                "username": f"zz{tag}-medic",
                "name": "Anne Dubois",
                "organisation": "SMUR Namur",
                "discipline": "D2",
            }
        ]
        # LIKE's wildcards are letters like any other.
        assert await offered(f"xx{tag}_") == [f"xx{tag}_under"]
        assert await offered(f"xx{tag}%") == []
        assert await offered(f"zz{tag}_") == []
        for q in ("", "z", "x" * 101):
            refused = await http.get("/api/users", params={"q": q})
            assert refused.status_code == 400, q
            assert refused.json()["error"]["code"] == "invalid"
    async with httpx.AsyncClient(base_url=hub_server.url, timeout=10) as anonymous:
        answer = await anonymous.get("/api/users", params={"q": f"zz{tag}"})
        assert answer.status_code == 401
