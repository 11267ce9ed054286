import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnlineList, readOnline } from '../src/presence.js';

const ann = { user_id: 'u1', name: 'Ann', organisation: 'Police' };
const bob = { user_id: 'u2', name: 'Bob', organisation: 'Fire' };
const cy = { user_id: 'u3', name: 'Cy', organisation: 'Medical' };

test('changes apply on top of the joined list, in order of name', () => {
  const list = new OnlineList();
  assert.equal(list.apply({ version: 1, joined: [ann], left: [] }), 'ignored'); // before the join
  assert.equal(list.page({ version: 4, online: [bob], offset: 0, total: 1 }), true);
  assert.equal(list.apply({ version: 5, joined: [cy, ann], left: [] }), 'applied');
  assert.deepEqual(list.users.map((u) => u.name), ['Ann', 'Bob', 'Cy']);
  assert.equal(list.apply({ version: 5, joined: [], left: ['u1'] }), 'ignored'); // a duplicate
  assert.equal(list.apply({ version: 6, joined: [], left: ['u2'] }), 'applied');
  assert.deepEqual(list.users.map((u) => u.user_id), ['u1', 'u3']);
  // a new name replaces the old entry
  assert.equal(list.apply({ version: 7, joined: [{ ...ann, name: 'Anne' }], left: [] }), 'applied');
  assert.deepEqual(list.users.map((u) => u.name), ['Anne', 'Cy']);
  assert.equal(list.version, 7);
});

test('a skipped version is a gap, and the list is read again page by page', async () => {
  const list = new OnlineList();
  list.page({ version: 1, online: [ann], offset: 0, total: 1 });
  assert.equal(list.apply({ version: 3, joined: [bob], left: [] }), 'gap');
  const asked = [];
  const pages = [
    { version: 3, online: [ann, bob], offset: 0, total: 3 },
    { version: 3, online: [cy], offset: 2, total: 3 },
  ];
  const request = async (name, payload) => {
    asked.push([name, payload.offset]);
    return { ok: true, presence: pages.shift() };
  };
  assert.equal(await readOnline(list, 'i1', request), true);
  assert.deepEqual(asked, [['presence.get', 0], ['presence.get', 2]]);
  assert.deepEqual(list.users.map((u) => u.user_id), ['u1', 'u2', 'u3']);
  assert.equal(list.version, 3);
});

test('a list that changes between pages is read again from the start', async () => {
  const list = new OnlineList();
  const pages = [
    { version: 3, online: [ann], offset: 0, total: 2 },
    { version: 4, online: [cy], offset: 1, total: 2 },
    { version: 4, online: [ann, cy], offset: 0, total: 2 },
  ];
  const request = async () => ({ ok: true, presence: pages.shift() });
  assert.equal(await readOnline(list, 'i1', request), true);
  assert.deepEqual(list.users.map((u) => u.user_id), ['u1', 'u3']);
  assert.equal(await readOnline(list, 'i1', async () => ({ ok: false })), false);
});
