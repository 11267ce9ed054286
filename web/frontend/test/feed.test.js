import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setLang } from '../src/i18n.js';
import { entryText } from '../src/feed.js';

test("the hub's entry of a change of the map reads in the reader's language", () => {
  const entry = { kind: 'info', corrects: null, text: 'Anchor moved: Zone rouge (Grand-Place) (exclusion_zone)' };
  setLang('fr');
  assert.equal(entryText(entry), "Repère déplacé : Zone rouge (Grand-Place) (Zone d'exclusion)");
  setLang('nl');
  assert.equal(entryText(entry), 'Ankerpunt verplaatst: Zone rouge (Grand-Place) (Uitsluitingszone)');
});

test('other entries keep their text as written', () => {
  setLang('fr');
  for (const entry of [
    { kind: 'info', text: 'Pompiers sur place' },
    { kind: 'decision', text: 'Anchor moved: Zone rouge (exclusion_zone)' }, // not the hub's kind
    { kind: 'info', corrects: '12', text: 'Anchor moved: Zone rouge (exclusion_zone)' },
    { kind: 'info', text: 'Anchor moved: Zone rouge (no_such_kind)' },
  ]) {
    assert.equal(entryText(entry), entry.text);
  }
});
