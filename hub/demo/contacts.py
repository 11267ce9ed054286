"""The demo's directory: some 200 contacts of the kind ICMS held (Brussels fire zone duty
officers, governors' permanences, police zones, hospitals, civil protection, NCCN functions),
written once through the import's one code path (hub/actions/contacts.py) so a newcomer can
search, open and list them. The numbers are valid Belgian numbers in the right area codes but
made up: none is anyone's."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.actions import directory
from hub.actions.contacts import ImportedContact, import_contacts
from hub.context import Hub
from hub.errors import HubError
from models import Contact
from models.contact import ContactCreateIn
from models.shapes import OrganisationIn

ORGANISATIONS = [
    ("NCCN Crisis Centre", "federal"),
    ("Brussels Fire Brigade", "fire"),
    ("Federal Police", "police"),
    ("Medical Services 112", "medical"),
    ("Civil Protection", "civil_protection"),
    ("Provincial Crisis Cells", "provincial"),
    ("Local Police Zones", "police"),
    ("Hospitals", "medical"),
]

# name, (lat, lon), area code
FIRE_POSTS = [
    ("Héliport", (50.8597, 4.3562), "2"),
    ("Anderlecht", (50.8333, 4.3072), "2"),
    ("Berchem-Sainte-Agathe", (50.8660, 4.2910), "2"),
    ("Delta", (50.8180, 4.4020), "2"),
    ("Woluwe-Saint-Lambert", (50.8430, 4.4330), "2"),
    ("Uccle", (50.8030, 4.3380), "2"),
    ("Evere", (50.8720, 4.4010), "2"),
    ("Saint-Josse", (50.8530, 4.3740), "2"),
    ("Ixelles", (50.8270, 4.3720), "2"),
    ("Schaerbeek", (50.8670, 4.3780), "2"),
]
PROVINCES = [
    ("Antwerpen", "Gouverneur van Antwerpen", (51.2194, 4.4025), "3", "nl"),
    ("Limburg", "Gouverneur van Limburg", (50.9307, 5.3325), "11", "nl"),
    ("Oost-Vlaanderen", "Gouverneur van Oost-Vlaanderen", (51.0543, 3.7174), "9", "nl"),
    ("West-Vlaanderen", "Gouverneur van West-Vlaanderen", (51.2093, 3.2247), "50", "nl"),
    ("Vlaams-Brabant", "Gouverneur van Vlaams-Brabant", (50.8798, 4.7005), "16", "nl"),
    ("Brabant wallon", "Gouverneur du Brabant wallon", (50.6684, 4.6119), "10", "fr"),
    ("Hainaut", "Gouverneur du Hainaut", (50.4542, 3.9523), "65", "fr"),
    ("Liège", "Gouverneur de Liège", (50.6326, 5.5797), "4", "fr"),
    ("Luxembourg", "Gouverneur du Luxembourg", (49.6833, 5.8167), "63", "fr"),
    ("Namur", "Gouverneur de Namur", (50.4669, 4.8675), "81", "fr"),
    (
        "Bruxelles-Capitale",
        "Haut fonctionnaire de l'agglomération bruxelloise",
        (50.8466, 4.3528),
        "2",
        "fr",
    ),
]
POLICE_ZONES = [
    ("Bruxelles-Capitale/Ixelles", (50.8467, 4.3525), "2"),
    ("Bruxelles-Ouest", (50.8550, 4.3200), "2"),
    ("Midi", (50.8300, 4.3300), "2"),
    ("Uccle/Watermael-Boitsfort/Auderghem", (50.8000, 4.3800), "2"),
    ("Montgomery", (50.8380, 4.4080), "2"),
    ("Bruxelles-Nord", (50.8680, 4.3800), "2"),
    ("Antwerpen", (51.2194, 4.4025), "3"),
    ("Gent", (51.0543, 3.7174), "9"),
    ("Brugge", (51.2093, 3.2247), "50"),
    ("Leuven", (50.8798, 4.7005), "16"),
    ("Hasselt", (50.9307, 5.3325), "11"),
    ("Mechelen-Willebroek", (51.0257, 4.4776), "15"),
    ("Kortrijk (Vlas)", (50.8279, 3.2649), "56"),
    ("Oostende", (51.2154, 2.9286), "59"),
    ("Liège", (50.6326, 5.5797), "4"),
    ("Charleroi", (50.4108, 4.4446), "71"),
    ("Namur", (50.4669, 4.8675), "81"),
    ("Mons-Quévy", (50.4542, 3.9523), "65"),
    ("Ottignies-Louvain-la-Neuve", (50.6684, 4.6119), "10"),
    ("Arlon/Attert/Habay/Martelange", (49.6833, 5.8167), "63"),
    ("Tournai (Tournaisis)", (50.6056, 3.3883), "69"),
    ("Verviers (Vesdre)", (50.5891, 5.8622), "87"),
    ("Eupen", (50.6280, 6.0360), "87"),
    ("Aalst", (50.9378, 4.0403), "53"),
    ("Sint-Niklaas", (51.1650, 4.1437), "3"),
]
HOSPITALS = [
    ("CHU Saint-Pierre", (50.8350, 4.3480), "2"),
    ("Cliniques universitaires Saint-Luc", (50.8530, 4.4530), "2"),
    ("UZ Brussel", (50.8870, 4.3070), "2"),
    ("Hôpital Erasme", (50.8130, 4.2650), "2"),
    ("CHU Brugmann", (50.9100, 4.3570), "2"),
    ("Hôpital Delta (CHIREC)", (50.8180, 4.4030), "2"),
    ("Hôpitaux Iris Sud, Etterbeek-Ixelles", (50.8300, 4.3800), "2"),
    ("Clinique Saint-Jean", (50.8530, 4.3600), "2"),
    ("UZ Leuven Gasthuisberg", (50.8800, 4.6730), "16"),
    ("UZ Gent", (51.0240, 3.7250), "9"),
    ("UZA Antwerpen", (51.1660, 4.4210), "3"),
    ("ZNA Stuivenberg", (51.2260, 4.4270), "3"),
    ("AZ Sint-Jan Brugge", (51.2270, 3.2050), "50"),
    ("Jessa Ziekenhuis Hasselt", (50.9330, 5.3440), "11"),
    ("CHU de Liège (Sart Tilman)", (50.5700, 5.5680), "4"),
    ("CHR Citadelle", (50.6510, 5.5620), "4"),
    ("Grand Hôpital de Charleroi", (50.4140, 4.4420), "71"),
    ("CHU UCL Namur (Godinne)", (50.3560, 4.8740), "81"),
    ("CHR Namur", (50.4720, 4.8560), "81"),
    ("CHU Ambroise Paré Mons", (50.4540, 3.9440), "65"),
    ("Vivalia Arlon", (49.6850, 5.8150), "63"),
    ("CHwapi Tournai", (50.6070, 3.3870), "69"),
    ("AZ Groeninge Kortrijk", (50.8130, 3.2810), "56"),
    ("OLV Ziekenhuis Aalst", (50.9330, 4.0390), "53"),
    ("Clinique Saint-Pierre Ottignies", (50.6650, 4.5660), "10"),
]
CIVIL_PROTECTION = [("Brasschaat", (51.2900, 4.4920), "3"), ("Crisnée", (50.7170, 5.3960), "4")]
NCCN = [
    "Permanence NCCN — Centre de crise national",
    "Directeur de crise (Crisis Manager) de garde",
    "Officier de liaison police (DirCo) — NCCN",
    "Information à la population (D5) — permanence",
    "BE-Alert — opérateur de garde",
    "Coordination Seveso — NCCN",
    "Planification d'urgence fédérale",
    "Cellule d'évaluation (CELEVAL) — permanence",
    "Salle de crise — technicien de garde",
    "Porte-parole de garde — NCCN",
]


class _Numbers:
    """Made-up but valid Belgian numbers: an area code and enough digits after it."""

    def __init__(self) -> None:
        self.n = 1_000

    def fixed(self, area: str) -> str:
        self.n += 7
        digits = 8 - len(area) - 1
        # A subscriber number starts 2 to 9 (2 is in use in every Belgian area code).
        return f"+32{area}2{self.n % 10**digits:0{digits}d}"

    def mobile(self) -> str:
        self.n += 13
        return f"+32475{self.n:06d}"


def _record(where: str, organisation: str, **fields: object) -> ImportedContact:
    return ImportedContact(where, ContactCreateIn.model_validate(fields), organisation)


def demo_contacts() -> list[ImportedContact]:
    numbers = _Numbers()
    out: list[ImportedContact] = []

    def add(organisation: str, **fields: object) -> None:
        out.append(_record(f"demo {len(out) + 1}", organisation, **fields))

    def place(point: tuple[float, float]) -> dict[str, float]:
        return {"lat": point[0], "lon": point[1]}

    for post, point, area in FIRE_POSTS:
        add(
            "Brussels Fire Brigade",
            kind="function",
            name=f"Officier de garde — poste {post}",
            function=f"Duty officer, Fire Zone Brussels (SIAMU), post {post}",
            methods=[
                {"type": "phone", "value": numbers.fixed(area), "label": "permanence", "h24": True},
                {"type": "radio", "value": f"ASTRID SIAMU-{len(out) + 101}", "h24": True},
            ],
            disciplines=["D1"],
            tags=["SIAMU", "Bruxelles", "pompiers"],
            location=place(point),
        )
        add(
            "Brussels Fire Brigade",
            kind="function",
            name=f"Chef de poste {post}",
            function="Fire post commander",
            methods=[{"type": "phone", "value": numbers.fixed(area), "label": "bureau"}],
            disciplines=["D1"],
            tags=["SIAMU", "Bruxelles"],
            location=place(point),
        )
    for province, governor, point, area, lang in PROVINCES:
        permanence = "permanentie" if lang == "nl" else "permanence"
        planning = (
            "Noodplanningsambtenaar" if lang == "nl" else "Fonctionnaire planification d'urgence"
        )
        centre = "Provinciaal crisiscentrum" if lang == "nl" else "Centre provincial de crise"
        for name, function, h24 in (
            (f"{governor} — {permanence}", f"{governor}, {permanence} 24/7", True),
            (f"{planning} — {province}", planning, False),
            (f"{centre} — {province}", centre, True),
        ):
            add(
                "Provincial Crisis Cells",
                kind="function",
                name=name,
                function=function,
                methods=[
                    {"type": "phone", "value": numbers.fixed(area), "h24": h24},
                    {"type": "email", "value": f"crisis.{len(out)}@province.example.be"},
                ],
                disciplines=["coord"],
                tags=["gouverneur", province],
                location=place(point),
            )
    for zone, point, area in POLICE_ZONES:
        for name, function in (
            (f"Dispatching — zone de police {zone}", "Police dispatching (CIC) 24/7"),
            (f"Officier de garde — zone de police {zone}", "Police duty officer (OPJ de garde)"),
            (f"Officier de planification — zone de police {zone}", "Police emergency planning"),
        ):
            add(
                "Local Police Zones",
                kind="function",
                name=name,
                function=function,
                methods=[
                    {"type": "phone", "value": numbers.fixed(area), "h24": True},
                    {"type": "radio", "value": f"ASTRID PZ-{len(out) + 500}", "h24": True},
                ],
                disciplines=["D3"],
                tags=["police", zone.split(" ")[0]],
                location=place(point),
            )
    for hospital, point, area in HOSPITALS:
        for name, function in (
            (f"Urgences — {hospital}", "Emergency department, MUG/SMUR dispatch"),
            (f"Plan d'urgence hospitalier — {hospital}", "Hospital emergency plan coordinator"),
        ):
            add(
                "Hospitals",
                kind="function",
                name=name,
                function=function,
                methods=[
                    {"type": "phone", "value": numbers.fixed(area), "h24": True},
                    {"type": "fax", "value": numbers.fixed(area)},
                ],
                disciplines=["D2"],
                tags=["hôpital", "PUH"],
                location=place(point),
            )
    for unit, point, area in CIVIL_PROTECTION:
        for name in (
            f"Officier de garde — unité {unit}",
            f"Chef d'unité — {unit}",
            f"Magasin logistique — {unit}",
        ):
            add(
                "Civil Protection",
                kind="function",
                name=name,
                function="Civil protection operational unit",
                methods=[{"type": "phone", "value": numbers.fixed(area), "h24": True}],
                disciplines=["D4"],
                tags=["protection civile", unit],
                location=place(point),
            )
    for function in NCCN:
        add(
            "NCCN Crisis Centre",
            kind="function",
            name=function,
            function=function.split(" — ")[0],
            methods=[
                {"type": "phone", "value": numbers.fixed("2"), "h24": True},
                {"type": "email", "value": f"nccn.{len(out)}@crisis.example.be"},
            ],
            disciplines=["coord"],
            tags=["NCCN", "fédéral"],
            location={"lat": 50.8417, "lon": 4.3623},
        )
    # A few persons: a function outlives them, but people are called too.
    for first, last, organisation, function, discipline in (
        ("Sophie", "Lambert", "NCCN Crisis Centre", "Crisis manager", "coord"),
        ("Pieter", "Janssens", "Federal Police", "DirCo Bruxelles — liaison", "D3"),
        (
            "Aïcha",
            "El Amrani",
            "Medical Services 112",
            "Directrice de l'aide médicale (Dir-Med)",
            "D2",
        ),
        ("Marc", "Dubois", "Brussels Fire Brigade", "Directeur des opérations (Dir-Ops)", "D1"),
        ("Els", "Peeters", "Provincial Crisis Cells", "Noodplanningsambtenaar Antwerpen", "coord"),
    ):
        add(
            organisation,
            kind="person",
            name=f"{first} {last}",
            function=function,
            methods=[
                {"type": "mobile", "value": numbers.mobile()},
                {
                    "type": "email",
                    "value": f"{first.lower()}.{last.lower().replace(' ', '')}@example.be",
                },
            ],
            disciplines=[discipline],
            tags=["sommet"],
        )
    return out


async def seed_directory(hub: Hub) -> int:
    """The demo's contacts, once: an existing directory is left as it is."""
    for name, kind in ORGANISATIONS:
        try:
            await directory.add_organisation(hub, None, OrganisationIn(name=name, kind=kind))
        except HubError:
            pass  # already there
    async with hub.db.read() as session:
        count = int(await session.scalar(select(func.count()).select_from(Contact)) or 0)
    if count:
        return count
    result = await import_contacts(hub, demo_contacts())
    return result.total
