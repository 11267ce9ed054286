"""Wild fixes: which of a vehicle's fixes its track takes, when one jumps implausibly far.

A fix that implies a speed no car reaches from the track's last accepted fix is flagged. Alone,
it stays flagged: the next good fix agrees with the track again and the outlier is forgotten.
But when further fixes agree with it (a plausible speed between each of them) while all of
them disagree with the track, the track was the odd one out: a GPS cold start whose first fix
came from a cell tower, a tracker switched on again somewhere else. Once `needed` such fixes
agree (JUMP_AGREEING_FIXES, 2 by default), the track follows them at once: they are accepted,
oldest first, and un-flagged where they were stored; and if the last accepted fix had never
been confirmed by a fix that agreed with it (a first fix, or the first after a jump), it is the
odd fix, and gets flagged in its turn.

Pure functions of the track and one new fix, like the alert rules: the pipeline keeps what they
need between fixes (the flagged fixes that agree with one another, and whether the last
accepted fix was confirmed) in the vehicle's `alert_state`, under `track` (see `encode`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.convoys.geo import distance_m

# The reason a previously accepted fix is flagged once the fixes after it agree elsewhere.
DISOWNED = "disagrees with the {count} fixes that followed it"


@dataclass(frozen=True, slots=True)
class TrackPoint:
    lat: float
    lon: float
    ts: datetime
    speed: float | None = None
    heading: float | None = None
    accuracy: float | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    max_speed_kmh: float
    slack_m: float  # GPS noise allowed for before the speed is computed
    needed: int  # agreeing fixes that move the track (at least 2)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one new fix (newer than the track's last) does to the track."""

    flagged: str | None  # why the new fix is flagged; None when the track takes it
    accepted: tuple[TrackPoint, ...]  # fixes the track takes now, oldest first
    unflag: tuple[datetime, ...]  # earlier flagged fixes (by time) the track now takes
    disown: str | None  # the last accepted fix was the odd one: flag it, for this reason
    candidates: tuple[TrackPoint, ...]  # flagged fixes that agree, kept for the next fix
    confirmed: bool  # whether the track's last accepted fix agrees with one before it


def jump(a: TrackPoint, b: TrackPoint, limits: Limits) -> str | None:
    """Why going from `a` to `b` is faster than any car (GPS noise allowed for), or None."""
    seconds = abs((b.ts - a.ts).total_seconds())
    metres = distance_m(a.lon, a.lat, b.lon, b.lat)
    excess = metres - limits.slack_m
    if excess <= 0:
        return None
    kmh = excess / max(seconds, 0.001) * 3.6
    if kmh > limits.max_speed_kmh:
        return f"jump of {metres:.0f} m in {seconds:.1f} s (over {kmh:.0f} km/h)"
    return None


def judge(
    last: TrackPoint | None,
    confirmed: bool,
    candidates: Sequence[TrackPoint],
    fix: TrackPoint,
    limits: Limits,
) -> Verdict:
    """The verdict on `fix`, newer than `last` (the track's last accepted fix). `candidates`
    are the flagged fixes since `last` that agree with one another (oldest first)."""
    if last is None:
        # The first fix: taken, but nothing has confirmed it yet.
        return Verdict(None, (fix,), (), None, (), False)
    reason = jump(last, fix, limits)
    if reason is None:
        # The track goes on; a lone outlier before this fix stays flagged, forgotten.
        return Verdict(None, (fix,), (), None, (), True)
    if not all(jump(other, fix, limits) is None for other in candidates):
        # Disagrees with the track and with the fixes flagged since: a new start.
        return Verdict(reason, (), (), None, (fix,), confirmed)
    group = tuple(sorted((*candidates, fix), key=lambda point: point.ts))
    if len(group) < limits.needed:
        return Verdict(reason, (), (), None, group, confirmed)
    # Enough fixes agree with one another and not with the track: the track follows them.
    disown = None if confirmed else DISOWNED.format(count=len(group))
    unflag = tuple(point.ts for point in candidates)
    return Verdict(None, group, unflag, disown, (), True)


# the state kept between fixes -------------------------------------------------------------------


def decode(state: dict[str, Any], has_track: bool) -> tuple[bool, list[TrackPoint]]:
    """(confirmed, candidates) from a vehicle's alert_state. A vehicle with a track but no
    `track` state (stored before this state existed) counts as confirmed: its history is not
    second-guessed."""
    track = state.get("track")
    if not isinstance(track, dict):
        return has_track, []
    candidates = [
        TrackPoint(lat, lon, datetime.fromisoformat(ts), speed, heading, accuracy)
        for lat, lon, ts, speed, heading, accuracy in track.get("candidates", [])
    ]
    return bool(track.get("confirmed", has_track)), candidates


def encode(verdict: Verdict) -> dict[str, Any]:
    return {
        "confirmed": verdict.confirmed,
        "candidates": [
            [p.lat, p.lon, p.ts.isoformat(), p.speed, p.heading, p.accuracy]
            for p in verdict.candidates
        ],
    }
