"""Two hub instances sharing PostgreSQL and Redis against one: the same fan-out workload
(N clients in one incident, a publisher on the first instance, stepped rates, then a burst);
the clients of the two-instance run are spread over both. Prints the scaling ratio of the
saturation deliveries/s and the loss (which must be 0).

    python bench/instances.py [--clients 1000] [--rates 10,20,30,40,60] [--pin] [--rounds 2]

With --pin each hub gets a core of its own (`taskset`: the single hub on CPU 0; the two on
CPUs 0 and 1); the load generator, PostgreSQL and Redis are not pinned and share both cores in
both runs (a 2-core machine has no third core to give them). --rounds alternates 1, 2, 1, 2 ...

The redis-server is Debian's, started on a free port like tests/test_instances.py does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, seed, start_hub, table, throwaway_database, workdir, write_result
from common import prepare_peer as _prepare_peer
from fanout import run_loadgen, saturation

sys.path.insert(0, str(ROOT))
from tests.test_instances import RedisProcess


def run(
    url: str, instances: int, args: argparse.Namespace, peer_dir: Path, work: Path
) -> dict[str, Any]:
    seeded = asyncio.run(seed(url, args.clients, viewer_users=args.users))
    redis = RedisProcess(work).start() if instances > 1 else None
    env = {"redis_url": redis.url} if redis else {}
    hubs = []
    try:
        for _ in range(instances):
            hubs.append(start_hub(url, work, **env))
        if args.pin:
            for i, h in enumerate(hubs):
                assert h.process is not None
                cpu = str(i % (os.cpu_count() or 1))
                subprocess.run(
                    ["taskset", "-a", "-p", "-c", cpu, str(h.process.pid)],
                    check=True,
                    capture_output=True,
                    timeout=10,
                )
        cfg = {
            "mode": "hub",
            "port": hubs[0].port,
            "ports": [h.port for h in hubs],
            "clients": args.clients,
            "tokens": seeded.viewer_tokens,
            "pubToken": seeded.publisher_token,
            "incidentId": seeded.incident_id,
            "rates": args.rates,
            "stepSec": args.step_sec,
            "burst": args.burst,
            "maxP99Ms": 1000,
            "pids": {f"hub{i}": h.process.pid for i, h in enumerate(hubs) if h.process},
            "maxSec": 200,
            "presence": args.presence,
        }
        result = run_loadgen(cfg, peer_dir, work, f"instances-{instances}")
    finally:
        for hub in hubs:
            hub.stop()
        if redis is not None:
            redis.stop()
    result["label"] = f"{instances} instance{'s' if instances > 1 else ''}"
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--rates", default="10,20,30,40,60")
    parser.add_argument("--step-sec", type=float, default=3)
    parser.add_argument("--burst", type=int, default=60)
    parser.add_argument("--backend", default="postgresql")
    parser.add_argument("--pin", action="store_true", help="each hub on a core of its own")
    parser.add_argument("--rounds", type=int, default=1, help="1 then 2 instances, N times")
    parser.add_argument("--presence", default=None, choices=["changes"], help="v2 joins")
    args = parser.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",")]
    work = workdir()
    peer_dir = _prepare_peer(work)
    runs = []
    for _ in range(args.rounds):
        for instances in (1, 2):
            with throwaway_database(args.backend, work) as url:
                runs.append(run(url, instances, args, peer_dir, work))
    rows = []
    for r in runs:
        for step in r["steps"]:
            rows.append(
                {
                    "hubs": r["label"],
                    "step": "burst" if step["mode"] == "burst" else f"{step['postsPerSec']:g}/s",
                    "deliveries/s": step["deliveriesPerSec"],
                    "p50 ms": step["p50ms"],
                    "p99 ms": step["p99ms"],
                    "loss %": step["lossPct"],
                    "cpu %": " ".join(f"{k}={v}" for k, v in step["cpuPct"].items()),
                }
            )
    print(table(rows, list(rows[0]), f"{args.clients} clients, one incident, {args.backend}"))
    ratios = [
        round(saturation(runs[i + 1]) / max(1, saturation(runs[i])), 2)
        for i in range(0, len(runs), 2)
    ]
    ratio = sorted(ratios)[len(ratios) // 2]
    lost = sum(s["expected"] - s["received"] for r in runs for s in r["steps"])
    print(
        f"\nscaling (2 instances / 1, saturation deliveries/s): {ratio}"
        f" (each round: {ratios}); deliveries lost: {lost}"
    )
    data = {"args": vars(args), "runs": runs, "ratio": ratio, "ratios": ratios, "lost": lost}
    print(f"wrote {write_result('instances', data)}")
    return data


if __name__ == "__main__":
    main()
