"""hub/ratelimit.py: token buckets for writes, and the login throttle built on them."""

from __future__ import annotations

import pytest

from hub import ratelimit
from hub.errors import HubError
from hub.ratelimit import LoginThrottle, RateLimiter, refused
from tests.unit.clock import Clock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """hub.ratelimit's own `time`, so that nothing else (the event loop) sees the fake time."""
    fake = Clock()
    monkeypatch.setattr(ratelimit, "time", fake)
    return fake


def refusal(limiter: RateLimiter, key: str, cost: float = 1.0) -> HubError:
    with pytest.raises(HubError) as raised:
        limiter.check(key, cost)
    return raised.value


# RateLimiter ---------------------------------------------------------------------------------


def test_a_burst_passes_then_the_next_write_is_refused_with_when_to_retry(clock: Clock) -> None:
    limiter = RateLimiter(2, 3)
    for _ in range(3):
        limiter.check("alice")
    error = refusal(limiter, "alice")
    assert error.code == "rate_limited"
    assert error.status == 429
    # One token comes back in 0.5 s: rounded up to a whole second, never 0.
    assert error.extra == {"retry_after": 1}
    assert error.message == "too many writes: at most 2/s with bursts of 3; retry in 1 s"
    assert error.ack()["retry_after"] == 1


def test_tokens_come_back_at_the_rate_and_never_beyond_the_burst(clock: Clock) -> None:
    limiter = RateLimiter(2, 3)
    for _ in range(3):
        limiter.check("alice")
    clock.advance(0.25)
    assert limiter.wait("alice") == pytest.approx(0.25)
    clock.advance(0.25)
    assert limiter.wait("alice") == 0.0
    limiter.check("alice")
    refusal(limiter, "alice")
    clock.advance(3_600)  # an hour idle still gives only a burst
    for _ in range(3):
        limiter.check("alice")
    refusal(limiter, "alice")


def test_wait_spends_nothing_and_a_refused_check_spends_nothing(clock: Clock) -> None:
    limiter = RateLimiter(1, 2)
    for _ in range(10):
        assert limiter.wait("alice") == 0.0
    limiter.check("alice")
    limiter.check("alice")
    for _ in range(10):
        refusal(limiter, "alice")  # hammering while refused does not push the retry back
    assert limiter.wait("alice") == pytest.approx(1.0)
    clock.advance(1.0)
    limiter.check("alice")


def test_spend_empties_the_bucket_but_never_runs_into_debt(clock: Clock) -> None:
    limiter = RateLimiter(2, 3)
    limiter.spend("alice", 10)
    assert limiter.wait("alice") == pytest.approx(0.5)  # one token away, not eight


def test_a_cost_is_waited_for_in_full(clock: Clock) -> None:
    limiter = RateLimiter(2, 3)
    limiter.spend("alice", 2)
    assert limiter.wait("alice", cost=1) == 0.0
    assert limiter.wait("alice", cost=3) == pytest.approx(1.0)  # 2 tokens short at 2/s
    assert refusal(limiter, "alice", cost=3).extra == {"retry_after": 1}
    limiter.check("alice", cost=1)
    assert limiter.wait("alice") == pytest.approx(0.5)


def test_keys_have_their_own_buckets(clock: Clock) -> None:
    limiter = RateLimiter(1, 1)
    limiter.check("alice")
    refusal(limiter, "alice")
    limiter.check("bob")


def test_a_rate_of_zero_allows_only_the_burst_and_says_retry_in_a_minute(clock: Clock) -> None:
    limiter = RateLimiter(0, 2)
    limiter.check("alice")
    limiter.check("alice")
    clock.advance(86_400)
    assert limiter.wait("alice") == 60.0
    assert refusal(limiter, "alice").extra == {"retry_after": 60}


