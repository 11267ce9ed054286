"""National scale (issue 18): N authenticated sockets spread like real use (one incident of
2,000, twenty of 100, the rest in incidents of ~10), on one instance and on two with Redis and
PostgreSQL. Measures memory per idle authenticated socket, connects/s and joins/s, the p50/p99
of feed posts delivered in every incident while a convoy reports into the big one, and a
reconnect storm of everyone after the hub is killed and restarted (each client rejoins with
`since`; its seq must reach the last one posted with nothing in between missing). The Node
socket.io peer is measured in the same run on the same spread: its connects/s, joins/s and
memory per idle socket.

    python bench/national.py [--clients 10000] [--setups sqlite,postgresql,2x-postgresql]

The load generator is bench/national_loadgen.js (raw Engine.IO clients, one Node process, the
same code for the hub and the peer). Everything is on 127.0.0.1; the open-file limit is raised
(bounded by the hard limit); every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    NodePeer,
    prepare_peer,
    py_spy,
    start_hub,
    table,
    throwaway_database,
    workdir,
    write_result,
)
from convoys import add_vehicles

sys.path.insert(0, str(ROOT))
from tests.test_instances import RedisProcess

# Posts per second in each incident of a class (the big one's people see 2 a second).
RATES = {"big": 2.0, "medium": 0.5, "small": 0.1}
# The most file descriptors asked for: two per socket (client and server end), and spare.
MAX_FILES = 65_536


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft open-file limit (inherited by the hubs, the peer and the load
    generator) to `wanted`, bounded by the hard limit and MAX_FILES."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), MAX_FILES, hard if hard != resource.RLIM_INFINITY else wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def spread(clients: int, big: int, medium: int, medium_size: int, small_size: int) -> list[int]:
    """Incident sizes: one of `big`, `medium` of `medium_size`, the rest in ones of
    `small_size` (scaled down when `clients` is small, for development runs)."""
    if clients < big + medium * medium_size + small_size:
        big = clients // 5
        medium_size = max(1, clients // 5 // max(1, medium))
    sizes = [big] + [medium_size] * medium
    rest = clients - sum(sizes)
    while rest > 0:
        sizes.append(min(small_size, rest))
        rest -= sizes[-1]
    return sizes


def classify(index: int, medium: int) -> str:
    return "big" if index == 0 else "medium" if index <= medium else "small"


async def seed_national(url: str, sizes: list[int]) -> dict[str, Any]:
    """One organisation, one user and one token per client, the incidents with their members
    (viewers), and a publisher who is a contributor of every incident. Users, tokens and
    memberships go in one insert each (10,000 of them one by one through the domain functions
    would take minutes); the incidents through create_incident."""
    from sqlalchemy import insert

    from hub.actions import directory, incidents
    from hub.auth import new_token, token_digest
    from hub.context import Hub
    from hub.db import Database
    from hub.realtime.notify import Notifier
    from hub.settings import Settings
    from models import ApiToken, Membership, User
    from models.base import new_id, utcnow
    from models.directory import Discipline
    from models.incident import IncidentKind, Role
    from models.shapes import IncidentCreateIn, MemberIn, OrganisationIn, UserIn

    hub = Hub(
        settings=Settings(environment="test", database_url=url),
        db=Database(url),
        notifier=Notifier(None),
    )
    try:
        organisation = await directory.add_organisation(
            hub, None, OrganisationIn(name="National Fire")
        )
        tag = uuid.uuid4().hex[:6]
        publisher = f"nat-{tag}-pub"
        await directory.add_user(
            hub,
            None,
            UserIn(username=publisher, organisation="National Fire", discipline=Discipline.COORD),
        )
        pub_token = (await directory.create_token(hub, None, publisher))[1]
        users, tokens, raw_tokens = [], [], []
        for i in range(sum(sizes)):
            user_id = new_id()
            users.append(
                {
                    "id": user_id,
                    "username": f"nat-{tag}-{i}",
                    "display_name": f"Officer {i}",
                    "discipline": Discipline.D1.value,
                    "is_admin": False,
                    "organisation_id": organisation["id"],
                    "active": True,
                    "created_at": utcnow(),
                }
            )
            raw = new_token()
            raw_tokens.append(raw)
            tokens.append(
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "token_hash": token_digest(raw),
                    "kind": "api",
                    "created_at": utcnow(),
                }
            )
        async with hub.db.write() as session:
            # SQLModel's stubs declare no __table__ (the declarative base sets it).
            await session.execute(insert(User.__table__), users)  # type: ignore[attr-defined]
            await session.execute(insert(ApiToken.__table__), tokens)  # type: ignore[attr-defined]
        created, clients, members = [], [], []
        first = 0
        for k, size in enumerate(sizes):
            incident = await incidents.create_incident(
                hub,
                None,
                IncidentCreateIn(title=f"National incident {k}", kind=IncidentKind.EXERCISE),
                [MemberIn(username=publisher, role=Role.CONTRIBUTOR)],
            )
            created.append({"id": str(incident["id"]), "cls": classify(k, 20)})
            for i in range(first, first + size):
                members.append(
                    {"incident_id": incident["id"], "user_id": users[i]["id"], "role": "viewer"}
                )
                clients.append({"token": raw_tokens[i], "incident": k})
            first += size
        async with hub.db.write() as session:
            await session.execute(insert(Membership.__table__), members)  # type: ignore[attr-defined]
        return {"incidents": created, "clients": clients, "pubToken": pub_token}
    finally:
        await hub.db.dispose()


class Loadgen:
    """bench/national_loadgen.js as a child process: its stderr (progress) to a log, its
    stdout read line by line (a phase line, then the result)."""

    def __init__(self, cfg: dict[str, Any], work: Path, name: str, peer_dir: Path) -> None:
        path = work / f"{name}.json"
        path.write_text(json.dumps(cfg))
        self.log = (work / f"{name}.log").open("w")
        self.process = subprocess.Popen(
            ["node", str(ROOT / "bench" / "national_loadgen.js"), str(path)],
            env={**os.environ, "NODE_PATH": str(peer_dir / "node_modules")},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.lines: list[str] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.arrived:
                self.lines.append(line.strip())
                self.arrived.notify_all()
        with self.arrived:
            self.lines.append("")  # end of output
            self.arrived.notify_all()

    def line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not self.lines:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.process.kill()
                    raise RuntimeError("load generator: no output in time")
                self.arrived.wait(left)
            line = self.lines.pop(0)
        if not line:
            self.process.wait(10)
            raise RuntimeError(f"load generator ended (rc {self.process.returncode})")
        return line

    def send(self, data: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(data) + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self.log.close()


async def post_while_down(port: int, token: str, incidents: list[dict[str, Any]]) -> dict[str, int]:
    """One feed entry in every incident once the hub is back (the clients are still away):
    each client then has one event to catch up on. Returns each incident's last seq."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        f"http://127.0.0.1:{port}", auth={"token": token}, transports=["websocket"]
    )
    try:
        targets = {}
        for incident in incidents:
            ack = await client.call(
                "feed.post",
                {
                    "incident_id": incident["id"],
                    "client_id": str(uuid.uuid4()),
                    "text": "posted while everyone was away (hub restarted)",
                },
                timeout=30,
            )
            if not ack.get("ok"):
                raise RuntimeError(f"post refused: {ack}")
            targets[incident["id"]] = int(ack["entry"]["seq"])
        return targets
    finally:
        await client.disconnect()


