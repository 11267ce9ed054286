import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  activationCounts,
  anchorsText,
  canEdit,
  contactIdsText,
  defaultVersion,
  errorLine,
  fileSize,
  mergeActivated,
  parseArea,
  plansQuery,
  stillProposed,
  typeName,
  versionAnchors,
} from '../src/plans-logic.js';
import { IncidentStore } from '../src/store.js';
import { PLAN_KINDS, PLAN_LEVELS, PLAN_VERSION_STATUSES } from '../src/enums.js';
import { LANGS, setLang, t } from '../src/i18n.js';

const square = { type: 'Polygon', coordinates: [[[2.92, 51.22], [2.94, 51.22], [2.94, 51.24], [2.92, 51.22]]] };
const feature = (kind, label, geometry, extra = {}) => ({ type: 'Feature', geometry, properties: { kind, label, ...extra } });
const version = (number, status, features = [], contactIds = []) => ({
  number,
  status,
  note: null,
  created_at: '2026-01-0' + number + 'T10:00:00Z',
  files: [],
  anchors: { type: 'FeatureCollection', features },
  contact_ids: contactIds,
});
const activation = (planId, n = 1) => ({ incident_id: 'i', plan: { id: planId, title: `Plan ${planId}` }, version: n, anchor_ids: [], contact_ids: [] });

test('the search sends the words, the place rounded and the limit', () => {
  assert.equal(plansQuery({ q: '  ppui europa ' }), 'q=ppui+europa&limit=50');
  assert.equal(plansQuery({ at: [51.2300004, 2.93], limit: 20 }), 'at=51.23%2C2.93&limit=20');
  assert.equal(plansQuery(), 'limit=50');
});

test('the version shown first is the approved one, else the latest', () => {
  const plan = { approved_version: 1, versions: [version(1, 'approved'), version(2, 'draft')] };
  assert.equal(defaultVersion(plan), 1);
  assert.equal(defaultVersion({ approved_version: null, versions: [version(1, 'draft'), version(2, 'draft')] }), 2);
  assert.equal(defaultVersion({ approved_version: null, versions: [] }), null);
});

test("a version's anchors take the map's anchor shape, their extra properties apart", () => {
  const v = version(3, 'draft', [feature('exclusion_zone', 'Zone', square, { colour: 'red' }), feature('command_post', 'CP', { type: 'Point', coordinates: [2.93, 51.23] })]);
  const anchors = versionAnchors(v);
  assert.deepEqual(
    anchors.map((a) => [a.id, a.kind, a.label, a.version]),
    [
      ['v3-0', 'exclusion_zone', 'Zone', 3],
      ['v3-1', 'command_post', 'CP', 3],
    ],
  );
  assert.deepEqual(anchors[0].properties, { colour: 'red' });
  assert.equal(anchors[0].geometry, square);
  assert.deepEqual(versionAnchors(null), []);
});

test('an activation counts the anchors and contacts of the approved version, not the draft', () => {
  const plan = {
    approved_version: 1,
    versions: [version(1, 'approved', [feature('command_post', 'CP', { type: 'Point', coordinates: [0, 0] })], ['c1', 'c2']), version(2, 'draft', [], [])],
  };
  assert.deepEqual(activationCounts(plan), { version: 1, anchors: 1, contacts: 2 });
  assert.equal(activationCounts({ approved_version: null, versions: [version(1, 'draft')] }), null);
});

test('activations merge by plan, and an active plan is no longer proposed', () => {
  const list = mergeActivated(mergeActivated([], activation('p1')), activation('p2'));
  assert.deepEqual(mergeActivated(list, activation('p1')).map((a) => a.plan.id), ['p2', 'p1']);
  assert.equal(mergeActivated(list, activation('p1')).length, 2);
  assert.deepEqual(stillProposed([{ id: 'p1' }, { id: 'p3' }], list).map((p) => p.id), ['p3']);
});

