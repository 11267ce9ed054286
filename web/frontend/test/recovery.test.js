import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncidentSync } from '../src/recovery.js';

const INCIDENT = 'inc-1';
const ev = (seq, extra = {}) => ({ incident_id: INCIDENT, seq, type: 'feed.posted', data: { id: `e${seq}` }, ...extra });
const flush = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A fake hub: `log` is the durable event log; `incident.join` answers like protocol.md says
 * (snapshot without `since`, events after `since`, snapshot + reset when the gap is too big).
 */
function fakeHub({ log = [], maxReplay = 1000 } = {}) {
  const hub = {
    log,
    calls: [],
    answer: null, // override: (payload) => ack | Promise
    async request(event, payload) {
      hub.calls.push({ event, payload });
      return hub.answer ? hub.answer(payload) : hub.respond(payload);
    },
    /** The hub's normal answer to `incident.join`. */
    respond(payload) {
      const seq = hub.log.length ? hub.log[hub.log.length - 1].seq : 0;
      const incident = { id: INCIDENT, kind: 'event', last_seq: seq };
      if (payload.since === undefined || seq - payload.since > maxReplay) {
        const reset = payload.since !== undefined ? { reset: true } : {};
        return { ok: true, incident, seq, snapshot: { seen: hub.log.map((e) => e.seq) }, ...reset };
      }
      return { ok: true, incident, seq, events: hub.log.filter((e) => e.seq > payload.since) };
    },
  };
  return hub;
}

function client(hub, extra = {}) {
  const applied = [];
  const snapshots = [];
  const states = [];
  const timers = [];
  const sync = new IncidentSync({
    incidentId: INCIDENT,
    request: (e, p) => hub.request(e, p),
    onSnapshot: (snapshot, incident, seq, reset) => snapshots.push({ snapshot, seq, reset }),
    onEvent: (event) => applied.push(event.seq),
    onState: (state) => states.push(state),
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    ...extra,
  });
  return { sync, applied, snapshots, states, timers };
}

test('first join takes a snapshot and sets lastSeq', async () => {
  const hub = fakeHub({ log: [ev(1), ev(2), ev(3)] });
  const c = client(hub);
  await c.sync.connect();
  assert.deepEqual(hub.calls[0].payload, { incident_id: INCIDENT });
  assert.equal(c.snapshots.length, 1);
  assert.equal(c.sync.lastSeq, 3);
  assert.deepEqual(c.applied, []);
  assert.equal(c.states.at(-1), 'live');
});

test('next seq is applied, duplicates and older ones ignored', async () => {
  const hub = fakeHub({ log: [ev(1)] });
  const c = client(hub);
  await c.sync.connect();
  c.sync.handleEvent(ev(2));
  c.sync.handleEvent(ev(2));
  c.sync.handleEvent(ev(1));
  c.sync.handleEvent(ev(3));
  assert.deepEqual(c.applied, [2, 3]);
  assert.equal(c.sync.lastSeq, 3);
  assert.equal(hub.calls.length, 1, 'no join for in-order events');
});

test('events of another incident are ignored', async () => {
  const hub = fakeHub({ log: [ev(1)] });
  const c = client(hub);
  await c.sync.connect();
  c.sync.handleEvent({ ...ev(2), incident_id: 'other' });
  assert.deepEqual(c.applied, []);
});

test('a gap asks incident.join with since and applies the missing events in order', async () => {
  const hub = fakeHub({ log: [ev(1), ev(2)] });
  const c = client(hub);
  await c.sync.connect();
  hub.log.push(ev(3), ev(4), ev(5));
  c.sync.handleEvent(ev(5)); // 3 and 4 were lost on the pipe
  await flush();
  assert.deepEqual(hub.calls[1].payload, { incident_id: INCIDENT, since: 2 });
  assert.deepEqual(c.applied, [3, 4, 5]);
  assert.equal(c.sync.lastSeq, 5);
});

test('events arriving while a join is in flight are applied once, in order', async () => {
  const hub = fakeHub({ log: [ev(1)] });
  const c = client(hub);
  await c.sync.connect();
  hub.log.push(ev(2), ev(3), ev(4));
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  hub.answer = async (payload) => {
    await gate;
    hub.answer = null;
    return hub.respond(payload);
  };
  c.sync.handleEvent(ev(3)); // gap: 2 missing
  c.sync.handleEvent(ev(4)); // arrives during the join
  hub.log.push(ev(5));
  c.sync.handleEvent(ev(5));
  assert.deepEqual(c.applied, []);
  release();
  await flush();
  await flush();
  assert.deepEqual(c.applied, [2, 3, 4, 5]);
  assert.equal(hub.calls.filter((x) => x.event === 'incident.join').length, 2, 'one join for the gap');
});

