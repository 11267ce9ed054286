"""Shared plumbing for the benchmarks: throw-away databases, seeding through the domain
functions, live hub processes (tests/live.py), the Node peer, tables and JSON results.

Everything listens and connects on 127.0.0.1 only; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.live import HubProcess, free_port, migrate  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PEER_SRC = (ROOT / ".." / "shared" / "peers" / "node-socketio").resolve()
PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")


# databases ----------------------------------------------------------------------------------


@contextmanager
def throwaway_database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh migrated database: a SQLite file in `workdir` or a PostgreSQL database that is
    dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        migrate(url)
        yield url
        return
    import psycopg

    name = f"crisishub_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{PG_BASE}/{name}"
        migrate(url)
        yield url
    finally:
        with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# seeding ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    incident_id: str
    publisher_token: str
    viewer_tokens: list[str]
    publisher_tokens: list[str]


async def seed(
    url: str, viewers: int, *, viewer_users: int | None = None, publishers: int = 1
) -> Seeded:
    """One incident, a contributor who publishes and `viewers` viewer tokens spread over
    `viewer_users` distinct users (default: one user per token, as in a real crisis room).
    Written through the domain functions the CLI uses; users get no password (token only)."""
    from hub.actions import directory, incidents
    from hub.context import Hub
    from hub.db import Database
    from hub.realtime.notify import Notifier
    from hub.settings import Settings
    from models.directory import Discipline
    from models.incident import IncidentKind, Role
    from models.shapes import IncidentCreateIn, MemberIn, OrganisationIn, UserIn

    settings = Settings(environment="test", database_url=url)
    hub = Hub(settings=settings, db=Database(url), notifier=Notifier(None))
    try:
        await directory.add_organisation(hub, None, OrganisationIn(name="Bench Fire"))
        tag = uuid.uuid4().hex[:6]
        users = viewer_users or viewers
        names = [f"bench-{tag}-v{i}" for i in range(users)]
        for i, name in enumerate(names):
            await directory.add_user(
                hub,
                None,
                UserIn(
                    username=name,
                    organisation="Bench Fire",
                    discipline=Discipline.D1,
                    display_name=f"Viewer {i}",
                ),
            )
        publisher = f"bench-{tag}-pub"
        await directory.add_user(
            hub,
            None,
            UserIn(username=publisher, organisation="Bench Fire", discipline=Discipline.COORD),
        )
        members = [MemberIn(username=n, role=Role.VIEWER) for n in names]
        members.append(MemberIn(username=publisher, role=Role.CONTRIBUTOR))
        incident = await incidents.create_incident(
            hub, None, IncidentCreateIn(title="Bench incident", kind=IncidentKind.EXERCISE), members
        )
        pub_tokens = [
            (await directory.create_token(hub, None, publisher))[1] for _ in range(publishers)
        ]
        tokens = [
            (await directory.create_token(hub, None, names[i % users]))[1] for i in range(viewers)
        ]
        return Seeded(str(incident["id"]), pub_tokens[0], tokens, pub_tokens)
    finally:
        await hub.db.dispose()


def start_hub(url: str, log_dir: Path, **env: Any) -> HubProcess:
    """`python -m hub serve` as operators run it, with limits raised for a publisher that
    posts far above a human's rate."""
    defaults = {"post_rate_per_second": 1_000_000, "post_rate_burst": 1_000_000}
    return HubProcess(url, log_dir=log_dir, **{**defaults, **env}).start(timeout=60)


# the Node peer ------------------------------------------------------------------------------


def prepare_peer(workdir: Path) -> Path:
    """Copy the Node socket.io peer to a writable temp dir and `npm ci` there (its code is
    never committed here)."""
    if not PEER_SRC.is_dir():
        raise RuntimeError(f"Node peer not found at {PEER_SRC}")
    dest = workdir / "peer"
    shutil.copytree(PEER_SRC, dest)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
        cwd=dest,
        check=True,
        capture_output=True,
        timeout=180,
    )
    return dest


def run_node(
    script: str,
    cfg: dict[str, Any],
    work: Path,
    name: str,
    *,
    timeout: float,
    node_modules: Path | None = None,
) -> dict[str, Any]:
    """Run a Node load generator (bench/<script>) with `cfg` as its JSON configuration file;
    its last line on stdout is its JSON result. `node_modules`: where it finds `ws` (the
    peer's, prepared by prepare_peer)."""
    path = work / f"{name}.json"
    path.write_text(json.dumps(cfg))
    env = {**os.environ}
    if node_modules is not None:
        env["NODE_PATH"] = str(node_modules)
    proc = subprocess.run(
        ["node", str(ROOT / "bench" / script), str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen {name} failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


class NodePeer:
    def __init__(self, peer_dir: Path, log_dir: Path) -> None:
        self.port = free_port()
        self.peer_dir = peer_dir
        self.log_path = log_dir / f"peer-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> NodePeer:
        self.process = subprocess.Popen(
            ["node", "server.js"],
            cwd=self.peer_dir,
            env={**os.environ, "PORT": str(self.port)},
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        import httpx

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=0.5)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("node peer did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


# output -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "mem_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "loadavg": os.getloadavg(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str = "") -> str:
    cells = [[_fmt(row.get(col)) for col in columns] for row in rows]
    widths = [max(len(col), *(len(c[i]) for c in cells)) for i, col in enumerate(columns)]
    lines = [title] if title else []
    lines.append("  ".join(col.rjust(w) for col, w in zip(columns, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=1))
    return path


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def py_spy(pid: int, name: str, seconds: int) -> subprocess.Popen[bytes] | None:
    """Sample a hub with py-spy for `seconds` into bench/results/<name>.txt (collapsed
    stacks: one stack per line, then its sample count); None when py-spy is missing."""
    if shutil.which("py-spy") is None:
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = ["py-spy", "record", "-p", str(pid), "-d", str(seconds), "-r", "100", "-f", "raw"]
    command += ["--nonblocking", "-o", str(RESULTS / f"{name}.txt")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="crisishub-bench-"))


def run(coro: Any, timeout: float) -> Any:
    """Run a benchmark coroutine with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
