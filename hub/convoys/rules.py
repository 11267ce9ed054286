"""Alert rules for convoys: perimeters, corridor, stops and ETA. Pure functions of a vehicle's
remembered state and one new fix, so that every path and every instance decides the same way.

The remembered state lives on the vehicle row (`alert_state`):
  inside    anchor ids of the perimeters the vehicle is in
  off_route true once an off_route alert was raised, until it is back in the corridor
  still     [lon, lat, iso time] where and since when it has stayed within stop_radius_m
  stopped   true once a stopped alert was raised, until it moves again
  silent    true once a silent alert was raised, until a fix arrives
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.convoys.geo import ProjectedRoute, Zone, distance_m
from hub.settings import Settings
from models.base import iso
from models.events import ConvoyAlertData

# Back inside the corridor only below this share of its width, so a vehicle driving along the
# edge does not raise an alert at every fix.
CORRIDOR_HYSTERESIS = 0.8


@dataclass(frozen=True, slots=True)
class FixPoint:
    lat: float
    lon: float
    ts: datetime
    speed: float | None


def eta_seconds(route: ProjectedRoute | None, fix: FixPoint, settings: Settings) -> float | None:
    """Time to the destination along the route, at the reported speed (or a town pace)."""
    if route is None:
        return None
    speed = fix.speed if fix.speed and fix.speed > 1.0 else settings.eta_fallback_speed_mps
    return round(route.remaining_m(fix.lon, fix.lat) / speed, 1)


def alert_data(
    alert: str,
    vehicle: Any,
    fix: FixPoint,
    eta_s: float | None,
    **extra: Any,
) -> ConvoyAlertData:
    """The data of a `convoy.alert` event: the common fields, then the alert's own (`extra`,
    models.events.ALERT_FIELDS)."""
    data: ConvoyAlertData = {
        "alert": alert,
        "vehicle_id": vehicle.id,
        "vehicle_label": vehicle.label,
        "convoy_id": vehicle.convoy_id,
        "lat": fix.lat,
        "lon": fix.lon,
        "ts": iso(fix.ts),
        "eta_s": eta_s,
    }
    data.update(extra)  # type: ignore[typeddict-item]  # its own fields, as ALERT_FIELDS says
    return data


def evaluate(
    state: dict[str, Any],
    vehicle: Any,
    fix: FixPoint,
    zones: list[Zone],
    route: ProjectedRoute | None,
    settings: Settings,
) -> tuple[dict[str, Any], list[ConvoyAlertData]]:
    """The vehicle's next state and the alerts this (newest, accepted) fix raises."""
    state = dict(state)
    # (alert, extra fields): the ETA (a projection onto the route) is computed only when some
    # alert carries it, not for every fix of the batch.
    raised: list[tuple[str, dict[str, Any]]] = []
    state["silent"] = False

    # Perimeters: compare the set of zones the vehicle is in with the set it was in.
    before = set(state.get("inside", []))
    inside = {zone.anchor_id for zone in zones if zone.contains(fix.lon, fix.lat)}
    existing = {zone.anchor_id: zone for zone in zones}
    for zone in zones:
        if zone.anchor_id in inside and zone.anchor_id not in before:
            raised.append(("enter", _zone_fields(zone)))
    for anchor_id in sorted(before - inside):
        left = existing.get(anchor_id)
        if left is not None:  # a deleted perimeter is not "left"
            raised.append(("exit", _zone_fields(left)))
    state["inside"] = sorted(inside)

    # Corridor around the planned route.
    if route is not None:
        offset = route.offset_m(fix.lon, fix.lat)
        corridor = settings.off_route_corridor_m
        if offset > corridor and not state.get("off_route"):
            state["off_route"] = True
            raised.append(("off_route", {"distance_m": round(offset, 1)}))
        elif offset <= corridor * CORRIDOR_HYSTERESIS:
            state["off_route"] = False

    # Stops: measured in device time, so a tracker catching up judges the stop it made.
    still = state.get("still")
    if still is None or (distance_m(still[0], still[1], fix.lon, fix.lat) > settings.stop_radius_m):
        state["still"] = [fix.lon, fix.lat, iso(fix.ts)]
        state["stopped"] = False
    else:
        since = datetime.fromisoformat(still[2])
        still_for = (fix.ts - since).total_seconds()
        if still_for >= settings.stopped_after_s and not state.get("stopped"):
            state["stopped"] = True
            raised.append(("stopped", {"stopped_s": round(still_for, 1)}))
    if not raised:
        return state, []
    eta = eta_seconds(route, fix, settings)
    return state, [alert_data(alert, vehicle, fix, eta, **extra) for alert, extra in raised]


def _zone_fields(zone: Zone) -> dict[str, Any]:
    return {"anchor_id": zone.anchor_id, "anchor_kind": zone.kind, "anchor_label": zone.label}
