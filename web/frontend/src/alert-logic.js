// The Alerts panel's pure logic (no DOM, no map), unit-tested: which anchors can make an
// area, what the area is called, the marker a text starts with, the payloads the hub takes,
// and which request's answer is still the one to show.

import { ALERT_LANGUAGES, EXERCISE_WORDS, PERIMETER_KINDS, TEST_WORD } from './enums.js';

/** Whether an anchor can be part of an alert's area: a zone drawn as a polygon or a circle. */
export function isPerimeter(anchor) {
  if (!anchor || !PERIMETER_KINDS.includes(anchor.kind) || !anchor.geometry) return false;
  const type = anchor.geometry.type;
  if (type === 'Polygon' || type === 'MultiPolygon') return true;
  const radius = anchor.properties && Number(anchor.properties.radius_m);
  return type === 'Point' && radius > 0;
}

/** The incident's perimeters, zones in their order of severity, then by label. */
export function perimeters(anchors) {
  return [...anchors]
    .filter(isPerimeter)
    .sort(
      (a, b) =>
        PERIMETER_KINDS.indexOf(a.kind) - PERIMETER_KINDS.indexOf(b.kind) ||
        String(a.label || '').localeCompare(String(b.label || '')) ||
        a.id.localeCompare(b.id),
    );
}

/**
 * What an area is called in the panel and in the confirmations: the labels of its perimeters
 * (`anchorsById` a Map of the store's anchors; a perimeter deleted since shows its id), or
 * `drawn` for an area drawn on the map.
 */
export function areaNames(area, anchorsById, { drawn, unnamed }) {
  const ids = (area && area.anchor_ids) || [];
  if (!ids.length) return [drawn];
  return ids.map((id) => {
    const anchor = anchorsById.get(String(id));
    return anchor ? anchor.label || unnamed : `#${id}`;
  });
}

/** The word every text of this CAP status starts with in `lang` ('' for Actual). */
export function markerWord(capStatus, lang) {
  if (capStatus === 'Exercise') return EXERCISE_WORDS[lang] || EXERCISE_WORDS.en;
  if (capStatus === 'Test') return TEST_WORD;
  return '';
}

/** Split a rendered text into its marker and the rest, so the page can show the marker apart. */
export function splitMarker(text, capStatus, lang) {
  const word = markerWord(capStatus, lang);
  const value = String(text || '');
  if (word && value.startsWith(word)) return { marker: word, rest: value.slice(word.length) };
  return { marker: '', rest: value };
}

/** Exercise and Test alerts reach only the test audience. */
export function isTestOnly(capStatus) {
  return capStatus === 'Exercise' || capStatus === 'Test';
}

/** The languages of `info` in the hub's order. */
export function languagesOf(info) {
  return ALERT_LANGUAGES.filter((lang) => info && info[lang]);
}

/** The languages whose three texts are written: what `…/alerts/preview` can render. */
export function completeInfo(info) {
  const out = {};
  for (const lang of languagesOf(info)) {
    const text = info[lang];
    const headline = String(text.headline || '').trim();
    const description = String(text.description || '').trim();
    const instruction = String(text.instruction || '').trim();
    if (headline && description && instruction) out[lang] = { headline, description, instruction };
  }
  return out;
}

/** The hub's area shape from what the form holds: perimeters, else a drawn geometry. */
export function areaPayload({ anchorIds, geometry }) {
  if (anchorIds && anchorIds.length) return { anchor_ids: [...anchorIds] };
  if (geometry) return { geometry };
  return null;
}

/** `<input type="datetime-local">` value (local time, minutes) for an ISO instant. */
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** ISO 8601 UTC for a `datetime-local` value read as local time; null if it is not one. */
export function fromLocalInput(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The form's values as the body of `POST /api/incidents/{id}/alerts` (or a draft's PATCH). */
export function draftPayload(values) {
  const body = {
    area: areaPayload(values),
    info: completeInfo(values.info),
    event: String(values.event || '').trim(),
    category: values.category,
    urgency: values.urgency,
    severity: values.severity,
    certainty: values.certainty,
    expires: fromLocalInput(values.expires),
    channels: [...values.channels],
  };
  if (values.capStatus === 'Actual' || values.capStatus === 'Test') body.cap_status = values.capStatus;
  return body;
}

const UPDATABLE = ['info', 'area', 'expires', 'event', 'category', 'urgency', 'severity', 'certainty', 'channels'];

/**
 * The fields of `body` (a draftPayload) that differ from the sent `alert`: what
 * `POST /api/alerts/{id}/update` takes. The area compares by its perimeters, or by its
 * geometry when drawn; `expires` by instant.
 */
