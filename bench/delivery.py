"""Delivery (issue 13): how fast sending an alert writes its deliveries into the outbox.

Stores N registrations (one place each, an SMS number and an e-mail, four languages) in a
0.5-degree square, then, in one write transaction as `hub/actions/alerts.py` runs it, calls
hub/alerts/outbox.py `queue` for an Alert on that square with sms and email: recipient
selection, ranking (an inner perimeter and the distance to a site), each text rendered with
its own unsubscribe link (HMAC), and the rows written (executemany on SQLite, COPY on
PostgreSQL); then the commit. Prints rows, seconds and rows a second per backend.

    python bench/delivery.py [--backends sqlite,postgresql] [--registrations 300000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import shapely.geometry
from common import table, throwaway_database, workdir, write_result

from hub.actions.self_registration import unsubscribe_signer
from hub.alerts.outbox import Perimeter, Plan, queue
from hub.alerts.registrations import Parsed, store
from hub.db import Database, driver_connection
from models.base import utcnow

WEST, SOUTH, SIZE = 4.0, 50.5, 0.5
SECRET = "bench-secret"
INFO = {
    language: {
        "headline": "Incendie chimique",
        "description": "Un nuage de fumée se déplace vers le nord-est.",
        "instruction": "Restez à l'intérieur, fermez portes et fenêtres.",
    }
    for language in ("fr", "nl", "de", "en")
}
STEP_TIMEOUT_S = 3600.0


def square(west: float, south: float, size: float) -> dict[str, Any]:
    ring = [
        [west, south],
        [west + size, south],
        [west + size, south + size],
        [west, south + size],
        [west, south],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def registrations(
    n: int, west: float = WEST, south: float = SOUTH, size: float = SIZE
) -> dict[str, Parsed]:
    """N registrations, one place each spread over the square at (west, south)."""
    rng = random.Random(13)
    languages = ("fr", "nl", "de", "en")
    return {
        f"b{i}": Parsed(
            f"b{i}",
            languages[i % 4],
            f"+3247{i:07d}",
            None,
            f"person{i}@example.be",
            False,
            i + 2,
            [("home", south + rng.random() * size, west + rng.random() * size)],
        )
        for i in range(n)
    }


async def measure(url: str, n: int) -> dict[str, Any]:
    db = Database(url)
    try:
        async with db.write() as session:
            driver = await driver_connection(session)
            await store(driver, db.is_sqlite, registrations(n), replace=False, now=utcnow())
        sign = unsubscribe_signer(SECRET)
        plan = Plan(
            alert_id="0" * 32,
            identifier="crisishub-bench",
            msg_type="Alert",
            cap_status="Actual",
            channels=frozenset({"sms", "email"}),
            info=INFO,
            page="https://alert.example.be/alerts/" + "0" * 32,
            link=lambda rid: (
                f"https://alert.example.be/public/registrations/{rid}/unsubscribe?token={sign(rid)}"
            ),
        )
        inner = shapely.geometry.shape(square(WEST + 0.2, SOUTH + 0.2, 0.1))
        started = time.perf_counter()
        async with db.write() as session:
            driver = await driver_connection(session)
            queued = await queue(
                driver,
                db.is_sqlite,
                plan,
                geometry=square(WEST, SOUTH, SIZE),
                test_only=False,
                perimeters=[Perimeter(0, inner)],
                site=(WEST + 0.25, SOUTH + 0.25),
                now=utcnow(),
            )
            written = time.perf_counter()
        committed = time.perf_counter()
    finally:
        await db.dispose()
    seconds = committed - started
    return {
        "recipients": n,
        "rows": queued.total,
        "queue_s": written - started,
        "commit_s": committed - written,
        "total_s": seconds,
        "rows_per_s": queued.total / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--registrations", type=int, default=300_000)
    args = parser.parse_args()
    rows = []
    where = workdir()
    for backend in args.backends.split(","):
        with throwaway_database(backend, where) as url:
            result = asyncio.run(asyncio.wait_for(measure(url, args.registrations), STEP_TIMEOUT_S))
        rows.append({"backend": backend, **result})
    columns = ["backend", "recipients", "rows", "queue_s", "commit_s", "total_s", "rows_per_s"]
    print(table(rows, columns, "sending an alert: deliveries written into the outbox"))
    write_result("delivery", {"rows": rows})


if __name__ == "__main__":
    main()
