"""Run every benchmark in a few minutes and print their tables (JSON in bench/results/).

python bench/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import convoys
import fanout
import feed_posts
import ingest
import instances
import reconnect_storm
import tak
from common import machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer clients, shorter steps")
    args = parser.parse_args()
    clients = "200" if args.quick else "1000"
    print(f"machine: {machine()}\n")
    started = time.monotonic()
    fanout.main(
        [
            "--clients",
            clients,
            "--variants",
            "fast,stock+websockets",
            "--step-sec",
            "3",
            "--rates",
            "5,10,20,30,40,60",
            "--burst",
            "60",
        ]
    )
    print()
    feed_posts.main(["--seconds", "4"])
    print()
    ingest.main(["--seconds", "4"])
    print()
    # CoT over TCP beside the OsmAnd figure just above (which it would otherwise measure again)
    tak.main(["--backends", "sqlite,postgresql", "--no-osmand"])
    print()
    convoys.main(["--watchers", clients])
    print()
    reconnect_storm.main(["--clients", clients, "--variants", "fast,stock"])
    print()
    instances.main(["--clients", clients])
    print(f"\nall benchmarks in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
