"""The HTTP stack's own cost for `/ingest/osmand`, in-process: the hub's ASGI application
(as `create_app` builds it, without uvicorn) called N times with a report that is refused at
validation (no `lat`), so no database is touched: microseconds per request of routing,
parsing, validation and the JSON answer.

    python bench/ingest_stack.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/ingest/osmand",
    "raw_path": b"/ingest/osmand",
    "root_path": "",
    "query_string": b"id=abcdefabcdefabcdef&lon=4.3&timestamp=1764000000000&speed=10.5&bearing=90",
    "headers": [(b"host", b"127.0.0.1:8000"), (b"connection", b"keep-alive")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}


async def measure(requests: int) -> float:
    from hub.app import create_app
    from hub.settings import Settings

    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        app: Any = create_app(
            Settings(environment="test", database_url=f"sqlite+aiosqlite:///{tmp}/stack.db")
        )
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        for _ in range(500):
            await app(dict(SCOPE), receive, send)
        assert set(statuses) == {400}, set(statuses)
        t0 = time.perf_counter()
        for _ in range(requests):
            await app(dict(SCOPE), receive, send)
        return (time.perf_counter() - t0) / requests * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args(argv)
    micros = asyncio.run(measure(args.requests))
    print(f"{micros:.1f} µs per /ingest/osmand request (refused at validation)")


if __name__ == "__main__":
    main()
