"""Fixtures: each backend (SQLite always, PostgreSQL when TEST_DATABASE_URL is set) gets a
fresh migrated database, and each test module a live hub process on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hub.client import HubClient
from tests.live import HubProcess, migrate
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
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hub.db'}"
        migrate(url)
        yield url
        return
    from pytest_postgresql.janitor import DatabaseJanitor

    base = urlsplit(os.environ["TEST_DATABASE_URL"])
    name = f"crisishub_test_{uuid.uuid4().hex[:8]}"
    janitor = DatabaseJanitor(
        user=base.username or "postgres",
        host=base.hostname or "127.0.0.1",
        port=base.port or 5432,
        dbname=name,
        password=base.password,
    )
    janitor.init()
    try:
        url = (
            f"postgresql://{base.username or 'postgres'}@{base.hostname}:{base.port or 5432}/{name}"
        )
        migrate(url)
        yield url
    finally:
        janitor.drop()


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
