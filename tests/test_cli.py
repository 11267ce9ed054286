"""The `crisishub` command line, run as operators run it: a subprocess, from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.live import HubProcess


def crisishub(
    database_url: str, *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        input=stdin,
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_operator_sets_up_an_incident_end_to_end(
    database_url: str, hub_server: HubProcess, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:6]
    org = f"Fire Zone Brussels {suffix}"
    assert crisishub(database_url, "migrate", cwd=tmp_path).returncode == 0  # idempotent
    org_id = last_line(crisishub(database_url, "org", "add", org, "--kind", "fire", cwd=tmp_path))
    assert len(org_id) == 32
    user = f"officer-{suffix}"
    last_line(
        crisishub(
            database_url,
            "user",
            "add",
            user,
            "--org",
            org,
            "--discipline",
            "D1",
            "--password-stdin",
            stdin="a long passphrase\n",
            cwd=tmp_path,
        )
    )
    token = last_line(crisishub(database_url, "token", "create", user, cwd=tmp_path))
    assert token.startswith("chk_") and len(token) > 40
    incident = last_line(
        crisishub(
            database_url,
            "incident",
            "create",
            "Fire at the port",
            "--kind",
            "emergency",
            "--member",
            f"{user}:manager",
            cwd=tmp_path,
        )
    )
    response = httpx.get(
        f"{hub_server.url}/api/incidents/{incident}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["incident"]["role"] == "manager"
    login = httpx.post(
        f"{hub_server.url}/api/session", json={"username": user, "password": "a long passphrase"}
    )
    assert login.status_code == 200


def test_errors_are_one_line_with_nonzero_exit_and_write_nothing(
    database_url: str, hub_server: HubProcess, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:6]
    cases = [
        (("user", "add", f"u-{suffix}", "--org", "No Such Org", "--discipline", "D2"), "not_found"),
        (("token", "create", f"ghost-{suffix}"), "not_found"),
        (
            (
                "incident",
                "create",
                "X",
                "--kind",
                "emergency",
                "--member",
                f"ghost-{suffix}:viewer",
            ),
            "not_found",
        ),
        (("incident", "create", "X", "--kind", "emergency", "--member", "noroles"), "invalid"),
        (("incident", "create", "", "--kind", "emergency"), "invalid"),
        (("user", "add", "bad name!", "--org", "x", "--discipline", "D1"), "invalid"),
    ]
    for args, code in cases:
        result = crisishub(database_url, *args, cwd=tmp_path)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and code in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr
    org = f"Org {suffix}"
    last_line(crisishub(database_url, "org", "add", org, cwd=tmp_path))
    duplicate = crisishub(database_url, "org", "add", org, cwd=tmp_path)
    assert duplicate.returncode != 0 and "conflict" in duplicate.stderr
    bad_choice = crisishub(database_url, "user", "add", "x", "--org", org, "--discipline", "D9")
    assert bad_choice.returncode != 0
