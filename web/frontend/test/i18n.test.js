import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DICTIONARIES, LANGS, initLang, setLang, t } from '../src/i18n.js';
import { ANCHOR_KINDS, anchorStyle, anchorSymbol, ZONE_COLOURS } from '../src/symbols.js';

test('every language has every key', () => {
  const keys = Object.keys(DICTIONARIES.en).sort();
  for (const lang of LANGS) assert.deepEqual(Object.keys(DICTIONARIES[lang]).sort(), keys, lang);
});

test('every anchor kind has a name in every language and a symbol', () => {
  for (const lang of LANGS) {
    setLang(lang);
    for (const kind of ANCHOR_KINDS) assert.notEqual(t(`anchor.${kind}`), `anchor.${kind}`);
  }
  for (const kind of ANCHOR_KINDS) assert.match(anchorSymbol(kind), /^<svg/);
});

test('zones use the Belgian perimeter colours', () => {
  assert.equal(anchorStyle('exclusion_zone').color, ZONE_COLOURS.exclusion_zone);
  assert.equal(anchorStyle('isolation_zone').color, ZONE_COLOURS.isolation_zone);
  assert.equal(anchorStyle('dissuasion_zone').color, ZONE_COLOURS.dissuasion_zone);
});

test('language choice falls back sensibly', () => {
  assert.equal(initLang('nl'), 'nl');
  assert.equal(initLang('xx'), LANGS.includes(String(globalThis.navigator?.language).slice(0, 2)) ? String(globalThis.navigator.language).slice(0, 2) : 'fr');
  setLang('en');
  assert.equal(t('no.such.key'), 'no.such.key');
});
