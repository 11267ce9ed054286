"""Live hub processes for tests: real `crisishub serve` on a free port, killable and restartable."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def migrate(database_url: str) -> None:
    """`python -m hub migrate` on a database, as operators run it before `serve`."""
    subprocess.run(
        [sys.executable, "-m", "hub", "migrate"],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def throwaway_database(backend_of: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the backend of the URL `backend_of` (SQLite: a file in
    `tmp_path`; PostgreSQL: a database on TEST_DATABASE_URL's server), dropped afterwards."""
    if backend_of.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / f'hub-{uuid.uuid4().hex[:8]}.db'}"
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
        user, port = base.username or "postgres", base.port or 5432
        yield f"postgresql://{user}@{base.hostname}:{port}/{name}"
    finally:
        janitor.drop()


class HubProcess:
    """One hub instance as operators run it: `python -m hub serve` with its environment."""

    def __init__(self, database_url: str, *, log_dir: Path, **env: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"hub-{self.port}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "ENVIRONMENT": "test",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "POST_RATE_PER_SECOND": "1000",
            "POST_RATE_BURST": "1000",
            **{key.upper(): str(value) for key, value in env.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> HubProcess:
        # The child writes to its own copy of the descriptor: ours is closed once it started.
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub", "serve"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> HubProcess:
        self.stop()
        return self.start()