def test_memory_stays_bounded_by_forgetting_refilled_buckets(clock: Clock) -> None:
    limiter = RateLimiter(1, 2, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.spend(key)
    clock.advance(60)  # all three are full again: they carry no information
    limiter.spend("d")
    assert len(limiter._buckets) <= 3  # memory is only observable from inside


def test_memory_keeps_the_buckets_that_still_limit_someone(clock: Clock) -> None:
    """Refilled buckets are forgotten first: those still refusing stay while there is room."""
    limiter = RateLimiter(0.01, 2, max_keys=4)
    limiter.spend("x")
    clock.advance(200)  # x has refilled
    for key in ("a", "b", "c"):
        limiter.spend(key, 2)
    limiter.spend("d")
    assert set(limiter._buckets) == {"a", "b", "c", "d"}
    refusal(limiter, "a")


def test_a_flood_of_new_keys_forgets_the_oldest_half(clock: Clock) -> None:
    """The memory bound wins over history when nothing has refilled: the oldest go."""
    limiter = RateLimiter(0.01, 2, max_keys=4)
    for key in ("a", "b", "c", "d"):
        limiter.spend(key, 2)
        clock.advance(1)
    limiter.spend("e")
    assert set(limiter._buckets) == {"c", "d", "e"}


# refused -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "seconds"), [(0.0, 1), (0.001, 1), (1.0, 1), (1.01, 2), (5.5, 6), (6.0, 6)]
)
def test_refused_rounds_the_retry_up_to_whole_seconds_of_at_least_one(
    retry: float, seconds: int
) -> None:
    error = refused("slow down", retry)
    assert error.code == "rate_limited"
    assert error.message == f"slow down; retry in {seconds} s"
    assert error.extra == {"retry_after": seconds}
    assert error.body() == {
        "error": {"code": "rate_limited", "message": f"slow down; retry in {seconds} s"},
        "retry_after": seconds,
    }


# LoginThrottle -------------------------------------------------------------------------------


def throttled(throttle: LoginThrottle, username: str, client: str) -> HubError:
    with pytest.raises(HubError) as raised:
        throttle.check(username, client)
    return raised.value


def test_successful_logins_are_never_slowed(clock: Clock) -> None:
    throttle = LoginThrottle()
    for _ in range(1_000):
        throttle.check("alice", "10.0.0.1")  # each attempt reserves a failure...
        throttle.succeeded("alice", "10.0.0.1")  # ...that a right password gives back


def test_ten_failures_lock_that_username_from_that_address_for_six_seconds(clock: Clock) -> None:
    throttle = LoginThrottle()
    for _ in range(9):
        throttle.check("alice", "10.0.0.1")  # an attempt that is not followed by succeeded()
    throttle.check("alice", "10.0.0.1")  # the tenth guess is still allowed
    error = throttled(throttle, "alice", "10.0.0.1")
    assert error.code == "rate_limited"
    assert error.message == "too many failed logins from this address; retry in 6 s"
    assert error.extra == {"retry_after": 6}
    # Not a lock on the username: the real user elsewhere, and others here, log in.
    throttle.check("alice", "10.0.0.2")
    throttle.check("bob", "10.0.0.1")


def test_the_username_is_counted_whatever_its_case(clock: Clock) -> None:
    throttle = LoginThrottle()
    for name in ["Alice", "ALICE", "alice", "aLiCe", "Alice"] * 2:
        throttle.check(name, "10.0.0.1")
    throttled(throttle, "alice", "10.0.0.1")
    throttled(throttle, "ALICE", "10.0.0.1")


def test_after_a_lock_one_more_guess_every_six_seconds(clock: Clock) -> None:
    throttle = LoginThrottle()
    for _ in range(10):
        throttle.check("alice", "10.0.0.1")
    for _ in range(50):
        throttled(throttle, "alice", "10.0.0.1")  # refused attempts do not count
    clock.advance(3)
    assert throttled(throttle, "alice", "10.0.0.1").extra == {"retry_after": 3}
    clock.advance(3)
    throttle.check("alice", "10.0.0.1")
    assert throttled(throttle, "alice", "10.0.0.1").extra == {"retry_after": 6}


def test_thirty_failures_from_one_address_slow_every_username_there(clock: Clock) -> None:
    throttle = LoginThrottle()
    for n in range(30):
        throttle.check(f"user{n}", "192.0.2.7")  # one guess each: no pair is locked
    error = throttled(throttle, "someone-else", "192.0.2.7")
    assert error.extra == {"retry_after": 2}
    throttle.check("someone-else", "192.0.2.8")  # another address is not affected
    clock.advance(2)
    throttle.check("someone-else", "192.0.2.7")


def test_the_longer_of_the_two_waits_is_the_one_given(clock: Clock) -> None:
    throttle = LoginThrottle()
    for _ in range(10):
        throttle.check("alice", "192.0.2.7")
    for n in range(20):
        throttle.check(f"user{n}", "192.0.2.7")
    assert throttled(throttle, "alice", "192.0.2.7").extra == {"retry_after": 6}  # pair: 6 s
    assert throttled(throttle, "bob", "192.0.2.7").extra == {"retry_after": 2}  # address: 2 s