test('a reconnect re-joins with since and catches up without a snapshot', async () => {
  const hub = fakeHub({ log: [ev(1), ev(2)] });
  const c = client(hub);
  await c.sync.connect();
  c.sync.disconnect();
  hub.log.push(ev(3), ev(4));
  await c.sync.connect();
  assert.deepEqual(hub.calls[1].payload, { incident_id: INCIDENT, since: 2 });
  assert.deepEqual(c.applied, [3, 4]);
  assert.equal(c.snapshots.length, 1);
});

test('a reset answer replaces the state with the snapshot', async () => {
  const hub = fakeHub({ log: [ev(1)], maxReplay: 2 });
  const c = client(hub);
  await c.sync.connect();
  c.sync.disconnect();
  for (let s = 2; s <= 10; s += 1) hub.log.push(ev(s));
  await c.sync.connect();
  assert.equal(c.snapshots.length, 2);
  assert.equal(c.snapshots[1].reset, true);
  assert.equal(c.snapshots[1].seq, 10);
  assert.equal(c.sync.lastSeq, 10);
  c.sync.handleEvent(ev(10));
  c.sync.handleEvent(ev(11));
  assert.deepEqual(c.applied, [11]);
});

test('events before the first snapshot are kept and applied after it when newer', async () => {
  const hub = fakeHub({ log: [ev(1), ev(2)] });
  const c = client(hub);
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  hub.answer = async (payload) => {
    await gate;
    hub.answer = null;
    return hub.respond(payload);
  };
  const joined = c.sync.connect();
  c.sync.handleEvent(ev(2)); // already in the snapshot
  hub.log.push(ev(3));
  c.sync.handleEvent(ev(3)); // after it
  release();
  await joined;
  assert.equal(c.snapshots[0].seq, 3, 'the snapshot was taken after event 3 was logged');
  assert.deepEqual(c.applied, []);
  c.sync.handleEvent(ev(4));
  assert.deepEqual(c.applied, [4]);
});

test('a failed join is retried later while connected, not after a disconnect', async () => {
  const hub = fakeHub({ log: [ev(1)] });
  const c = client(hub);
  hub.answer = () => Promise.reject(new Error('operation has timed out'));
  await c.sync.connect();
  assert.equal(c.states.at(-1), 'error');
  assert.equal(c.timers.length, 1);
  hub.answer = null;
  c.timers[0].fn();
  await flush();
  assert.equal(c.sync.lastSeq, 1);
  assert.equal(c.states.at(-1), 'live');

  c.sync.disconnect();
  hub.answer = () => Promise.reject(new Error('socket has been disconnected'));
  await c.sync.join();
  assert.equal(c.timers.length, 1, 'no retry timer while offline');
});

test('forbidden is not retried', async () => {
  const hub = fakeHub();
  const c = client(hub);
  hub.answer = () => ({ ok: false, error: { code: 'forbidden', message: 'not a member' } });
  await c.sync.connect();
  assert.equal(c.timers.length, 0);
  assert.equal(c.sync.lastSeq, null);
});

test('a replay that stops short of the hub seq asks again for the rest', async () => {
  const hub = fakeHub({ log: [ev(1)] });
  const c = client(hub);
  await c.sync.connect();
  for (let s = 2; s <= 6; s += 1) hub.log.push(ev(s));
  hub.answer = async (payload) => {
    const ack = hub.respond(payload);
    if (ack.events) ack.events = ack.events.slice(0, 2); // a paged answer
    return ack;
  };
  c.sync.handleEvent(ev(6));
  await flush();
  await flush();
  assert.deepEqual(c.applied, [2, 3, 4, 5, 6]);
  assert.deepEqual(
    hub.calls.slice(1).map((x) => x.payload.since),
    [1, 3, 5],
  );
});

test('a reconnect during a join in flight joins again afterwards', async () => {
  const hub = fakeHub({ log: [ev(1)] });
  const c = client(hub);
  await c.sync.connect();
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  hub.answer = async () => {
    await gate;
    throw new Error('socket has been disconnected');
  };
  c.sync.handleEvent(ev(3)); // gap → join in flight
  c.sync.disconnect();
  hub.log.push(ev(2), ev(3));
  const again = c.sync.connect(); // shares the in-flight join, then re-joins
  hub.answer = null;
  release();
  await again;
  await flush();
  await flush();
  assert.deepEqual(c.applied, [2, 3]);
});
