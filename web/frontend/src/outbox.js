// Posts written while the hub cannot be reached (issue 19, item 13): kept in order, with
// when they were written, and sent once it can be reached again. Each keeps its client_id, so
// a post whose ack was lost and that is sent again is stored once (protocol.md). Kept in the
// browser's storage too, so a reload or a closed tab does not lose them.
//
// Pure: the sending, the storage and the clock are given, so it runs under `node --test`.

// After this many posts waiting, a new one is refused: a queue is for a dropped connection,
// not a place to write a day's log (the hub refuses written_at older than 7 days as well).
export const OUTBOX_MAX = 200;

/** An error that means "try again later": the post stays queued. */
export function transient(error) {
  return !error || error.code === 'unavailable' || error.code === 'rate_limited' || error.code === 'timeout';
}

export class Outbox {
  /**
   * @param {object} opts
   * @param {(payload: object) => Promise<{ok: boolean, entry?: object, error?: object}>} opts.send
   *   one feed.post; rejects or answers a transient error when the hub cannot be reached
   * @param {{getItem: Function, setItem: Function, removeItem: Function}|null} [opts.storage]
   * @param {string} [opts.key]  where in the storage (per incident and user)
   * @param {() => Date} [opts.now]
   * @param {(item: object, entry: object) => void} [opts.onSent]
   * @param {(item: object, error: object) => void} [opts.onRefused]  a final refusal: dropped
   * @param {() => void} [opts.onChange]  the queue changed (to draw it again)
   */
  constructor({ send, storage = null, key = 'crisishub.outbox', now = () => new Date(), onSent, onRefused, onChange }) {
    this.send = send;
    this.storage = storage;
    this.key = key;
    this.now = now;
    this.onSent = onSent || (() => {});
    this.onRefused = onRefused || (() => {});
    this.onChange = onChange || (() => {});
    this.items = this._load();
    this.flushing = null;
  }

  _load() {
    try {
      const saved = this.storage && JSON.parse(this.storage.getItem(this.key) || '[]');
      return Array.isArray(saved) ? saved.filter((item) => item && item.payload && item.payload.client_id) : [];
    } catch {
      return [];
    }
  }

  _save() {
    if (!this.storage) return;
    try {
      if (this.items.length) this.storage.setItem(this.key, JSON.stringify(this.items));
      else this.storage.removeItem(this.key);
    } catch {
      /* storage full or refused: the queue still lives in memory */
    }
  }

  /** Queue a post (a feed.post payload with its client_id); false when the queue is full. */
  add(payload) {
    if (this.items.length >= OUTBOX_MAX) return false;
    if (this.items.some((item) => item.payload.client_id === payload.client_id)) return true;
    const written = payload.written_at || this.now().toISOString();
    this.items.push({ payload: { ...payload, written_at: written } });
    this._save();
    this.onChange();
    return true;
  }

  get size() {
    return this.items.length;
  }

  /**
   * Send what waits, oldest first, one at a time (the feed keeps their order); stops at the
   * first that cannot be sent yet. Concurrent calls share one run. Resolves with how many
   * were stored.
   */
  flush() {
    if (!this.flushing) this.flushing = this._flush().finally(() => (this.flushing = null));
    return this.flushing;
  }

  async _flush() {
    let sent = 0;
    while (this.items.length) {
      const item = this.items[0];
      let ack;
      try {
        ack = await this.send(item.payload);
      } catch {
        return sent; // no answer: still offline
      }
      if (!ack || !ack.ok) {
        const error = (ack && ack.error) || { code: 'unavailable' };
        if (transient(error)) return sent;
        if (error.code === 'invalid' && item.payload.written_at && /written_at/.test(error.message || '')) {
          // The device's clock is far off (written "tomorrow", or weeks ago): the text matters
          // more than when the device thought it was written, so it goes with the hub's time only.
          const { written_at: _dropped, ...payload } = item.payload;
          item.payload = payload;
          item.clockRefused = true;
          this._save();
          continue;
        }
        this.items.shift();
        this._save();
        this.onChange();
        this.onRefused(item, error);
        continue;
      }
      this.items.shift();
      this._save();
      sent += 1;
      this.onChange();
      this.onSent(item, ack.entry);
    }
    return sent;
  }
}
