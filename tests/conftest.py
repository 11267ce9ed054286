"""Fixtures: each backend (SQLite always, PostgreSQL when TEST_DATABASE_URL is set) gets a
fresh migrated database, and each test module a live hub process on it."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import pytest
from pydantic import ValidationError

from hub.client import HubClient
from models import events
from tests import hygiene
from tests.live import HubProcess, migrate, throwaway_database
from tests.seed import Seeder, TestUser


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session", params=_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A throw-away, migrated database per backend, made with the real `crisishub migrate`."""
    backend = "sqlite://" if request.param == "sqlite" else "postgresql://"
    with throwaway_database(backend, tmp_path_factory.mktemp("db")) as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
async def seed(database_url: str) -> AsyncIterator[Seeder]:
    seeder = Seeder(database_url)
    yield seeder
    await seeder.close()


@pytest.fixture(scope="session")
def area_longitudes(database_url: str) -> Iterator[float]:
    """A longitude per alert test, 0.8° apart from -170° to 149.2°, so that no two tests of one
    backend's shared database see each other's registrations (a hash of the test's name once
    gave two tests the same band). East of 150° is for tests that pick their own."""
    return (-170 + band * 0.8 for band in itertools.count() if band < 400)


@pytest.fixture(scope="module")
def hub_server(database_url: str, logs: Path) -> Iterator[HubProcess]:
    server = HubProcess(database_url, log_dir=logs).start()
    yield server
    server.stop()


class ClientOptions(TypedDict, total=False):
    """HubClient's keyword options that a test may set (the others the fixture sets)."""

    transports: list[str] | None
    reconnection_delay: float
    presence: Literal["changes", "list"]


class Clients:
    """Connected HubClients, all closed at the end of the test. Then everything they received
    is checked against its model (models/events.py): every `incident.event` any of them
    applied (live or replayed, through `on_event`), and the snapshot, `presence`,
    `convoy.positions`, `alert.progress` and `incident.left` messages each holds."""

    def __init__(self) -> None:
        self.open: list[HubClient] = []
        self.events: list[dict[str, Any]] = []

    async def __call__(
        self,
        server: HubProcess | str,
        user: TestUser,
        *,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        **kwargs: Unpack[ClientOptions],
    ) -> HubClient:
        url = server if isinstance(server, str) else server.url

        def applied(event: dict[str, Any]) -> None:
            self.events.append(event)
            if on_event is not None:
                on_event(event)

        client = HubClient(url, user.token, on_event=applied, **kwargs)
        await client.connect()
        self.open.append(client)
        return client

    def misshapen(self) -> list[str]:
        """What these clients received that does not match its model."""
        received: list[tuple[str, Any, Any]] = [  # (what, model, message)
            ("incident.event", events.EventPublic, event) for event in self.events
        ]
        for client in self.open:
            # A v1 ("list") client's snapshot always has `online`; a "changes" one's never
            # does (the join's `presence` page has the list).
            snapshot = "snapshot" if client.presence_mode == "list" else "snapshot (changes)"
            received += [
                (snapshot, events.Snapshot, state.snapshot)
                for state in client.incidents.values()
                if state.snapshot is not None
            ]
            received += [
                ("presence", events.PresencePayload, {"incident_id": key, "online": online})
                for key, online in client.presence.items()
            ]
            received += [
                ("presence.changed", events.PresenceChanged, m) for m in client.presence_changes
            ]
            received += [("convoy.positions", events.ConvoyPositions, m) for m in client.positions]
            received += [("alert.progress", events.AlertProgress, m) for m in client.alert_progress]
            received += [("incident.left", events.IncidentLeft, m) for m in client.left]
        found: list[str] = []
        for what, model, message in received:
            try:
                if model is events.EventPublic:
                    events.check_event(message)  # the envelope, then its data by type
                else:
                    events.check(model, message)
                if what == "snapshot" and "online" not in message:
                    raise ValueError("no `online`")
                if what == "snapshot (changes)" and "online" in message:
                    raise ValueError("`online` in the snapshot of a client following changes")
            except (ValidationError, ValueError) as error:
                found.append(f"{what} {json.dumps(message)[:300]}: {error}")
        return found


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    made = Clients()
    yield made
    for client in made.open:
        try:
            await client.close()
        except Exception:
            pass
    found = made.misshapen()
    if found:
        pytest.fail(
            f"{len(found)} received message(s) do not match models/events.py:\n"
            + "\n".join(found[:10])
        )


# Connection hygiene (tests/hygiene.py) ---------------------------------------------------------


@pytest.fixture(autouse=True)
def closes_its_connections(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test that leaves a Socket.IO client connected or reconnecting, or (for a test
    that ran on the event loop: the heap scan costs some 30 ms) an aiohttp session open. Being
    autouse, it is torn down after the test's other fixtures, `clients` included."""
    yield
    found = hygiene.leaks(sessions=request.node.get_closest_marker("asyncio") is not None)
    if found:
        pytest.fail("left open by this test or its fixtures: " + "; ".join(found))


@pytest.fixture(scope="session", autouse=True)
def closes_all_connections() -> Iterator[None]:
    """The same at the end of the run, with the heap scan, for what module and session
    fixtures and synchronous tests left open."""
    yield
    found = hygiene.leaks(sessions=True)
    if found:
        pytest.fail("left open at the end of the run: " + "; ".join(found))
