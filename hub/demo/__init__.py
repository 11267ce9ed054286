"""`crisishub demo`: a summit in Brussels with a motorcade from the airport to the venue,
BE-Alert registrations around the European quarter and a drafted alert for its red and orange
zones, ready for the manager to send (or to cancel, once sent).

Everything is written through the same domain actions as the API and the CLI; running it again
on the same database reuses what exists and gives the trackers fresh keys.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from hub.actions import alerts, convoys, directory, incidents, plans, registrations
from hub.alerts.registrations import Parsed
from hub.auth import principal_for_token, token_digest
from hub.context import Hub
from hub.db import Database
from hub.demo.contacts import seed_directory
from hub.demo.plan_library import seed_plans
from hub.demo.simulator import SimVehicle, drive
from hub.errors import HubError
from hub.realtime.notify import Notifier
from hub.settings import Settings
from models import (
    ConvoyStatus,
    Discipline,
    Incident,
    IncidentKind,
    Role,
    Vehicle,
    VehicleRole,
)
from models.alert import CapCategory, Certainty, Channel, Severity, Urgency
from models.base import utcnow
from models.convoy_shapes import ConvoyCreateIn, VehicleCreateIn
from models.registration import Language, Registration
from models.shapes import (
    AlertAreaIn,
    AlertDraftIn,
    AlertTextIn,
    IncidentCreateIn,
    MemberIn,
    OrganisationIn,
    UserIn,
)

log = logging.getLogger(__name__)

TITLE = "Summit Brussels"
PASSWORD = "summit-demo-2026"
CONVOY = "Motorcade VIP 1"

# Brussels Airport (Zaventem) → A201 → R0 → E40 → Reyers → Avenue de Cortenbergh → Schuman →
# Rue de la Loi, in front of the Europa building (lon, lat).
ROUTE = [
    [4.4846, 50.8985],
    [4.4795, 50.8975],
    [4.4720, 50.8962],
    [4.4640, 50.8948],
    [4.4560, 50.8930],
    [4.4480, 50.8905],
    [4.4430, 50.8880],
    [4.4415, 50.8830],
    [4.4405, 50.8780],
    [4.4400, 50.8730],
    [4.4392, 50.8680],
    [4.4300, 50.8630],
    [4.4200, 50.8590],
    [4.4100, 50.8555],
    [4.4030, 50.8530],
    [4.3990, 50.8510],
    [4.3975, 50.8480],
    [4.3945, 50.8465],
    [4.3905, 50.8455],
    [4.3860, 50.8447],
    [4.3830, 50.8440],
    [4.3808, 50.8432],
    [4.3803, 50.8424],
]
VENUE = [4.3806, 50.8421]


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


ANCHORS: list[tuple[str, str, dict[str, Any]]] = [
    ("incident_site", "Europa building (summit venue)", _point(*VENUE)),
    ("exclusion_zone", "Red zone: Europa / Justus Lipsius", _box(4.3775, 50.8405, 4.3835, 50.8438)),
    ("isolation_zone", "Orange zone: Schuman", _box(4.3730, 50.8385, 4.3880, 50.8460)),
    ("dissuasion_zone", "Yellow zone: European quarter", _box(4.3650, 50.8340, 4.3980, 50.8520)),
    ("command_post", "CP-Ops Rue de la Loi", _point(4.3760, 50.8410)),
    ("press_point", "Press centre Résidence Palace", _point(4.3792, 50.8412)),
    ("advanced_medical_post", "AMP Cortenbergh", _point(4.3850, 50.8445)),
    ("helipad", "Helipad Cinquantenaire", _point(4.3930, 50.8405)),
]

ORGANISATIONS = [
    ("NCCN Crisis Centre", "federal"),
    ("Federal Police", "police"),
    ("Brussels Fire Brigade", "fire"),
    ("Medical Services 112", "medical"),
]
# username, organisation, discipline, role in the incident, admin
USERS = [
    ("monitor", "NCCN Crisis Centre", "coord", "manager", True),
    ("police", "Federal Police", "D3", "contributor", False),
    ("fire", "Brussels Fire Brigade", "D1", "contributor", False),
    ("medic", "Medical Services 112", "D2", "viewer", False),
]
# label, role, gap behind the lead in metres, strays off the route (on every leg)
# Where along each leg the straying vehicle leaves the route: within a minute of the motorcade
# setting off, and again on every leg (some 14 minutes apart), so whoever watches the demo sees
# an off-route alert come in, and whoever opens it later finds the earlier ones in the list.
STRAY_FROM_M = 700.0
VEHICLES = [
    ("Lead (police)", "lead", 0.0, False),
    ("VIP 1", "vip", 50.0, False),
    ("Escort", "escort", 100.0, False),
    ("Follow (medical)", "follow", 150.0, True),
]


# BE-Alert registrations, spread over Brussels and denser in the European quarter: enough for
# the estimate to mean something, few enough to seed in a second. A tenth are the test
# audience, which exercise and test alerts reach.
REGISTRATIONS = 3_000
BRUSSELS = (4.30, 50.80, 4.45, 50.90)  # west, south, east, north
QUARTER = (4.365, 50.834, 4.398, 50.852)
ALERT_ZONES = ("Red zone: Europa / Justus Lipsius", "Orange zone: Schuman")
ALERT_TEXTS = {
    Language.FR: AlertTextIn(
        headline="Sommet européen : zone rouge fermée au public",
        description="Le périmètre autour du bâtiment Europa est fermé jusqu'à la fin du sommet.",
        instruction="Évitez le quartier Schuman et suivez les consignes de la police.",
    ),
    Language.NL: AlertTextIn(
        headline="Europese top: rode zone gesloten voor het publiek",
        description="De perimeter rond het Europagebouw is gesloten tot het einde van de top.",
        instruction="Vermijd de Schumanwijk en volg de instructies van de politie.",
    ),
    Language.DE: AlertTextIn(
        headline="EU-Gipfel: rote Zone für die Öffentlichkeit gesperrt",
        description="Der Bereich um das Europa-Gebäude ist bis zum Ende des Gipfels gesperrt.",
        instruction="Meiden Sie das Schuman-Viertel und folgen Sie den Anweisungen der Polizei.",
    ),
    Language.EN: AlertTextIn(
        headline="EU summit: red zone closed to the public",
        description="The perimeter around the Europa building is closed until the summit ends.",
        instruction="Avoid the Schuman quarter and follow police instructions.",
    ),
}


def demo_registrations(count: int = REGISTRATIONS, seed: int = 2026) -> dict[str, Parsed]:
    """Made-up registrations (numbers in the +32 470 range, example.be addresses)."""
    rng = random.Random(seed)
    languages = ["fr", "fr", "fr", "nl", "nl", "de", "en"]
    result: dict[str, Parsed] = {}
    for n in range(count):
        external_id = f"demo-{n:05d}"
        sms = f"+32470{n:06d}" if n % 5 else None
        voice = f"+3225{n:06d}" if n % 7 == 0 else None
        email = f"resident{n}@example.be" if n % 3 == 0 or sms is None else None
        parsed = Parsed(
            external_id, rng.choice(languages), sms, voice, email, n % 10 == 0, line=n + 2
        )
        for label in ("home", "work")[: 1 + (n % 4 == 0)]:
            west, south, east, north = QUARTER if rng.random() < 0.3 else BRUSSELS
            lat, lon = rng.uniform(south, north), rng.uniform(west, east)
            parsed.places.append((label, round(lat, 6), round(lon, 6)))
        result[external_id] = parsed
    return result


@dataclass
class Demo:
    incident_id: str
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # user, role, password
    vehicles: list[SimVehicle] = field(default_factory=list)


async def seed(hub: Hub) -> Demo:
    for name, kind in ORGANISATIONS:
        try:
            await directory.add_organisation(hub, None, OrganisationIn(name=name, kind=kind))
        except HubError:
            pass  # already there
    for username, organisation, discipline, _, admin in USERS:
        try:
            await directory.add_user(
                hub,
                None,
                UserIn(
                    username=username,
                    organisation=organisation,
                    discipline=Discipline(discipline),
                    display_name=username.capitalize(),
                    is_admin=admin,
                    password=PASSWORD,
                ),
            )
        except HubError:
            pass
    async with hub.db.read() as session:
        incident_id = await session.scalar(
            select(col(Incident.id)).where(col(Incident.title) == TITLE)
        )
    async with hub.db.read() as session:
        registered = await session.scalar(select(col(Registration.id)).limit(1))
    if registered is None:
        await registrations.import_registrations(hub, demo_registrations(), replace=False)
    await seed_directory(hub)
    if incident_id is None:
        incident_id = await _create_incident(hub)
    demo = Demo(incident_id, [(u, role, PASSWORD) for u, _, _, role, _ in USERS])
    demo.vehicles = await _trackers(hub, incident_id)
    return demo


async def _create_incident(hub: Hub) -> str:
    members = [MemberIn(username=u, role=Role(role)) for u, _, _, role, _ in USERS]
    created = await incidents.create_incident(
        hub,
        None,
        IncidentCreateIn(title=TITLE, kind=IncidentKind.EVENT),
        members,
    )
    incident_id = str(created["id"])
    _, raw = await directory.create_token(hub, None, "monitor")
    async with hub.db.read() as session:
        monitor = await principal_for_token(session, raw)
    assert monitor is not None
    # The incident's perimeters and posts are those the summit's special plan lays down:
    # activating it draws them, lists nothing (it names no contacts) and records the decision.
    summit = await seed_plans(hub, monitor, ANCHORS)
    activation, _ = await plans.activate_plan(hub, monitor, incident_id, summit)
    zones = [
        anchor_id
        for anchor_id, (_, label, _) in zip(activation["anchor_ids"], ANCHORS, strict=True)
        if label in ALERT_ZONES
    ]
    await alerts.draft_alert(
        hub,
        monitor,
        AlertDraftIn(
            incident_id=incident_id,
            area=AlertAreaIn(anchor_ids=zones),
            info=ALERT_TEXTS,
            event="Security perimeter",
            category=CapCategory.SECURITY,
            urgency=Urgency.EXPECTED,
            severity=Severity.MODERATE,
            certainty=Certainty.OBSERVED,
            expires=utcnow() + timedelta(hours=24),
            channels=[Channel.SMS, Channel.EMAIL, Channel.PUBLIC],
        ),
    )
    await directory.revoke_token(hub, None, monitor.token_id)
    convoy = await convoys.create_convoy(
        hub,
        None,
        incident_id,
        ConvoyCreateIn(
            name=CONVOY,
            route={"type": "LineString", "coordinates": ROUTE},
            destination={"type": "Point", "coordinates": VENUE},
            status=ConvoyStatus.EN_ROUTE,
        ),
    )
    for label, role, _, _ in VEHICLES:
        await convoys.add_vehicle(
            hub,
            None,
            incident_id,
            convoy["id"],
            VehicleCreateIn(label=label, role=VehicleRole(role)),
        )
    return incident_id


async def _trackers(hub: Hub, incident_id: str) -> list[SimVehicle]:
    """Fresh keys for the demo's vehicles (only hashes are stored, so old ones are unknown),
    and a clean slate so that a restart at the airport is not taken for a teleport."""
    plan = {label: (gap, strays) for label, _, gap, strays in VEHICLES}
    result = []
    async with hub.db.write() as session:
        rows = await session.scalars(select(Vehicle).where(col(Vehicle.incident_id) == incident_id))
        for vehicle in rows:
            if vehicle.label not in plan:
                continue
            key = convoys.new_device_key()
            vehicle.device_key_hash = token_digest(key)
            vehicle.last_lat = vehicle.last_lon = vehicle.last_ts = None
            vehicle.last_speed = vehicle.last_heading = vehicle.last_accuracy = None
            vehicle.alert_state = {}
            gap, strays = plan[vehicle.label]
            result.append(SimVehicle(key, vehicle.label, gap, STRAY_FROM_M if strays else None))
    return sorted(result, key=lambda v: v.gap_m)


async def run(settings: Settings, *, simulate: bool = True) -> None:
    """Seed, then serve the hub and drive the motorcade until interrupted."""
    import uvicorn

    from hub.app import create_app
    from hub.serving import uvicorn_config

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per fix drowns the log
    db = Database(settings.database_url)
    try:
        demo = await seed(Hub(settings=settings, db=db, notifier=Notifier(None)))
    finally:
        await db.dispose()
    url = f"http://{settings.host}:{settings.port}"
    print(f"Summit Brussels demo: incident {demo.incident_id}", flush=True)
    print("Demo logins (username / password, role in the incident):", flush=True)
    for username, role, password in demo.logins:
        print(f"  {username:8} / {password}  ({role})", flush=True)
    print(f"Open {url}", flush=True)
    server = uvicorn.Server(
        uvicorn_config(settings, create_app(settings), log_level="warning", graceful_s=3)
    )
    serving = asyncio.get_running_loop().create_task(server.serve())
    driving: asyncio.Task[int] | None = None
    try:
        for _ in range(600):  # up to a minute for the hub to listen
            if server.started or serving.done():
                break
            await asyncio.sleep(0.1)
        if simulate and server.started:
            driving = asyncio.get_running_loop().create_task(
                drive(f"http://127.0.0.1:{settings.port}", ROUTE, demo.vehicles)
            )
            log.info("simulator: %d vehicles on %s", len(demo.vehicles), CONVOY)
        await serving
    finally:
        if driving is not None:
            driving.cancel()
        server.should_exit = True
