"""Convoy workload: W watchers joined to one incident, V vehicles reporting once a second
through the OsmAnd HTTP ingestion path; V is raised stepwise until the p99 from report (the
fix's own timestamp, its send time) to screen (receipt of the `convoy.positions` message that
carries it) passes 500 ms. Then the same for the Node socket.io peer broadcasting every fix as
its own message (`pub` -> `pos`), with the same watcher count. Prints the largest V each held
and their ratio.

    python bench/convoys.py [--watchers 1000] [--steps 250,500,...] [--peer-steps 10,20,...]

The load generator is bench/convoys_loadgen.js (raw Engine.IO watchers and keep-alive HTTP
reporters in one Node process, the same code for the hub and the peer).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    NodePeer,
    prepare_peer,
    py_spy,
    run_node,
    seed,
    start_hub,
    table,
    throwaway_database,
    workdir,
    write_result,
)


async def add_vehicles(url: str, incident_id: str, count: int) -> tuple[list[str], list[str]]:
    """`count` trackers in one convoy: the convoy through the domain function, the vehicles
    in one insert (registering thousands one by one, each with its convoy.updated event,
    would take minutes). Returns their device keys and vehicle ids, in the same order."""
    from sqlalchemy import insert

    from hub.actions.convoys import add_device, new_device_key
    from hub.auth import token_digest
    from hub.context import Hub
    from hub.db import Database
    from hub.realtime.notify import Notifier
    from hub.settings import Settings
    from models import Vehicle
    from models.base import new_id

    hub = Hub(
        settings=Settings(environment="test", database_url=url),
        db=Database(url),
        notifier=Notifier(None),
    )
    try:
        first, key = await add_device(hub, incident_id, "V0000", "motorcade", "vip")
        keys, ids = [key], [first["id"]]
        rows = []
        for i in range(1, count):
            key = new_device_key()
            vehicle_id = new_id()
            keys.append(key)
            ids.append(vehicle_id)
            rows.append(
                {
                    "id": vehicle_id,
                    "convoy_id": first["convoy_id"],
                    "incident_id": incident_id,
                    "label": f"V{i:04d}",
                    "role": "escort",
                    "device_key_hash": token_digest(key),
                    "alert_state": {},
                }
            )
        if rows:
            async with hub.db.write() as session:
                # SQLModel's stubs declare no __table__ (the declarative base sets it).
                await session.execute(insert(Vehicle.__table__), rows)  # type: ignore[attr-defined]
        return keys, ids
    finally:
        await hub.db.dispose()


def run_loadgen(cfg: dict[str, Any], peer_dir: Path, work: Path, name: str) -> dict[str, Any]:
    return run_node(
        "convoys_loadgen.js",
        cfg,
        work,
        name,
        timeout=cfg["maxSec"] + 30,
        node_modules=peer_dir / "node_modules",
    )


def common_cfg(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "watchers": args.watchers,
        "stepSec": args.step_sec,
        "warmSec": args.warm_sec,
        "maxP99Ms": args.max_p99_ms,
        "probeEvery": args.probe_every,
        "maxSec": args.max_sec,
    }


def bench_hub(args: argparse.Namespace, peer_dir: Path, work: Path) -> dict[str, Any]:
    with throwaway_database("sqlite", work) as url:
        seeded = asyncio.run(seed(url, args.watchers))
        keys, ids = asyncio.run(add_vehicles(url, seeded.incident_id, max(args.steps)))
        hub = start_hub(url, work)
        try:
            assert hub.process is not None
            cfg = {
                **common_cfg(args),
                "mode": "hub",
                "port": hub.port,
                "tokens": seeded.viewer_tokens,
                "incidentId": seeded.incident_id,
                "keys": keys,
                "vehicleIds": ids,
                "steps": args.steps,
                "httpConcurrency": args.http_concurrency,
                "pids": {"server": hub.process.pid},
            }
            if args.profile:
                py_spy(hub.process.pid, "profile-convoys", args.profile_sec)
            result = run_loadgen(cfg, peer_dir, work, "convoys-hub")
        finally:
            hub.stop()
    result["label"] = "hub (coalesced convoy.positions)"
    return result


def bench_peer(args: argparse.Namespace, peer_dir: Path, work: Path) -> dict[str, Any]:
    peer = NodePeer(peer_dir, work).start()
    try:
        assert peer.process is not None
        cfg = {
            **common_cfg(args),
            "mode": "peer",
            "port": peer.port,
            "steps": args.peer_steps,
            "publishers": 20,
            "pids": {"server": peer.process.pid},
        }
        result = run_loadgen(cfg, peer_dir, work, "convoys-peer")
    finally:
        peer.stop()
    result["label"] = "node socket.io peer (a message per fix)"
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--steps", default="250,500,1000,1500,2000,2500,3000,4000")
    parser.add_argument("--peer-steps", default="10,25,50,75,100,150,200,300")
    parser.add_argument("--step-sec", type=float, default=6)
    parser.add_argument("--warm-sec", type=float, default=2)
    parser.add_argument("--max-p99-ms", type=float, default=500)
    parser.add_argument("--probe-every", type=int, default=50, help="every Nth watcher measures")
    parser.add_argument("--http-concurrency", type=int, default=256)
    parser.add_argument("--max-sec", type=int, default=300, help="hard limit per load run")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the hub")
    parser.add_argument("--profile-sec", type=int, default=20)
    args = parser.parse_args(argv)
    args.steps = [int(v) for v in args.steps.split(",")]
    args.peer_steps = [int(v) for v in args.peer_steps.split(",")]

    work = workdir()
    peer_dir = prepare_peer(work)
    runs = [bench_hub(args, peer_dir, work)]
    if not args.no_peer:
        runs.append(bench_peer(args, peer_dir, work))
    rows = []
    for run in runs:
        for step in run["steps"]:
            rows.append(
                {
                    "server": run["label"],
                    "vehicles": step["vehicles"],
                    "fixes/s": step["fixesPerSec"],
                    "p50 ms": step["p50ms"],
                    "p99 ms": step["p99ms"],
                    "missing %": step["missingPct"],
                    "msgs/s": step["messagesPerSec"],
                    "MB/s": step["mbPerSec"],
                    "ack p99 ms": step.get("ackP99ms"),
                    "http err": step.get("httpErr"),
                    "server cpu %": step["cpuPct"].get("server"),
                    "loadgen cpu %": step["cpuPct"].get("loadgen"),
                    "held": "yes" if step["held"] else "no",
                }
            )
    print(
        table(
            rows,
            list(rows[0]),
            f"Convoys: {args.watchers} watchers, vehicles at 1 Hz, p99 report->screen "
            f"<= {args.max_p99_ms:g} ms",
        )
    )
    summary = [{"server": run["label"], "largest V held": run["largestHeld"]} for run in runs]
    if len(runs) == 2:
        ratio = runs[0]["largestHeld"] / max(1, runs[1]["largestHeld"])
        summary[0]["x peer"] = round(ratio, 1)
    print()
    print(table(summary, list(summary[0]), "Largest number of vehicles held"))
    data = {"args": vars(args), "runs": runs, "summary": summary}
    print(f"\nwrote {write_result('convoys', data)}")
    return data


if __name__ == "__main__":
    main()
