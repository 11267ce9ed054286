// The incident's state as the page knows it: pure data, no DOM, so it is unit-tested.
// Views subscribe and redraw the part named in each change.

import { mergeAlerts } from './convoy-logic.js';
import { mergeActivated } from './plans-logic.js';

const TRAIL_MAX = 500;
const ALERTS_MAX = 200;

/** An anchor from a FeatureCollection Feature or from an event's `data`, in one shape. */
export function normalizeAnchor(item) {
  if (item && item.type === 'Feature') {
    const { kind, label, version, updated_at, updated_by, ...own } = item.properties || {};
    return {
      id: String(item.id),
      kind,
      label,
      version,
      updated_at,
      updated_by,
      geometry: item.geometry,
      properties: own,
    };
  }
  return { properties: {}, ...item, id: String(item.id) };
}

/** A route is GeoJSON: a geometry, a Feature or a FeatureCollection; return its geometries. */
export function routeGeometries(route) {
  if (!route) return [];
  if (route.type === 'FeatureCollection') return route.features.map((f) => f.geometry).filter(Boolean);
  if (route.type === 'Feature') return route.geometry ? [route.geometry] : [];
  return [route];
}

export class IncidentStore {
  constructor() {
    this.listeners = new Set();
    this.clear();
  }

  clear() {
    this.incident = null;
    this.anchors = new Map();
    this.deletedAnchors = new Set();
    this.entries = new Map();
    this.convoys = new Map();
    this.vehicles = new Map();
    this.alerts = [];
    this.populationAlerts = new Map();
    this.online = [];
    this.plans = []; // the plans activated in the incident (PlanActivated), in that order
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  _notify(change) {
    for (const fn of this.listeners) fn(change);
  }

  setIncident(incident) {
    if (!incident) return;
    this.incident = { ...this.incident, ...incident };
    this._notify({ type: 'incident' });
  }

  /** Replace everything with a snapshot (first join or `reset: true`). */
  reset(snapshot, incident) {
    const keepAlerts = this.alerts;
    const keepPopulationAlerts = this.populationAlerts;
    this.clear();
    this.alerts = keepAlerts;
    this.populationAlerts = keepPopulationAlerts;
    this.incident = incident || null;
    for (const feature of (snapshot.anchors && snapshot.anchors.features) || []) {
      const anchor = normalizeAnchor(feature);
      this.anchors.set(anchor.id, anchor);
    }
    for (const entry of snapshot.feed || []) this.entries.set(String(entry.id), entry);
    this.setConvoys(snapshot.convoys || [], false);
    this.online = snapshot.online || [];
    this.plans = snapshot.plans || [];
    this._notify({ type: 'reset' });
  }

  /** Apply one `incident.event` (already in seq order). */
  apply(event) {
    const { type, data } = event;
    switch (type) {
      case 'feed.posted':
      case 'feed.corrected':
        this.addEntry(data);
        break;
      case 'anchor.created':
      case 'anchor.updated':
      case 'anchor.deleted':
        this.upsertAnchor(data);
        break;
      case 'incident.updated':
        this.setIncident(data);
        break;
      case 'convoy.alert':
        this.addAlert({ ...data, at: event.at, seq: event.seq });
        break;
      case 'convoy.updated':
        this.upsertConvoy(data);
        break;
      case 'alert.drafted':
      case 'alert.sent':
      case 'alert.updated':
      case 'alert.cancelled':
        this.upsertPopulationAlert(data);
        break;
      case 'plan.activated':
        this.addPlan(data);
        break;
      default:
        this._notify({ type: 'event', event });
    }
  }

  addEntry(entry) {
    if (!entry) return;
    this.entries.set(String(entry.id), entry);
    this._notify({ type: 'feed', entry });
  }

  /**
   * Insert, update or delete an anchor, keeping the highest version: an ack may bring a state
   * before the event that announces it, and the later, older copy must not undo it.
   */
  upsertAnchor(data) {
    if (!data) return false;
    const anchor = normalizeAnchor(data);
    const current = this.anchors.get(anchor.id);
    if (this.deletedAnchors.has(anchor.id)) return false;
    if (current && typeof current.version === 'number' && anchor.version < current.version) return false;
    if (anchor.deleted) {
      this.anchors.delete(anchor.id);
      this.deletedAnchors.add(anchor.id);
      this._notify({ type: 'anchor', id: anchor.id, anchor: null });
      return true;
    }
    this.anchors.set(anchor.id, anchor);
    this._notify({ type: 'anchor', id: anchor.id, anchor });
    return true;
  }

  /** A plan activated in the incident: once per plan (a replay or the answer repeats it). */
  addPlan(activation) {
    if (!activation || !activation.plan) return;
    this.plans = mergeActivated(this.plans, activation);
    this._notify({ type: 'plan', activation });
  }

  /** Convoys from a snapshot or `GET /api/incidents/{id}/convoys`; keeps known trails. */
  setConvoys(convoys, notify = true) {
    const trails = new Map([...this.vehicles].map(([id, v]) => [id, v.trail]));
    this.convoys = new Map();
    this.vehicles = new Map();
    for (const convoy of convoys) {
      const id = String(convoy.id);
      this.convoys.set(id, { id, name: convoy.name, route: convoy.route || null });
      for (const v of convoy.vehicles || []) {
        const vid = String(v.id);
        const pos = v.last_position || null;
        const trail = trails.get(vid) || [];
        if (pos && !trail.length) trail.push([pos.lat, pos.lon]);
        this.vehicles.set(vid, { id: vid, label: v.label || vid, convoy_id: id, position: pos, trail, sidc: v.sidc || null });
      }
    }
    if (notify) this._notify({ type: 'convoys' });
  }

  /**
   * A `convoy.updated` event: the convoy as a snapshot has it (its route, a new vehicle, a
   * vehicle's label or symbol). Known vehicles keep their trail and any newer position.
   */
  upsertConvoy(convoy) {
    if (!convoy || convoy.id == null) return;
    const id = String(convoy.id);
    this.convoys.set(id, { id, name: convoy.name, route: convoy.route || null });
    for (const v of convoy.vehicles || []) {
      const vid = String(v.id);
      const pos = v.last_position || null;
      const known = this.vehicles.get(vid);
      if (!known) {
        this.vehicles.set(vid, { id: vid, label: v.label || vid, convoy_id: id, position: pos, trail: pos ? [[pos.lat, pos.lon]] : [], sidc: v.sidc || null });
        continue;
      }
      Object.assign(known, { label: v.label || vid, convoy_id: id, sidc: v.sidc || null });
      if (pos && (!known.position || (pos.ts && known.position.ts && pos.ts > known.position.ts))) known.position = pos;
    }
    this._notify({ type: 'convoys' });
  }

  /** Replace a vehicle's trail with its stored track (`GET /api/vehicles/{id}/track`). */
  setTrack(vehicleId, feature) {
    const vehicle = this.vehicles.get(String(vehicleId));
    const coords = feature && feature.geometry && feature.geometry.coordinates;
    if (!vehicle || !Array.isArray(coords)) return;
    vehicle.trail = coords.slice(-TRAIL_MAX).map(([lon, lat]) => [lat, lon]);
    if (vehicle.position) {
      const last = vehicle.trail[vehicle.trail.length - 1];
      if (!last || last[0] !== vehicle.position.lat || last[1] !== vehicle.position.lon) {
        vehicle.trail.push([vehicle.position.lat, vehicle.position.lon]);
      }
    }
    this._notify({ type: 'vehicle', vehicle });
  }

  /** Apply a `convoy.positions` message; returns ids of vehicles the store did not know. */
  applyPositions(positions) {
    const unknown = [];
    for (const p of positions || []) {
      const vid = String(p.vehicle_id);
      let vehicle = this.vehicles.get(vid);
      if (!vehicle) {
        vehicle = { id: vid, label: vid, convoy_id: p.convoy_id != null ? String(p.convoy_id) : null, position: null, trail: [] };
        this.vehicles.set(vid, vehicle);
        unknown.push(vid);
      }
      if (vehicle.position && vehicle.position.ts && p.ts && p.ts < vehicle.position.ts) continue;
      vehicle.position = { lat: p.lat, lon: p.lon, ts: p.ts, speed: p.speed, heading: p.heading };
      vehicle.trail.push([p.lat, p.lon]);
      if (vehicle.trail.length > TRAIL_MAX) vehicle.trail.splice(0, vehicle.trail.length - TRAIL_MAX);
      this._notify({ type: 'vehicle', vehicle });
    }
    return unknown;
  }

  addAlert(alert) {
    if (alert.seq != null && this.alerts.some((a) => a.seq === alert.seq)) return;
    this.alerts.unshift(alert);
    this.alerts.length = Math.min(this.alerts.length, ALERTS_MAX);
    this._notify({ type: 'alert', alert });
  }

  /** Vehicle alerts read from the log (GET …/convoy-alerts), merged with those held by seq. */
  loadAlerts(events) {
    const loaded = (events || []).filter((e) => e.type === 'convoy.alert').map((e) => ({ ...e.data, at: e.at, seq: e.seq }));
    this.alerts = mergeAlerts(this.alerts, loaded, ALERTS_MAX);
    this._notify({ type: 'alerts' });
  }

  /** A population alert (BE-Alert) from an event or an answer; the highest version wins. */
  upsertPopulationAlert(alert) {
    if (!alert || alert.id == null) return false;
    const id = String(alert.id);
    const current = this.populationAlerts.get(id);
    if (current && alert.version < current.version) return false;
    // alert.progress arrives apart from the alert's own changes: keep the latest we have.
    const progress = alert.progress && Object.keys(alert.progress).length ? alert.progress : current && current.progress;
    this.populationAlerts.set(id, { ...alert, id, progress: progress || {} });
    this._notify({ type: 'population-alert', id });
    return true;
  }

  /** The list from `GET /api/incidents/{id}/alerts`; a newer copy the events brought stays. */
  setPopulationAlerts(alerts) {
    const before = this.populationAlerts;
    this.populationAlerts = new Map();
    for (const alert of alerts || []) {
      const id = String(alert.id);
      const known = before.get(id);
      this.populationAlerts.set(id, known && known.version > alert.version ? known : { ...alert, id });
    }
    for (const [id, known] of before) if (!this.populationAlerts.has(id)) this.populationAlerts.set(id, known);
    this._notify({ type: 'population-alerts' });
  }

  /** An `alert.progress` message: deliveries by channel of one alert. */
  setAlertProgress(message) {
    const alert = message && this.populationAlerts.get(String(message.alert_id));
    if (!alert) return;
    alert.progress = message.by_channel || {};
    this._notify({ type: 'population-alert', id: alert.id });
  }

  /** Population alerts newest first. */
  populationAlertList() {
    return [...this.populationAlerts.values()].sort(
      (a, b) => String(b.created_at || '').localeCompare(String(a.created_at || '')) || a.id.localeCompare(b.id),
    );
  }

  setOnline(online) {
    this.online = online || [];
    this._notify({ type: 'presence' });
  }

  /** Ids of entries that a later entry corrects. */
  correctedIds() {
    const ids = new Map();
    for (const e of this.entries.values()) if (e.corrects) ids.set(String(e.corrects), e);
    return ids;
  }

  /** Entries newest first, filtered by discipline, kind and priority ('' = all). */
  feed(filters = {}) {
    return filterEntries([...this.entries.values()], filters).sort((a, b) => b.seq - a.seq);
  }
}

export function filterEntries(entries, { discipline = '', kind = '', priority = '' } = {}) {
  return entries.filter(
    (e) =>
      (!discipline || (e.author && e.author.discipline) === discipline) &&
      (!kind || (e.kind || 'info') === kind) &&
      (!priority || (e.priority || 'normal') === priority),
  );
}
