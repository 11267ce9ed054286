"""Secrets never reach the logs (a pure unit over logging records)."""

from __future__ import annotations

import logging

from hub.logs import RedactSecrets


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