test("a plan is written by its organisation's members and by admins", () => {
  const plan = { organisation: { id: 'o1', name: 'Ville de Namur' } };
  assert.equal(canEdit({ organisation: 'Ville de Namur', is_admin: false }, plan), true);
  assert.equal(canEdit({ organisation: 'Police', is_admin: false }, plan), false);
  assert.equal(canEdit({ organisation: 'Police', is_admin: true }, plan), true);
  assert.equal(canEdit(null, plan), false);
});

test('sizes and types read as people say them', () => {
  assert.equal(fileSize(812), '812 B');
  assert.equal(fileSize(14_200), '14.2 kB');
  assert.equal(fileSize(3_400_000), '3.4 MB');
  assert.equal(typeName('application/pdf'), 'PDF');
  assert.equal(typeName('application/vnd.openxmlformats-officedocument.wordprocessingml.document'), 'Word');
  assert.equal(typeName('application/x-other'), 'application/x-other');
});

test('an area is a polygon pasted as a geometry, a Feature or a one-feature collection', () => {
  assert.equal(parseArea(''), null);
  assert.deepEqual(parseArea(JSON.stringify(square)), square);
  assert.deepEqual(parseArea(JSON.stringify({ type: 'Feature', geometry: square, properties: {} })), square);
  assert.deepEqual(parseArea(JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: square }] })), square);
  assert.throws(() => parseArea('{nope'), /not valid JSON/);
  assert.throws(() => parseArea(JSON.stringify({ type: 'Point', coordinates: [0, 0] })), /Polygon/);
  assert.throws(() => parseArea(JSON.stringify({ type: 'FeatureCollection', features: [] })), /one polygon/);
});

test("the upload's anchors and contacts are sent as JSON text, or not at all", () => {
  assert.equal(anchorsText('  '), null);
  const collection = { type: 'FeatureCollection', features: [] };
  assert.equal(anchorsText(JSON.stringify(collection, null, 2)), JSON.stringify(collection));
  assert.throws(() => anchorsText('{"type": "Feature"}'), /FeatureCollection/);
  assert.equal(contactIdsText('a1, b2\nc3 a1'), '["a1","b2","c3"]');
  assert.equal(contactIdsText(''), null);
});

test("a form's error shows the hub's own message after the code's words", () => {
  const error = { code: 'invalid', message: "notes.txt is an unknown type; a plan's files are PDF" };
  assert.equal(errorLine(error, 'Invalid data.'), "Invalid data. notes.txt is an unknown type; a plan's files are PDF");
  assert.equal(errorLine({ code: 'x', message: 'Boom' }, 'Boom'), 'Boom');
  assert.equal(errorLine({ code: 'unavailable' }, 'Unavailable.'), 'Unavailable.');
});

test('the store keeps the snapshot\'s plans and adds plan.activated once per plan', () => {
  const store = new IncidentStore();
  const changes = [];
  store.subscribe((change) => changes.push(change.type));
  store.reset({ anchors: { features: [] }, plans: [activation('p1')] }, { id: 'i', role: 'viewer' });
  assert.deepEqual(store.plans.map((a) => a.plan.id), ['p1']);
  store.apply({ type: 'plan.activated', seq: 9, data: activation('p2') });
  store.apply({ type: 'plan.activated', seq: 9, data: activation('p2') });
  assert.deepEqual(store.plans.map((a) => a.plan.id), ['p1', 'p2']);
  assert.deepEqual(changes, ['reset', 'plan', 'plan']);
  store.reset({ anchors: { features: [] } }, null);
  assert.deepEqual(store.plans, []);
});

test('every plan kind, level and version status has a name in every language', () => {
  for (const lang of LANGS) {
    setLang(lang);
    for (const key of [...PLAN_KINDS.map((k) => `plans.kind.${k}`), ...PLAN_LEVELS.map((l) => `plans.level.${l}`), ...PLAN_VERSION_STATUSES.map((s) => `plans.status.${s}`)]) {
      assert.notEqual(t(key), key, `${lang} ${key}`);
    }
  }
});
