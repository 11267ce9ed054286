import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OUTBOX_MAX, Outbox } from '../src/outbox.js';

function memoryStorage() {
  const data = new Map();
  return {
    data,
    getItem: (k) => (data.has(k) ? data.get(k) : null),
    setItem: (k, v) => data.set(k, String(v)),
    removeItem: (k) => data.delete(k),
  };
}

const at = (iso) => () => new Date(iso);
const post = (n) => ({ incident_id: 'i1', client_id: `00000000-0000-4000-8000-00000000000${n}`, text: `Post ${n}` });

test('a queued post carries when it was written and is sent with it, in order', async () => {
  const sent = [];
  const outbox = new Outbox({ send: async (p) => (sent.push(p), { ok: true, entry: { id: p.text } }), now: at('2026-12-03T09:02:00Z') });
  outbox.add(post(1));
  outbox.add(post(2));
  assert.equal(outbox.size, 2);
  assert.equal(await outbox.flush(), 2);
  assert.deepEqual(sent.map((p) => [p.text, p.written_at, p.client_id]), [
    ['Post 1', '2026-12-03T09:02:00.000Z', post(1).client_id],
    ['Post 2', '2026-12-03T09:02:00.000Z', post(2).client_id],
  ]);
  assert.equal(outbox.size, 0);
});

test('offline, a flush sends nothing and keeps everything, the same client_id next time', async () => {
  let online = false;
  const sent = [];
  const outbox = new Outbox({
    send: async (p) => {
      if (!online) throw new Error('operation has timed out');
      sent.push(p);
      return { ok: true, entry: {} };
    },
  });
  outbox.add(post(1));
  outbox.add(post(1)); // the same post twice is queued once
  outbox.add(post(2));
  assert.equal(await outbox.flush(), 0);
  assert.equal(outbox.size, 2);
  online = true;
  assert.equal(await outbox.flush(), 2);
  assert.deepEqual(sent.map((p) => p.client_id), [post(1).client_id, post(2).client_id]);
});

test('a transient refusal stops the run and keeps the order; a final one drops only that post', async () => {
  const answers = [{ ok: false, error: { code: 'unavailable' } }, { ok: false, error: { code: 'forbidden', message: 'this incident is closed' } }, { ok: true, entry: {} }];
  const refused = [];
  const outbox = new Outbox({ send: async () => answers.shift(), onRefused: (item, error) => refused.push([item.payload.text, error.code]) });
  outbox.add(post(1));
  outbox.add(post(2));
  assert.equal(await outbox.flush(), 0);
  assert.equal(outbox.size, 2);
  assert.equal(await outbox.flush(), 1);
  assert.deepEqual(refused, [['Post 1', 'forbidden']]);
  assert.equal(outbox.size, 0);
});

test("a device clock the hub refuses: sent again with the hub's time only", async () => {
  const sent = [];
  const outbox = new Outbox({
    now: at('2030-01-01T00:00:00Z'),
    send: async (p) => {
      sent.push(p);
      if (p.written_at) return { ok: false, error: { code: 'invalid', message: "written_at: written_at is ahead of the hub's clock by more than 300 s" } };
      return { ok: true, entry: {} };
    },
  });
  outbox.add(post(1));
  assert.equal(await outbox.flush(), 1);
  assert.deepEqual(sent.map((p) => 'written_at' in p), [true, false]);
});

test('the queue survives a reload in the storage, and is removed once empty', async () => {
  const storage = memoryStorage();
  const first = new Outbox({ storage, key: 'k', send: async () => ({ ok: false, error: { code: 'unavailable' } }), now: at('2026-12-03T09:02:00Z') });
  first.add(post(1));
  await first.flush();
  const again = new Outbox({ storage, key: 'k', send: async () => ({ ok: true, entry: {} }) });
  assert.equal(again.size, 1);
  assert.equal(again.items[0].payload.written_at, '2026-12-03T09:02:00.000Z');
  await again.flush();
  assert.equal(storage.data.has('k'), false);
  // What is not a queue in the storage is ignored.
  storage.setItem('k', '{"not": "a list"}');
  assert.equal(new Outbox({ storage, key: 'k', send: async () => ({ ok: true }) }).size, 0);
  storage.setItem('k', 'not json');
  assert.equal(new Outbox({ storage, key: 'k', send: async () => ({ ok: true }) }).size, 0);
});

test('a full queue refuses more', () => {
  const outbox = new Outbox({ send: async () => ({ ok: true }) });
  for (let n = 0; n < OUTBOX_MAX; n += 1) assert.equal(outbox.add({ ...post(1), client_id: `c-${n}` }), true);
  assert.equal(outbox.add({ ...post(1), client_id: 'one-more' }), false);
  assert.equal(outbox.size, OUTBOX_MAX);
});

test('concurrent flushes share one run: nothing is sent twice', async () => {
  const sent = [];
  const outbox = new Outbox({ send: async (p) => (await new Promise((r) => setTimeout(r, 5)), sent.push(p.text), { ok: true, entry: {} }) });
  outbox.add(post(1));
  outbox.add(post(2));
  const [a, b] = await Promise.all([outbox.flush(), outbox.flush()]);
  assert.equal(a, 2);
  assert.equal(b, 2);
  assert.deepEqual(sent, ['Post 1', 'Post 2']);
});
