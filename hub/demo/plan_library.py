"""The demo's emergency plans (issue 14): the summit's special plan, whose approved version lays
down the Europa building's perimeters and posts (the demo incident is opened by activating it,
as a crisis cell would), and the Justus Lipsius building's internal plan, approved and proposed
for the incident site but not activated, so that a newcomer can activate it from the incident's
"Contacts and plans" tab and watch its anchors, contacts and decision arrive."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from sqlalchemy import select
from sqlmodel import col

from hub.actions import plans
from hub.auth import Principal
from hub.context import Hub
from hub.plans.files import check_file
from models import Contact, Plan
from models.plan import PlanAnchorsIn, PlanCreateIn, PlanKind, PlanLevel, PlanVersionFieldsIn

SUMMIT = "PPUI Sommet européen — bâtiment Europa"
INTERNAL = "PIU bâtiment Justus Lipsius — plan interne"
# The European quarter: both plans' area, so both are proposed for the Europa building.
QUARTER_AREA = {
    "type": "Polygon",
    "coordinates": [
        [
            [4.3650, 50.8340],
            [4.3980, 50.8340],
            [4.3980, 50.8520],
            [4.3650, 50.8520],
            [4.3650, 50.8340],
        ]
    ],
}
INTERNAL_ANCHORS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "victim_reception",
        "Centre d'accueil des impliqués — Résidence Palace",
        {"type": "Point", "coordinates": [4.3788, 50.8419]},
    ),
    (
        "staging_area",
        "Zone de rassemblement — Rue Froissart",
        {"type": "Point", "coordinates": [4.3795, 50.8390]},
    ),
    (
        "coordination_committee",
        "Comité de coordination — Lex building",
        {"type": "Point", "coordinates": [4.3770, 50.8395]},
    ),
]
# The directory's functions the internal plan names (hub/demo/contacts.py).
INTERNAL_CONTACTS = (
    "Officier de garde — poste Saint-Josse",
    "Permanence NCCN — Centre de crise national",
    "Directeur de crise (Crisis Manager) de garde",
)


def _pdf(title: str, lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=16)
    pdf.multi_cell(0, 10, text=title.replace("—", "-"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 7, text=line.replace("—", "-"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _collection(anchors: list[tuple[str, str, dict[str, Any]]]) -> PlanAnchorsIn:
    return PlanAnchorsIn.model_validate(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {"kind": kind, "label": label},
                }
                for kind, label, geometry in anchors
            ],
        }
    )


async def _plan(
    hub: Hub,
    author: Principal,
    title: str,
    kind: PlanKind,
    level: PlanLevel,
    anchors: list[tuple[str, str, dict[str, Any]]],
    contact_ids: list[str],
) -> str:
    created = await plans.create_plan(
        hub, author, PlanCreateIn(title=title, kind=kind, level=level, area=QUARTER_AREA)
    )
    lines = [f"{label} ({kind})" for kind, label, _ in anchors]
    pdf = check_file(f"{title.split(' — ')[0]}.pdf", _pdf(title, lines))
    await plans.add_version(
        hub,
        author,
        created["id"],
        PlanVersionFieldsIn(anchors=_collection(anchors), contact_ids=contact_ids),
        [pdf],
    )
    await plans.approve_version(hub, author, created["id"], 1)
    return created["id"]


async def seed_plans(
    hub: Hub, author: Principal, summit_anchors: list[tuple[str, str, dict[str, Any]]]
) -> str:
    """The two plans, once; returns the summit plan's id."""
    async with hub.db.read() as session:
        existing = await session.scalar(select(col(Plan.id)).where(col(Plan.title) == SUMMIT))
        named = list(
            await session.scalars(
                select(col(Contact.id)).where(col(Contact.name).in_(INTERNAL_CONTACTS))
            )
        )
    if existing is not None:
        return existing
    summit = await _plan(
        hub, author, SUMMIT, PlanKind.SPECIAL, PlanLevel.PROVINCIAL, summit_anchors, []
    )
    await _plan(
        hub, author, INTERNAL, PlanKind.INTERNAL, PlanLevel.MUNICIPAL, INTERNAL_ANCHORS, named
    )
    return summit
