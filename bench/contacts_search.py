"""The directory's search (issue 14): how long GET /api/contacts takes over 30,000 contacts,
for what people type (a prefix, one word, several, a function, with filters and near), on
SQLite and PostgreSQL.

The contacts are written in process through the import's one code path
(hub/actions/contacts.py import_contacts: rows, history and search terms in one transaction),
then a live hub (`python -m hub serve`) answers the searches over HTTP, one request at a time,
each query R times; the latencies seen by the HTTP client are printed (p50, p99, max) with the
number of results of the first page.

    python bench/contacts_search.py [--backends sqlite,postgresql] [--contacts 30000]
                                    [--requests 50]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import percentile, start_hub, table, throwaway_database, workdir, write_result

from hub.actions.contacts import ImportedContact, import_contacts
from models.contact import ContactCreateIn
from tests.seed import Seeder

STEP_TIMEOUT_S = 3600.0
FIRST = [
    "Jean",
    "Marie",
    "Hélène",
    "François",
    "Zoë",
    "Pieter",
    "Els",
    "Aïcha",
    "Luc",
    "Anne",
    "Jan",
    "Sophie",
    "Karim",
    "Noémie",
    "Bart",
    "Inès",
    "Geert",
    "Chloé",
    "Mehdi",
    "Lotte",
]
LAST = [
    "Dupont",
    "Peeters",
    "Janssens",
    "Lambert",
    "Dubois",
    "Maes",
    "Lemaître",
    "Goossens",
    "Van den Bossche",
    "El Amrani",
    "Claes",
    "Willems",
    "Mertens",
    "Lefèvre",
    "Wouters",
    "Müller",
    "Desmet",
    "Renard",
    "Verhoeven",
    "Nguyen",
]
FUNCTIONS = [
    "Officier de garde",
    "Duty officer",
    "Dispatching 24/7",
    "Noodplanningsambtenaar",
    "Gouverneur — permanence",
    "Bourgmestre",
    "Directeur médical",
    "Chef de poste",
    "Officier de liaison",
    "Coordinateur PUH",
    "Porte-parole",
    "Commissaire de garde",
    "Fonctionnaire planification d'urgence",
    "Chef d'unité",
    "Magasin logistique",
]
PLACES = [
    ("Bruxelles", 50.8466, 4.3528, "2"),
    ("Liège", 50.6326, 5.5797, "4"),
    ("Namur", 50.4669, 4.8675, "81"),
    ("Gent", 51.0543, 3.7174, "9"),
    ("Antwerpen", 51.2194, 4.4025, "3"),
    ("Mons", 50.4542, 3.9523, "65"),
    ("Leuven", 50.8798, 4.7005, "16"),
    ("Brugge", 51.2093, 3.2247, "50"),
    ("Charleroi", 50.4108, 4.4446, "71"),
    ("Arlon", 49.6833, 5.8167, "63"),
]
KINDS = [
    ("Zone de secours", "D1"),
    ("Zone de police", "D3"),
    ("Hôpital", "D2"),
    ("Protection civile", "D4"),
    ("Cellule de crise", "coord"),
    ("Commune", "D5"),
]
TAGS = ["seveso", "nucléaire", "sommet", "inondation", "PUH", "ASTRID", "gare", "aéroport"]
QUERIES: list[tuple[str, dict[str, str]]] = [
    ("a prefix of one letter", {"q": "d"}),
    ("a prefix", {"q": "offi"}),
    ("one word", {"q": "liège"}),
    ("several words, prefix last", {"q": "officier de gar"}),
    ("a name", {"q": "hélène dupont"}),
    ("a function and a place", {"q": "gouverneur namur"}),
    ("word + discipline", {"q": "garde", "discipline": "D1"}),
    ("word + tag", {"q": "bruxelles", "tag": "seveso"}),
    ("near a point", {"q": "police", "near": "50.85,4.35"}),
    ("overdue (admin: all)", {"due": "true"}),
    ("no query", {}),
]


def records(count: int, organisations: list[str]) -> list[ImportedContact]:
    rng = random.Random(14)
    out: list[ImportedContact] = []
    for i in range(count):
        place, lat, lon, area = rng.choice(PLACES)
        organisation = rng.choice(organisations)
        discipline = next(d for kind, d in KINDS if organisation.startswith(kind))
        person = rng.random() < 0.4
        fields: dict[str, Any] = {
            "kind": "person" if person else "function",
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if person
            else f"{rng.choice(FUNCTIONS)} — {place} {i}",
            "function": rng.choice(FUNCTIONS),
            "methods": [
                {
                    "type": "phone",
                    "value": f"+32{area}2{i % 10 ** (7 - len(area)):0{7 - len(area)}d}",
                    "h24": rng.random() < 0.5,
                },
                {"type": "email", "value": f"contact{i}@example.be"},
            ],
            "disciplines": [discipline],
            "tags": rng.sample(TAGS, 2),
            "location": {"lat": lat + rng.uniform(-0.1, 0.1), "lon": lon + rng.uniform(-0.1, 0.1)},
        }
        out.append(
            ImportedContact(f"record {i}", ContactCreateIn.model_validate(fields), organisation)
        )
    return out


async def run_backend(kind: str, contacts: int, requests: int, work: Path) -> list[dict[str, Any]]:
    with throwaway_database(kind, work) as url:
        seeder = Seeder(url)
        organisations = [f"{k} {p[0]} {n}" for k, _ in KINDS for p in PLACES for n in range(5)]
        for name in organisations:
            await seeder.organisation(name)
        admin = await seeder.user("bench", organisation=organisations[0], admin=True)
        started = time.perf_counter()
        everything = records(contacts, organisations)
        for start in range(0, contacts, 5_000):
            await import_contacts(seeder.hub, everything[start : start + 5_000])
        seeded_s = time.perf_counter() - started
        await seeder.close()
        server = start_hub(url, work)
        rows: list[dict[str, Any]] = []
        try:
            async with httpx.AsyncClient(
                base_url=server.url, headers={"authorization": f"Bearer {admin.token}"}, timeout=30
            ) as http:
                for what, params in QUERIES:
                    times: list[float] = []
                    found = 0
                    for _ in range(requests):
                        t0 = time.perf_counter()
                        response = await http.get("/api/contacts", params=params)
                        times.append((time.perf_counter() - t0) * 1000)
                        response.raise_for_status()
                        found = len(response.json()["contacts"])
                    times.sort()
                    rows.append(
                        {
                            "backend": kind,
                            "query": what,
                            "params": params,
                            "results": found,
                            "p50_ms": round(percentile(times, 50) or 0, 1),
                            "p99_ms": round(percentile(times, 99) or 0, 1),
                            "max_ms": round(times[-1], 1),
                            "seeded_s": round(seeded_s, 1),
                        }
                    )
        finally:
            server.stop()
        return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--contacts", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    work = workdir()
    rows: list[dict[str, Any]] = []
    for kind in args.backends.split(","):
        rows += await run_backend(kind, args.contacts, args.requests, work)
        print(
            table(rows, ["backend", "query", "results", "p50_ms", "p99_ms", "max_ms", "seeded_s"])
        )
    write_result("contacts_search", {"contacts": args.contacts, "rows": rows})


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), STEP_TIMEOUT_S))
