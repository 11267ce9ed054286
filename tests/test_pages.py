"""The page layer on its own: security headers, the tile host in the CSP, the unbuilt front end."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

import web.pages
from hub.settings import Settings
from web.pages import content_security_policy, page_routes, tile_source


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (None, None),
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tiles.example.be/{z}/{x}/{y}.png", "https://*.tiles.example.be"),
        ("http://10.0.0.5:8080/osm/{z}/{x}/{y}.png", "http://10.0.0.5:8080"),
        ("https://{tenant}.example/{z}/{x}/{y}.png", "https:"),
        ("javascript:alert(1)", None),
    ],
)
def test_the_tile_server_is_the_only_foreign_image_source(
    url: str | None, source: str | None
) -> None:
    assert tile_source(url) == source
    policy = content_security_policy(Settings(environment="test", tile_url=url))
    directives = dict(part.split(" ", 1) for part in policy.split("; "))
    assert directives["img-src"] == " ".join(filter(None, ["'self' data:", source]))
    assert directives["default-src"] == directives["script-src"] == directives["connect-src"]
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


async def test_an_unbuilt_front_end_gets_a_clear_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web.pages, "DIST", tmp_path / "dist")
    app = Starlette(routes=page_routes(Settings(environment="test")))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        answer = await client.get("/login")
        assert answer.status_code == 503
        assert "npm run build" in answer.text
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert (await client.get("/")).headers["location"] == "/incidents"
        assert (await client.get("/static/favicon.svg")).status_code == 200
