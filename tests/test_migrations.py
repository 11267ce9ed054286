"""Upgrades repair what older versions let in: an incident broken by a deeply nested anchor is
readable again once `crisishub migrate` has run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hub.actions import anchors
from hub.auth import principal_for_token
from models.anchor import AnchorKind
from models.shapes import AnchorCreateIn
from tests.conftest import Clients
from tests.live import ROOT, HubProcess, migrate, throwaway_database
from tests.seed import Seeder


@pytest.fixture
def old_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new database of the same backend, at revision 0002 (before the depth limit)."""
    with throwaway_database(database_url, tmp_path) as url:
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from alembic import command; from hub.migrate import alembic_config;"
                " command.upgrade(alembic_config(sys.argv[1]), '0002')",
                url,
            ],
            env=os.environ,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
        yield url


def nested(levels: int) -> dict[str, object]:
    value: dict[str, object] = {"a": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    return 0


async def test_an_incident_broken_by_deep_properties_is_readable_after_the_upgrade(
    old_database: str, logs: Path, clients: Clients
) -> None:
    seed = Seeder(old_database)
    try:
        manager = await seed.user("manager")
        incident = await seed.incident({manager: "manager"})
        async with seed.hub.db.read() as session:
            principal = await principal_for_token(session, manager.token)
        assert principal is not None
        # Today's create_anchor also writes the anchor's feed entry with today's columns: give
        # the 0002 table the one added since (0017) for that write, and take it away after, so
        # the upgrade below runs on the 0002 schema.
        async with seed.hub.db.write() as session:
            await session.execute(text("ALTER TABLE feedentry ADD COLUMN written_at TIMESTAMP"))
        created_anchor = await anchors.create_anchor(
            seed.hub,
            principal,
            AnchorCreateIn(
                incident_id=incident,
                client_id=str(uuid.uuid4()),
                kind=AnchorKind.COMMAND_POST,
                label="CP",
                geometry={"type": "Point", "coordinates": [4.35, 50.85]},
            ),
        )
        # What the old hub stored for a 300-level `properties`: the row and its event.
        deep = nested(300)
        as_json = "CAST(:value AS JSONB)" if old_database.startswith("postgres") else ":value"
        async with seed.hub.db.write() as session:
            await session.execute(
                text(f"UPDATE anchor SET properties = {as_json} WHERE id = :id"),
                {"value": json.dumps(deep), "id": created_anchor["id"]},
            )
            event = {**created_anchor, "properties": deep}
            await session.execute(
                text(f"UPDATE event SET data = {as_json} WHERE incident_id = :id"),
                {"value": json.dumps(event), "id": incident},
            )
            await session.execute(text("ALTER TABLE feedentry DROP COLUMN written_at"))
    finally:
        await seed.close()

    headers = {"authorization": f"Bearer {manager.token}"}
    events_url = f"/api/incidents/{incident}/events"
    broken = HubProcess(old_database, log_dir=logs).start()
    try:  # the bug as it was: the log cannot be read
        async with httpx.AsyncClient(base_url=broken.url, headers=headers) as http:
            assert (await http.get(events_url)).status_code == 500
    finally:
        broken.stop()

    migrate(old_database)
    server = HubProcess(old_database, log_dir=logs).start()
    try:
        http = httpx.AsyncClient(base_url=server.url, headers=headers)
        events = await http.get(events_url)
        assert events.status_code == 200
        created, _ = events.json()["events"]  # the anchor, and its entry in the feed
        assert created["type"] == "anchor.created"
        assert depth(created["data"]) == 32  # pruned at the limit, the rest kept
        listed = await http.get(f"/api/incidents/{incident}/anchors")
        assert listed.status_code == 200
        (feature,) = listed.json()["features"]
        assert feature["properties"]["label"] == "CP"
        assert depth(feature["properties"]) == 32
        # and a socket join gets its snapshot again
        watcher = await clients(server, manager)
        joined = await watcher.join(incident)
        assert [a["id"] for a in joined["snapshot"]["anchors"]["features"]] == [feature["id"]]
    finally:
        await http.aclose()
        server.stop()
