"""hub/convoys/jumps.py: which fixes a vehicle's track takes when one jumps implausibly far.

Every scenario is a run of fixes through `judge`, each fed the track and the state the previous
verdicts left, as the pipeline does with the vehicle row (last position, alert_state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hub.convoys.geo import move
from hub.convoys.jumps import DISOWNED, Limits, TrackPoint, decode, encode, judge, jump

LON, LAT = 4.3522, 50.8467  # the Grand-Place, Brussels
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
LIMITS = Limits(max_speed_kmh=300.0, slack_m=100.0, needed=2)


def at(seconds: float, metres_east: float = 0.0) -> TrackPoint:
    lon, lat = move(LON, LAT, 90, metres_east) if metres_east else (LON, LAT)
    return TrackPoint(lat, lon, T0 + timedelta(seconds=seconds), speed=10.0)


@dataclass
class Track:
    """A vehicle as the pipeline keeps it: its last accepted fix and the jump state, and the
    flags of every fix it was given (as the positions table would hold them)."""

    limits: Limits = LIMITS
    last: TrackPoint | None = None
    state: dict[str, object] = field(default_factory=dict)
    flags: dict[datetime, str | None] = field(default_factory=dict)

    def send(self, point: TrackPoint) -> str | None:
        confirmed, candidates = decode(self.state, self.last is not None)
        verdict = judge(self.last, confirmed, candidates, point, self.limits)
        self.state = {"track": encode(verdict)}
        self.flags[point.ts] = verdict.flagged
        if verdict.disown is not None:
            assert self.last is not None
            self.flags[self.last.ts] = verdict.disown
        for ts in verdict.unflag:
            self.flags[ts] = None
        if verdict.accepted:
            self.last = max(verdict.accepted, key=lambda p: p.ts)
        return verdict.flagged

    def trail(self) -> list[datetime]:
        return sorted(ts for ts, flag in self.flags.items() if flag is None)


def test_a_plausible_drive_is_taken_fix_by_fix() -> None:
    track = Track()
    for n in range(5):
        assert track.send(at(10 * n, 150 * n)) is None  # 54 km/h
    assert track.last == at(40, 600)
    assert track.trail() == [at(10 * n).ts for n in range(5)]


def test_the_speed_check_allows_for_gps_noise_and_names_the_jump() -> None:
    assert jump(at(0), at(1, 99), LIMITS) is None  # within the slack
    assert jump(at(0), at(60, 5_000), LIMITS) is None  # 300 km/h less the slack
    reason = jump(at(0), at(10, 100_000), LIMITS)
    assert reason is not None and reason.startswith("jump of 100000 m in 10.0 s")
    assert "km/h" in reason
    # The same either way in time: an out-of-order pair is judged alike.
    assert jump(at(10, 100_000), at(0), LIMITS) == reason


def test_a_single_outlier_stays_flagged_and_the_track_goes_on() -> None:
    track = Track()
    assert track.send(at(0)) is None
    assert track.send(at(10, 150)) is None  # G1
    outlier = track.send(at(20, 100_000))  # O: 100 km away
    assert outlier is not None and "km/h" in outlier
    assert track.last == at(10, 150)
    assert track.send(at(30, 450)) is None  # G2 agrees with G1
    assert track.last == at(30, 450)
    assert track.flags[at(20).ts] == outlier  # O was never un-flagged
    # And the outlier is forgotten: the next good fix is simply taken.
    assert track.state["track"] == {"confirmed": True, "candidates": []}
    assert track.send(at(40, 600)) is None
    assert at(20).ts not in track.trail()


def test_agreeing_fixes_after_a_jump_move_the_track_at_once() -> None:
    """The tracker switched on again 100 km away: the first fix there is flagged, the second
    (agreeing with it) moves the track, and both are on the trail; the old track stays."""
    track = Track()
    for n in range(3):
        track.send(at(10 * n, 150 * n))  # confirmed by one another
    first = track.send(at(60, 100_000))
    assert first is not None
    assert track.send(at(70, 100_150)) is None
    assert track.last == at(70, 100_150)
    assert track.flags[at(60).ts] is None  # un-flagged
    assert track.trail() == [at(s).ts for s in (0, 10, 20, 60, 70)]
    # A vehicle whose track was confirmed keeps it: nothing there is disowned.
    assert all(flag is None for flag in track.flags.values())


def test_a_cold_start_first_fix_far_away_is_disowned() -> None:
    """A first fix from a cell tower 30 km off, then good fixes a few seconds apart: the
    track follows the good ones, and the first fix is flagged as the odd one."""
    track = Track()
    assert track.send(at(0, -30_000)) is None  # nothing to compare it with yet
    assert track.send(at(5)) is not None
    assert track.send(at(10, 100)) is None
    assert track.last == at(10, 100)
    assert track.flags[at(0).ts] == DISOWNED.format(count=2)
    assert track.trail() == [at(5).ts, at(10).ts]


def test_more_agreeing_fixes_can_be_required() -> None:
    track = Track(limits=Limits(max_speed_kmh=300.0, slack_m=100.0, needed=3))
    track.send(at(0, -30_000))
    assert track.send(at(5)) is not None
    assert track.send(at(10, 100)) is not None  # two agree: not yet enough
    assert track.send(at(15, 200)) is None
    assert track.trail() == [at(5).ts, at(10).ts, at(15).ts]


def test_wild_fixes_that_disagree_with_one_another_never_move_the_track() -> None:
    track = Track()
    track.send(at(0))
    track.send(at(10, 150))
    for n, east in enumerate((100_000, -80_000, 60_000, -40_000), 2):
        assert track.send(at(10 * n, east)) is not None
    assert track.last == at(10, 150)
    # Each wild fix started a new candidate track; only the newest is remembered.
    kept = track.state["track"]
    assert isinstance(kept, dict)
    assert len(kept["candidates"]) == 1
    assert track.trail() == [at(0).ts, at(10).ts]


def test_out_of_order_candidates_are_kept_in_time_order() -> None:
    """Fixes that reach the hub out of order after the jump: the track takes them oldest first,
    and its last position is the newest of them, whichever came last."""
    track = Track()
    track.send(at(0))
    track.send(at(10, 150))
    assert track.send(at(40, 100_300)) is not None
    assert track.send(at(30, 100_150)) is None  # older than the first candidate, agrees with it
    assert track.last == at(40, 100_300)
    assert track.trail() == [at(s).ts for s in (0, 10, 30, 40)]


def test_the_state_survives_its_json_round_trip() -> None:
    point = TrackPoint(50.5, 4.5, T0 + timedelta(microseconds=250), 3.0, None, 12.0)
    verdict = judge(at(0), True, [], point, LIMITS)
    assert verdict.flagged is not None and verdict.candidates == (point,)
    confirmed, candidates = decode({"track": encode(verdict)}, True)
    assert confirmed is True and candidates == [point]
    # A vehicle stored before this state existed: its track counts as confirmed.
    assert decode({}, True) == (True, [])
    assert decode({}, False) == (False, [])