def run_hub(setup: str, args: argparse.Namespace, peer_dir: Path, work: Path) -> dict[str, Any]:
    instances = 2 if setup.startswith("2x-") else 1
    backend = setup.removeprefix("2x-")
    sizes = spread(args.clients, args.big, 20, args.medium_size, args.small_size)
    with throwaway_database(backend, work) as url:
        seeded = asyncio.run(seed_national(url, sizes))
        keys, _ = asyncio.run(add_vehicles(url, seeded["incidents"][0]["id"], args.vehicles))
        redis = RedisProcess(work).start() if instances > 1 else None
        env: dict[str, Any] = {"redis_url": redis.url} if redis else {}
        hubs = [start_hub(url, work, **env) for _ in range(instances)]
        loadgen = None
        try:
            cfg = {
                "mode": "hub",
                "ports": [h.port for h in hubs],
                "clients": seeded["clients"],
                "incidents": seeded["incidents"],
                "pubToken": seeded["pubToken"],
                "pids": {f"hub{i}": h.process.pid for i, h in enumerate(hubs) if h.process},
                "postSec": args.post_sec,
                "rates": RATES,
                "convoy": {"incidentId": seeded["incidents"][0]["id"], "keys": keys},
                "storm": True,
                "stormConcurrency": args.storm_concurrency,
                "maxSec": args.max_sec,
            }
            if args.profile and hubs[0].process is not None:
                py_spy(hubs[0].process.pid, f"profile-national-{setup}", args.profile)
            loadgen = Loadgen(cfg, work, f"national-{setup}", peer_dir)
            phase = json.loads(loadgen.line(args.max_sec))
            if phase.get("phase") != "restart":
                raise RuntimeError(f"unexpected load generator output: {phase}")
            # the restart: every instance killed (SIGKILL, a crash) and started again
            t0 = time.monotonic()
            for h in hubs:
                h.kill()
            for h in hubs:
                h.start(timeout=60)
            restart_s = time.monotonic() - t0
            targets = asyncio.run(
                post_while_down(hubs[0].port, seeded["pubToken"], seeded["incidents"])
            )
            if args.profile and hubs[0].process is not None:
                py_spy(hubs[0].process.pid, f"profile-national-storm-{setup}", args.profile)
            loadgen.send({"targets": targets})
            result: dict[str, Any] = json.loads(loadgen.line(args.max_sec))
            result["storm"]["restartSec"] = round(restart_s, 2)
        finally:
            if loadgen is not None:
                loadgen.close()
            for h in hubs:
                h.stop()
            if redis is not None:
                redis.stop()
    result["label"] = f"hub {setup}"
    result["sizes"] = {"big": sizes[0], "medium": sizes[1:21], "small": len(sizes) - 21}
    return result


