"""The enumerations of models/ as a JavaScript module for the front end, so that the pages
offer exactly the values the hub accepts. The module is generated, committed, and checked by
tests/test_frontend_enums.py; after changing an enumeration run

    python -m web.enums > web/frontend/src/enums.js
"""

from __future__ import annotations

from enum import StrEnum

from models import AnchorKind, EntryKind, IncidentKind, Phase, Priority, Role, Status
from models.convoy import ConvoyStatus, VehicleRole
from models.directory import Discipline

EXPORTED: dict[str, type[StrEnum]] = {
    "ANCHOR_KINDS": AnchorKind,
    "CONVOY_STATUSES": ConvoyStatus,
    "DISCIPLINES": Discipline,
    "ENTRY_KINDS": EntryKind,
    "INCIDENT_KINDS": IncidentKind,
    "PHASES": Phase,
    "PRIORITIES": Priority,
    "ROLES": Role,
    "STATUSES": Status,
    "VEHICLE_ROLES": VehicleRole,
}


def enums_js() -> str:
    lines = [
        "// Generated from the hub's models by `python -m web.enums`: do not edit.",
        "",
    ]
    for name, enum in EXPORTED.items():
        values = ", ".join(f"'{member.value}'" for member in enum)
        lines.append(f"export const {name} = [{values}];")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(enums_js(), end="")
