"""Secrets never reach the logs (a pure unit over logging records)."""

from __future__ import annotations

import logging

from hub.logs import QuietTrackerFixes, RedactSecrets


def test_query_string_secrets_are_masked() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            "/ingest/osmand?id=s3cr3tKEY&lat=50.8&deviceid=abc&token=t",
            "1.1",
            200,
        ),
        None,
    )
    assert RedactSecrets().filter(record)
    line = record.getMessage()
    assert "s3cr3tKEY" not in line and "deviceid=***" in line and "token=***" in line
    assert "lat=50.8" in line


def _access(path: str, status: int) -> logging.LogRecord:
    args = ("127.0.0.1:5000", "GET", path, "1.1", status)
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )


def test_stored_tracker_fixes_are_not_access_logged() -> None:
    quiet = QuietTrackerFixes()
    assert not quiet.filter(_access("/ingest/osmand?id=k&lat=1&lon=2", 200))
    assert quiet.filter(_access("/ingest/osmand?id=k&lat=1", 400))  # refused: still logged
    assert quiet.filter(_access("/api/incidents", 200))