export function changedFields(alert, body) {
  const changed = {};
  for (const key of UPDATABLE) {
    const next = body[key];
    if (next == null) continue;
    const before = alert[key];
    let same;
    if (key === 'area') {
      const ids = (before && before.anchor_ids) || [];
      same = next.anchor_ids
        ? ids.length > 0 && sameJson([...ids].sort(), [...next.anchor_ids].sort())
        : ids.length === 0 && sameJson(before && before.geometry, next.geometry);
    } else if (key === 'expires') {
      same = new Date(before).getTime() === new Date(next).getTime();
    } else if (key === 'channels') {
      same = sameJson([...(before || [])].sort(), [...next].sort());
    } else {
      same = sameJson(before, next);
    }
    if (!same) changed[key] = next;
  }
  return changed;
}

function sameJson(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** JSON with object keys sorted, so that key order does not make two values differ. */
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  }
  return value;
}

/**
 * What a role may do with an alert in its state: contributors edit drafts, managers also send,
 * update and cancel. A closed incident takes no new text, but an alert in force stays
 * cancellable (the hub's rule).
 */
export function allowedActions(alert, role, { closed = false } = {}) {
  const manager = role === 'manager';
  const writer = manager || role === 'contributor';
  const state = alert && alert.state;
  const inForce = state === 'sent' || state === 'updated';
  return {
    edit: writer && !closed && state === 'draft',
    send: manager && !closed && state === 'draft',
    update: manager && !closed && inForce,
    cancel: manager && inForce,
  };
}

/** The public page exists for Actual alerts once sent (Exercise and Test never go public). */
export function hasPublicPage(alert) {
  return Boolean(alert) && alert.cap_status === 'Actual' && alert.state !== 'draft';
}

/**
 * Calls whose answers may come back out of order (estimates and previews while typing):
 * `run(fn)` calls `fn()` after `delay` ms of quiet, and hands its answer to `onResult` only if
 * no later call was started meanwhile. `flush()` runs the pending call at once.
 */
export class Latest {
  constructor(delay, onResult, onError = () => {}, timers = globalThis) {
    this.delay = delay;
    this.onResult = onResult;
    this.onError = onError;
    this.timers = timers;
    this.generation = 0;
    this.timer = null;
    this.pending = null;
  }

  run(fn) {
    this.pending = fn;
    this.generation += 1;
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => this.flush(), this.delay);
  }

  /** Forget the pending call and any answer still to come. */
  cancel() {
    this.pending = null;
    this.generation += 1;
    this.timers.clearTimeout(this.timer);
  }

  async flush() {
    this.timers.clearTimeout(this.timer);
    const fn = this.pending;
    if (!fn) return;
    this.pending = null;
    const mine = this.generation;
    try {
      const result = await fn();
      if (mine === this.generation) this.onResult(result);
    } catch (error) {
      if (mine === this.generation) this.onError(error);
    }
  }
}

/** Deliveries of one channel handed over so far (sent, delivered or failed for good). */
export function handedOver(p) {
  return (p.sent || 0) + (p.delivered || 0) + (p.failed || 0);
}

/** Recent (time, handed over) samples per alert and channel, within a sliding window: what
 * the rate of a channel's delivery is measured on, as `alert.progress` messages arrive. */
export class ProgressSamples {
  constructor(windowMs = 30_000) {
    this.windowMs = windowMs;
    this.byKey = new Map();
  }

  add(key, done, now = Date.now()) {
    const samples = (this.byKey.get(key) || []).filter((s) => now - s.t <= this.windowMs);
    const last = samples[samples.length - 1];
    if (!last || last.done !== done || now - last.t >= 1000) samples.push({ t: now, done });
    this.byKey.set(key, samples);
    return samples;
  }
}

/** A channel's bar: how many of how many, the rate over the samples (per second, null until
 * two samples differ) and the seconds left at that rate (0 when nothing is queued). */
export function deliveryView(p, samples) {
  const done = handedOver(p);
  const queued = p.queued || 0;
  const total = done + queued;
  let rate = null;
  if (samples.length >= 2) {
    const first = samples[0];
    const last = samples[samples.length - 1];
    const seconds = (last.t - first.t) / 1000;
    if (seconds > 0 && last.done > first.done) rate = (last.done - first.done) / seconds;
  }
  const left = queued === 0 ? 0 : rate ? queued / rate : null;
  return { done, total, rate, left };
}

/** Seconds as the panel says them: "45 s", "12 min", "1 h 05". */
export function formatDuration(seconds) {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.ceil(s / 60)} min`;
  const hours = Math.floor(s / 3600);
  return `${hours} h ${String(Math.ceil((s % 3600) / 60)).padStart(2, '0')}`;
}
