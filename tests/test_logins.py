"""Logins behind and without a proxy: which forwarded headers are believed, the failure
throttle and its Retry-After, and the Secure cookie behind TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import HubProcess
from tests.seed import Seeder, TestUser


@pytest.fixture(scope="module")
def proxied_hub(database_url: str, logs: Path) -> Iterator[HubProcess]:
    """A hub behind a proxy on its own host, as docs/instances.md sets it up."""
    server = HubProcess(database_url, log_dir=logs, trusted_proxies="127.0.0.1").start()
    yield server
    server.stop()


async def log_in(
    http: httpx.AsyncClient, user: TestUser, password: str, **headers: str
) -> httpx.Response:
    return await http.post(
        "/api/session",
        json={"username": user.username, "password": password},
        headers={key.replace("_", "-"): value for key, value in headers.items()},
    )


async def test_failed_logins_are_throttled_with_retry_after_and_spare_other_accounts(
    hub_server: HubProcess, seed: Seeder
) -> None:
    target, colleague = await seed.user("target"), await seed.user("colleague")
    async with httpx.AsyncClient(base_url=hub_server.url) as http:
        # Successes cost nothing: a user who logs in often is never slowed down.
        for _ in range(12):
            assert (await log_in(http, target, target.password)).status_code == 200
        for number in range(10):
            # Forwarded addresses are not believed without TRUSTED_PROXIES: one bucket.
            wrong = await log_in(http, target, "guess", x_forwarded_for=f"192.0.2.{number}")
            assert wrong.status_code == 401, number
        refused = await log_in(http, target, target.password, x_forwarded_for="198.51.100.7")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        body = refused.json()
        assert body["error"]["code"] == "rate_limited"
        assert "failed logins" in body["error"]["message"]
        assert body["retry_after"] == int(refused.headers["retry-after"])
        # Another account from the same address is not locked out by these failures.
        assert (await log_in(http, colleague, colleague.password)).status_code == 200


async def test_behind_a_trusted_proxy_the_client_address_and_tls_are_believed(
    proxied_hub: HubProcess, seed: Seeder
) -> None:
    target = await seed.user("target")
    async with httpx.AsyncClient(base_url=proxied_hub.url) as http:
        for _ in range(10):
            wrong = await log_in(http, target, "guess", x_forwarded_for="192.0.2.10")
            assert wrong.status_code == 401
        from_guesser = await log_in(http, target, target.password, x_forwarded_for="192.0.2.10")
        assert from_guesser.status_code == 429
        # The guesser elsewhere cannot lock the real user out.
        real = await log_in(
            http, target, target.password, x_forwarded_for="198.51.100.7", x_forwarded_proto="https"
        )
        assert real.status_code == 200
        assert "secure" in real.headers["set-cookie"].lower()
        plain = await log_in(http, target, target.password, x_forwarded_for="198.51.100.8")
        assert "secure" not in plain.headers["set-cookie"].lower()


async def test_without_a_trusted_proxy_forwarded_tls_is_not_believed(
    hub_server: HubProcess, seed: Seeder
) -> None:
    user = await seed.user("user")
    async with httpx.AsyncClient(base_url=hub_server.url) as http:
        answer = await log_in(http, user, user.password, x_forwarded_proto="https")
        assert answer.status_code == 200
        assert "secure" not in answer.headers["set-cookie"].lower()


def test_trusted_proxies_must_be_addresses() -> None:
    from pydantic import ValidationError

    from hub.settings import Settings

    assert Settings(
        environment="test", trusted_proxies="127.0.0.1, 10.0.0.0/8"
    ).trusted_proxies == [
        "127.0.0.1",
        "10.0.0.0/8",
    ]
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings(environment="test", trusted_proxies="*")


def test_parallel_guesses_cannot_pass_the_throttle_together() -> None:
    from hub.errors import HubError
    from hub.ratelimit import LoginThrottle

    throttle = LoginThrottle()
    # Eleven guesses checked before any of them has failed: the eleventh is refused.
    for _ in range(10):
        throttle.check("amina", "192.0.2.1")
    with pytest.raises(HubError) as refused:
        throttle.check("amina", "192.0.2.1")
    assert refused.value.code == "rate_limited" and refused.value.extra["retry_after"] >= 1
    # A success gives its reservation back.
    other = LoginThrottle()
    for _ in range(20):
        other.check("amina", "192.0.2.2")
        other.succeeded("amina", "192.0.2.2")


def test_rate_limiter_memory_stays_bounded_under_a_flood_of_keys() -> None:
    from hub.ratelimit import RateLimiter

    limiter = RateLimiter(1 / 6, 10, max_keys=1_000)
    for number in range(10_000):  # every key spent once: none has refilled yet
        limiter.spend(f"user-{number}")
    assert len(limiter._buckets) <= 1_000
    assert "user-9999" in limiter._buckets  # the newest are kept
