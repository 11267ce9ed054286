"""The enumerations of models/ as a JavaScript module for the front end, so that the pages
offer exactly the values the hub accepts. The module is generated, committed, and checked by
tests/test_frontend_enums.py; after changing an enumeration run

    python -m web.enums > web/frontend/src/enums.js
"""

from __future__ import annotations

import json
from enum import StrEnum

from hub.alerts.texts import EXERCISE_WORDS, TEST_WORD
from models import AnchorKind, EntryKind, IncidentKind, Phase, Priority, Role, Status
from models.alert import (
    AlertState,
    CapCategory,
    CapStatus,
    Certainty,
    Channel,
    MsgType,
    Severity,
    Urgency,
)
from models.anchor import PERIMETER_KINDS as PERIMETERS
from models.convoy import ConvoyStatus, VehicleRole
from models.directory import Discipline
from models.evaluation import EvaluationKind
from models.layer import LayerCategory, LayerSymbol
from models.plan import PlanKind, PlanLevel, VersionStatus
from models.registration import Language

EXPORTED: dict[str, type[StrEnum]] = {
    "ALERT_CHANNELS": Channel,
    "ALERT_LANGUAGES": Language,
    "ALERT_STATES": AlertState,
    "ANCHOR_KINDS": AnchorKind,
    "CAP_CATEGORIES": CapCategory,
    "CAP_STATUSES": CapStatus,
    "CERTAINTIES": Certainty,
    "CONVOY_STATUSES": ConvoyStatus,
    "DISCIPLINES": Discipline,
    "ENTRY_KINDS": EntryKind,
    "EVALUATION_KINDS": EvaluationKind,
    "INCIDENT_KINDS": IncidentKind,
    "LAYER_CATEGORIES": LayerCategory,
    "LAYER_SYMBOLS": LayerSymbol,
    "MSG_TYPES": MsgType,
    "PHASES": Phase,
    "PLAN_KINDS": PlanKind,
    "PLAN_LEVELS": PlanLevel,
    "PLAN_VERSION_STATUSES": VersionStatus,
    "PRIORITIES": Priority,
    "ROLES": Role,
    "SEVERITIES": Severity,
    "STATUSES": Status,
    "URGENCIES": Urgency,
    "VEHICLE_ROLES": VehicleRole,
}

# Values that are not a whole enumeration: the anchor kinds an alert's area may be made of
# (in AnchorKind's order), and the word every Exercise or Test text starts with, which the
# alert panel shows in red before anything is sent.
CONSTANTS: dict[str, object] = {
    "PERIMETER_KINDS": [kind.value for kind in AnchorKind if kind in PERIMETERS],
    "EXERCISE_WORDS": EXERCISE_WORDS,
    "TEST_WORD": TEST_WORD,
}


def enums_js() -> str:
    lines = [
        "// Generated from the hub's models by `python -m web.enums`: do not edit.",
        "",
    ]
    for name, enum in EXPORTED.items():
        values = ", ".join(f"'{member.value}'" for member in enum)
        lines.append(f"export const {name} = [{values}];")
    for name, value in CONSTANTS.items():
        lines.append(f"export const {name} = {json.dumps(value, ensure_ascii=False)};")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(enums_js(), end="")
