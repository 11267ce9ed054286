"""Fan-out: one incident, N connected clients, a publisher posting feed entries at stepped
rates; deliveries/s and p50/p99 post→receipt latency per step and at saturation (a burst).
In the same run, the Node socket.io peer with the same client count and message size.

    python bench/fanout.py [--clients 1000] [--rates 2,5,10,...] [--variants fast,stock]

Each hub variant is a fresh `crisishub serve` (FANOUT=fast|stock picks the delivery path), so
before/after compare within one run. The load generator is bench/fanout_loadgen.js (raw
Engine.IO clients in Node, the same code for the hub and the peer).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RESULTS,
    NodePeer,
    run_node,
    seed,
    start_hub,
    table,
    throwaway_database,
    workdir,
    write_result,
)
from common import prepare_peer as _prepare_peer

# the peer's message without padding: 42["pos",{"room":"incident-1","text":"@ts=…; bench N "}]
PEER_BASE_BYTES = 72


def run_loadgen(cfg: dict[str, Any], peer_dir: Path, work: Path, name: str) -> dict[str, Any]:
    return run_node(
        "fanout_loadgen.js",
        cfg,
        work,
        name,
        timeout=cfg.get("maxSec", 240) + 30,
        node_modules=peer_dir / "node_modules",
    )


def profile_later(pid: int, args: argparse.Namespace, name: str) -> threading.Timer | None:
    """With --profile: py-spy samples the hub for --profile-sec seconds after a delay, into
    bench/results/<name>.txt (collapsed stacks: one line per stack, then its sample count)."""
    if not args.profile:
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = ["py-spy", "record", "-p", str(pid), "-d", str(int(args.profile_sec)), "-r", "100"]
    command += ["-f", "raw", "--nonblocking", "-o", str(RESULTS / f"{name}.txt")]
    timer = threading.Timer(
        args.profile_delay, lambda: subprocess.run(command, capture_output=True, timeout=120)
    )
    timer.daemon = True
    timer.start()
    return timer


def bench_hub(variant: str, args: argparse.Namespace, peer_dir: Path, work: Path) -> dict[str, Any]:
    with throwaway_database("sqlite", work) as url:
        seeded = asyncio.run(seed(url, args.clients, viewer_users=args.users))
        name, *options = variant.split("+")
        extra: dict[str, Any] = {}
        for option in options:
            if option == "compress":
                extra["websocket_compression"] = True
            else:
                extra["websocket_impl"] = option
        hub = start_hub(url, work, fanout=name, **extra)
        try:
            assert hub.process is not None
            cfg = {
                "mode": "hub",
                "port": hub.port,
                "clients": args.clients,
                "tokens": seeded.viewer_tokens,
                "pubToken": seeded.publisher_token,
                "incidentId": seeded.incident_id,
                "rates": args.rates,
                "stepSec": args.step_sec,
                "burst": args.burst,
                "maxP99Ms": args.max_p99_ms,
                "pids": {"server": hub.process.pid},
                "maxSec": args.max_sec,
                "offerDeflate": args.offer_deflate,
                "presence": args.presence,
            }
            spy = profile_later(hub.process.pid, args, f"profile-{variant}")
            result = run_loadgen(cfg, peer_dir, work, f"hub-{variant}")
            if spy is not None:
                spy.cancel()
        finally:
            hub.stop()
    result["label"] = f"hub ({variant})"
    return result


def bench_peer(
    args: argparse.Namespace, peer_dir: Path, work: Path, msg_bytes: int
) -> dict[str, Any]:
    peer = NodePeer(peer_dir, work).start()
    try:
        assert peer.process is not None
        cfg = {
            "mode": "peer",
            "port": peer.port,
            "clients": args.clients,
            "rates": args.rates,
            "stepSec": args.step_sec,
            "burst": args.burst,
            "maxP99Ms": args.max_p99_ms,
            "padBytes": max(0, msg_bytes - PEER_BASE_BYTES),
            "pids": {"server": peer.process.pid},
            "maxSec": args.max_sec,
            "offerDeflate": args.offer_deflate,
        }
        result = run_loadgen(cfg, peer_dir, work, "peer")
    finally:
        peer.stop()
    result["label"] = "node socket.io peer"
    return result


def saturation(result: dict[str, Any]) -> int:
    return max((s["deliveriesPerSec"] for s in result["steps"]), default=0)


def p99_at(result: dict[str, Any], deliveries: int) -> float | None:
    for step in result["steps"]:
        if step["mode"] == "rate" and step["offeredDeliveriesPerSec"] == deliveries:
            p99: float | None = step["p99ms"]
            return p99
    return None


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument(
        "--users", type=int, default=None, help="distinct users (default: one per client)"
    )
    parser.add_argument("--rates", default="2,5,10,15,20,25,30,40,60", help="posts/s per step")
    parser.add_argument("--step-sec", type=float, default=4)
    parser.add_argument("--burst", type=int, default=100, help="posts back-to-back at the end")
    parser.add_argument("--max-p99-ms", type=float, default=1000)
    parser.add_argument("--max-sec", type=int, default=150, help="hard limit per load run")
    parser.add_argument(
        "--variants",
        default="fast",
        help="hubs to run: FANOUT[+WEBSOCKET_IMPL][+compress],... e.g. fast,stock+websockets;"
        " +compress sets WEBSOCKET_COMPRESSION",
    )
    parser.add_argument(
        "--offer-deflate",
        action="store_true",
        help="clients offer permessage-deflate, as browsers do",
    )
    parser.add_argument(
        "--presence",
        default=None,
        choices=["changes"],
        help="clients join with presence 'changes' (v2); default: v1, the whole list",
    )
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the hub (see below)")
    parser.add_argument("--profile-delay", type=float, default=30)
    parser.add_argument("--profile-sec", type=int, default=10)
    args = parser.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",")]

    work = workdir()
    peer_dir = _prepare_peer(work)
    runs = [bench_hub(v, args, peer_dir, work) for v in args.variants.split(",")]
    if not args.no_peer:
        runs.append(bench_peer(args, peer_dir, work, runs[0]["msgBytes"]))

    rows = []
    for run in runs:
        for step in run["steps"]:
            rows.append(
                {
                    "server": run["label"],
                    "step": "burst" if step["mode"] == "burst" else f"{step['postsPerSec']:g}/s",
                    "offered/s": step["offeredDeliveriesPerSec"],
                    "deliveries/s": step["deliveriesPerSec"],
                    "p50 ms": step["p50ms"],
                    "p99 ms": step["p99ms"],
                    "loss %": step["lossPct"],
                    "server cpu %": step["cpuPct"].get("server"),
                    "loadgen cpu %": step["cpuPct"].get("loadgen"),
                }
            )
    print(
        table(
            rows,
            list(rows[0]),
            f"Fan-out: {args.clients} clients in one room, message {runs[0]['msgBytes']} B",
        )
    )
    summary = []
    peer = runs[-1] if not args.no_peer else None
    for run in runs:
        line = {
            "server": run["label"],
            "saturation/s": saturation(run),
            "p99 ms @10k/s": p99_at(run, 10 * args.clients),
            "connect/s": run["connectPerSec"],
            "msg B": run["msgBytes"],
            "dropped": run["closedByServer"],
        }
        if peer is not None:
            line["x peer"] = round(saturation(run) / max(1, saturation(peer)), 3)
        summary.append(line)
    print()
    print(table(summary, list(summary[0]), "Saturation (best deliveries/s of any step)"))
    data = {"args": {k: v for k, v in vars(args).items()}, "runs": runs, "summary": summary}
    print(f"\nwrote {write_result('fanout', data)}")
    return data


if __name__ == "__main__":
    main()
