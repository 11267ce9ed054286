// The JavaScript twin of the recovery client (protocol.md, design principle 2).
//
// The socket is only a notification: this module tracks the last `seq` applied for one
// incident and, on a gap or after a reconnect, asks `incident.join` with `since` so the hub
// answers from its database. It knows nothing of the DOM or of Socket.IO: the caller injects
// `request(event, payload) -> Promise<ack>` and callbacks, so it runs under `node --test`.

const DEFAULT_RETRY_MS = [500, 1000, 2000, 5000, 10000];

export class IncidentSync {
  /**
   * @param {object} opts
   * @param {string} opts.incidentId
   * @param {(event: string, payload: object) => Promise<object>} opts.request  emit with ack
   * @param {(snapshot: object, incident: object, seq: number) => void} opts.onSnapshot
   * @param {(event: object) => void} opts.onEvent  called once per event, in seq order
   * @param {(incident: object) => void} [opts.onIncident]
   * @param {(page: object) => void} [opts.onPresence]  the join's list of who is online, with its
   *   version; given, joins ask for presence as changes (`presence.changed`, issue 18)
   * @param {(state: string, detail?: object) => void} [opts.onState]  "syncing" | "live" | "error"
   * @param {(fn: () => void, ms: number) => unknown} [opts.setTimer]
   * @param {number[]} [opts.retryMs]
   */
  constructor({ incidentId, request, onSnapshot, onEvent, onIncident, onPresence, onState, setTimer, retryMs }) {
    this.incidentId = incidentId;
    this.request = request;
    this.onSnapshot = onSnapshot;
    this.onEvent = onEvent;
    this.onIncident = onIncident || (() => {});
    this.onPresence = onPresence || null;
    this.onState = onState || (() => {});
    this.setTimer = setTimer || ((fn, ms) => setTimeout(fn, ms));
    this.retryMs = retryMs || DEFAULT_RETRY_MS;
    /** Last seq applied; null until the first snapshot. */
    this.lastSeq = null;
    /** Events that arrived while a join was in flight, or ahead of a gap. */
    this.pending = new Map();
    this.joining = null;
    this.rejoin = false;
    this.failures = 0;
    this.connected = false;
    this.stopped = false;
  }

  /** The socket (re)connected: join, with `since` when something was already applied. */
  connect() {
    this.connected = true;
    this.failures = 0;
    // A join still in flight belongs to the old connection: join again once it settles.
    if (this.joining) this.rejoin = true;
    return this.join();
  }

  /** The socket dropped: nothing to do but wait for `connect()`; joins in flight are void. */
  disconnect() {
    this.connected = false;
  }

  /** Stop for good (e.g. access removed): no more joins. */
  stop() {
    this.stopped = true;
  }

  /** Handle one `incident.event` from the socket. */
  handleEvent(event) {
    if (!event || event.incident_id !== this.incidentId || typeof event.seq !== 'number') return;
    if (this.lastSeq !== null && event.seq <= this.lastSeq) return; // duplicate
    if (this.joining || this.lastSeq === null) {
      this.pending.set(event.seq, event); // applied after the join answers
      return;
    }
    if (event.seq === this.lastSeq + 1) {
      this._apply(event);
      this._drainPending();
      return;
    }
    // A gap: keep this one and ask the hub for what lies between.
    this.pending.set(event.seq, event);
    this.join();
  }

  /** Ask `incident.join`; concurrent callers share the one request in flight. */
  join() {
    if (this.stopped) return Promise.resolve(false);
    if (this.joining) return this.joining;
    this.joining = this._join().finally(() => {
      this.joining = null;
      if (this.rejoin) {
        this.rejoin = false;
        this.join();
      }
    });
    return this.joining;
  }

  async _join() {
    const startSeq = this.lastSeq;
    const payload = { incident_id: this.incidentId };
    if (this.lastSeq !== null) payload.since = this.lastSeq;
    if (this.onPresence) payload.presence = 'changes';
    this.onState('syncing');
    let ack;
    try {
      ack = await this.request('incident.join', payload);
    } catch (err) {
      return this._failed({ code: 'unavailable', message: String(err && err.message || err) }, true);
    }
    if (!ack || !ack.ok) {
      const error = (ack && ack.error) || { code: 'unavailable', message: 'no answer' };
      const retry = error.code === 'unavailable' || error.code === 'rate_limited';
      return this._failed(error, retry);
    }
    this.failures = 0;
    if (ack.incident) this.onIncident(ack.incident);
    if (ack.snapshot) {
      // First join, or the gap was too large to replay (`reset: true`).
      this.lastSeq = ack.seq;
      this.onSnapshot(ack.snapshot, ack.incident, ack.seq, Boolean(ack.reset));
    } else {
      const before = this.lastSeq;
      for (const event of ack.events || []) {
        if (event.seq === this.lastSeq + 1) this._apply(event);
      }
      if (typeof ack.seq === 'number' && ack.seq > this.lastSeq) {
        // The answer stopped short of the hub's seq: ask for the rest, or for a snapshot
        // when it brought nothing usable (so a broken answer cannot loop forever).
        if (this.lastSeq === before) this.lastSeq = null;
        return this._join();
      }
    }
    // After the snapshot (which a reset would clear it with): who is online, as of this join.
    if (ack.presence && this.onPresence) this.onPresence(ack.presence);
    // Drop what the answer already covered, apply what follows it.
    for (const seq of [...this.pending.keys()]) if (seq <= this.lastSeq) this.pending.delete(seq);
    this._drainPending();
    if (this.pending.size > 0) {
      // Still a hole (an event newer than the answer and a missing one before it): ask
      // again at once while answers make progress, later otherwise.
      if (startSeq === null || this.lastSeq > startSeq) return this._join();
      return this._failed({ code: 'unavailable', message: 'gap not filled' }, true);
    }
    this.onState('live');
    return true;
  }

  _failed(error, retry) {
    this.onState('error', error);
    if (!retry || !this.connected || this.stopped) return false;
    const delay = this.retryMs[Math.min(this.failures, this.retryMs.length - 1)];
    this.failures += 1;
    this.setTimer(() => {
      if (this.connected && !this.stopped) this.join();
    }, delay);
    return false;
  }

  _apply(event) {
    this.lastSeq = event.seq;
    this.onEvent(event);
  }

  _drainPending() {
    if (this.lastSeq === null) return;
    while (this.pending.has(this.lastSeq + 1)) {
      const event = this.pending.get(this.lastSeq + 1);
      this.pending.delete(event.seq);
      this._apply(event);
    }
  }
}
