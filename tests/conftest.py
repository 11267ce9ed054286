"""Fixtures: each backend (SQLite always, PostgreSQL when TEST_DATABASE_URL is set) gets a
fresh migrated database, and each test module a live hub process on it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hub.client import HubClient
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


@pytest.fixture(scope="module")
def hub_server(database_url: str, logs: Path) -> Iterator[HubProcess]:
    server = HubProcess(database_url, log_dir=logs).start()
    yield server
    server.stop()


class Clients:
    """Connected HubClients, all closed at the end of the test."""

    def __init__(self) -> None:
        self.open: list[HubClient] = []

    async def __call__(
        self, server: HubProcess | str, user: TestUser, **kwargs: object
    ) -> HubClient:
        url = server if isinstance(server, str) else server.url
        client = HubClient(url, user.token, **kwargs)  # type: ignore[arg-type]
        await client.connect()
        self.open.append(client)
        return client


@pytest.fixture
async def clients() -> AsyncIterator[Clients]:
    made = Clients()
    yield made
    for client in made.open:
        try:
            await client.close()
        except Exception:
            pass
