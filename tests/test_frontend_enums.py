"""The front end offers exactly the values the hub accepts: its enums module is generated from
models/ and must match them (regenerate with `python -m web.enums > web/frontend/src/enums.js`)."""

from __future__ import annotations

from pathlib import Path

from web.enums import enums_js

ENUMS_JS = Path(__file__).resolve().parent.parent / "web/frontend/src/enums.js"


def test_the_front_end_enums_are_the_models_enums() -> None:
    assert ENUMS_JS.read_text() == enums_js(), (
        "web/frontend/src/enums.js is stale: run `python -m web.enums > web/frontend/src/enums.js`"
    )