def run_peer(args: argparse.Namespace, peer_dir: Path, work: Path) -> dict[str, Any]:
    sizes = spread(args.clients, args.big, 20, args.medium_size, args.small_size)
    clients = [{"token": "", "incident": k} for k, size in enumerate(sizes) for _ in range(size)]
    incidents = [{"id": f"incident-{k}", "cls": classify(k, 20)} for k in range(len(sizes))]
    peer = NodePeer(peer_dir, work).start()
    loadgen = None
    try:
        assert peer.process is not None
        cfg = {
            "mode": "peer",
            "ports": [peer.port],
            "clients": clients,
            "incidents": incidents,
            "pids": {"peer": peer.process.pid},
            "postSec": 0,
            "maxSec": args.max_sec,
        }
        loadgen = Loadgen(cfg, work, "national-peer", peer_dir)
        result: dict[str, Any] = json.loads(loadgen.line(args.max_sec))
    finally:
        if loadgen is not None:
            loadgen.close()
        peer.stop()
    result["label"] = "node socket.io peer"
    return result


def rows_of(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in runs:
        delivery = r.get("delivery") or {}
        classes = delivery.get("classes") or {}
        storm = r.get("storm") or {}
        rows.append(
            {
                "server": r["label"],
                "sockets": r["clients"],
                "KB/idle socket": r["kbPerIdleSocket"],
                "KB/joined": r["kbPerJoinedSocket"],
                "connects/s": r["connect"]["perSec"],
                "joins/s": r["join"]["perSec"],
                "ready/s": r["readyPerSec"],
                "p99 big ms": (classes.get("big") or {}).get("p99ms"),
                "p99 medium ms": (classes.get("medium") or {}).get("p99ms"),
                "p99 small ms": (classes.get("small") or {}).get("p99ms"),
                "worst incident p99 ms": delivery.get("worstIncidentP99ms"),
                "loss %": delivery.get("lossPct"),
                "fixes ok": (delivery.get("convoy") or {}).get("ok"),
                "restart s": storm.get("restartSec"),
                "storm s": storm.get("allCaughtUpSec"),
                "caught up": storm.get("caughtUp"),
                "missed": (storm.get("gaps", 0) + storm.get("short", 0)) if storm else None,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=2_000)
    parser.add_argument("--medium-size", type=int, default=100)
    parser.add_argument("--small-size", type=int, default=10)
    parser.add_argument("--vehicles", type=int, default=100, help="the convoy's, at 1 Hz")
    parser.add_argument("--post-sec", type=float, default=15)
    parser.add_argument("--storm-concurrency", type=int, default=500, help="rejoins in flight")
    parser.add_argument(
        "--setups",
        default="sqlite,2x-postgresql",
        help="hubs to measure: sqlite, postgresql, 2x-postgresql (two instances and Redis)",
    )
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--max-sec", type=int, default=900, help="hard limit per load run")
    parser.add_argument("--profile", type=int, default=0, help="py-spy the first hub for S s")
    args = parser.parse_args(argv)
    files = raise_open_files(4 * args.clients + 1_000)
    work = workdir()
    peer_dir = prepare_peer(work)
    runs = []
    # the peer first and last when there are several hub setups: it brackets the machine's noise
    setups = args.setups.split(",")
    if not args.no_peer:
        runs.append(run_peer(args, peer_dir, work))
    for setup in setups:
        runs.append(run_hub(setup, args, peer_dir, work))
    rows = rows_of(runs)
    print(f"open-file limit {files}")
    print(table(rows, list(rows[0]), f"National: {args.clients} sockets"))
    peer = runs[0] if not args.no_peer else None
    ratios = []
    for r in runs:
        if peer is None or r is peer:
            continue
        ratios.append(
            {
                "server": r["label"],
                "joins/s / peer connects/s": round(
                    r["join"]["perSec"] / peer["connect"]["perSec"], 2
                ),
                "ready/s / peer ready/s": round(r["readyPerSec"] / peer["readyPerSec"], 2),
                "KB/idle socket / peer": round(r["kbPerIdleSocket"] / peer["kbPerIdleSocket"], 2),
            }
        )
    if ratios:
        print()
        print(table(ratios, list(ratios[0]), "Against the Node peer (same run)"))
    data = {"args": vars(args), "runs": runs, "ratios": ratios}
    print(f"\nwrote {write_result('national', data)}")
    return data


if __name__ == "__main__":
    main()
