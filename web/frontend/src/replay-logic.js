// The replay's pure part (no DOM, no fetch): unit-tested in test/replay.test.js.

export const SPEEDS = [1, 5, 10, 30, 60];
export const TRAIL_MAX = 500;

/** A vehicle's trail up to `atMs`: the points of its stored track whose fix time is at or before it. */
export function trailUpTo(track, atMs) {
  if (!track || !Array.isArray(track.coords) || !track.coords.length) return [];
  const times = track.times;
  // The last index whose time is <= atMs (times ascend: the track is in device-time order).
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (times[mid] <= atMs) low = mid + 1;
    else high = mid;
  }
  return track.coords.slice(Math.max(0, low - TRAIL_MAX), low).map(([lon, lat]) => [lat, lon]);
}

/** A stored track (`GET /api/vehicles/{id}/track`) as coordinates beside their times in ms. */
export function trackOf(feature) {
  const coords = (feature && feature.geometry && feature.geometry.coordinates) || [];
  const times = ((feature && feature.properties && feature.properties.times) || []).map((t) => Date.parse(t));
  return { coords, times };
}

/**
 * The moments to step to around `atMs`, from the log around the state's seq (the events S-1, S
 * and S+1, `at` in ISO with microseconds). An event is shown once the moment is at or past
 * its time, so each event's moment is its millisecond plus one (Date.parse drops the
 * microseconds); the previous is the last such moment before atMs, the next the first after.
 */
export function neighbours(events, atMs) {
  let previous = null;
  let next = null;
  for (const event of events || []) {
    const moment = Date.parse(event.at) + 1;
    if (moment < atMs) previous = moment;
    else if (moment > atMs && next === null) next = moment;
  }
  return { previous, next };
}

/** States already fetched, by the moment asked (ms): scrubbing back over a stretch costs nothing. */
export class StateCache {
  constructor(size = 60) {
    this.size = size;
    this.map = new Map();
  }

  get(key) {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key); // most recently used last
      this.map.set(key, value);
    }
    return value;
  }

  set(key, value) {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.size) this.map.delete(this.map.keys().next().value);
  }

  clear() {
    this.map.clear();
  }
}

/**
 * One request at a time, the latest wish wins: `want(key)` asks for a key; while a fetch is in
 * flight, later wishes replace each other and only the last is fetched once it is done. So a
 * slider dragged across an hour sends a handful of requests, not one per pixel.
 */
export class Latest {
  constructor(fetcher, onValue, onError) {
    this.fetcher = fetcher;
    this.onValue = onValue;
    this.onError = onError || (() => {});
    this.busy = false;
    this.wanted = null;
  }

  want(key) {
    this.wanted = key;
    if (!this.busy) this._run();
  }

  async _run() {
    while (this.wanted !== null) {
      const key = this.wanted;
      this.wanted = null;
      this.busy = true;
      try {
        const value = await this.fetcher(key);
        // A newer wish is served next; this answer is still shown meanwhile (it is the nearest).
        this.onValue(key, value);
      } catch (error) {
        this.onError(key, error);
      } finally {
        this.busy = false;
      }
    }
  }
}

/**
 * The slider's range: the incident's life, from its opening to its closing (or now). It starts
 * a millisecond after the opening's millisecond: Date.parse drops the microseconds, and a
 * moment before the opening is refused.
 */
export function lifeOf(incident, nowMs) {
  const start = Date.parse(incident.created_at) + 1;
  const closed = incident.closed_at ? Date.parse(incident.closed_at) : NaN;
  const end = Number.isNaN(closed) ? nowMs : Math.min(closed, nowMs);
  return { start, end: Math.max(start, end) };
}
