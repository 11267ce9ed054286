import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setLang, t } from '../src/i18n.js';
import { CATEGORIES, SYMBOLS, countText, insideText, symbolSvg } from '../src/layers-logic.js';

const inside = (layers, registrations) => ({ anchor_id: 'a', anchor_version: 1, layers, registrations });
const layer = (name, category, count) => ({ layer_id: name, name, category, count, features: [] });

test('the popup names what is inside in each language, singular and plural', () => {
  const answer = inside([layer('Homes', 'retirement_home', 1), layer('Écoles', 'school', 3), layer('Hôpitaux', 'hospital', 0)], 2);
  setLang('en');
  assert.equal(insideText(t, answer), 'Inside: 3 schools, 1 retirement home, 2 registered addresses');
  setLang('fr');
  assert.equal(insideText(t, answer), "À l'intérieur : 3 écoles, 1 maison de repos, 2 adresses enregistrées");
  setLang('nl');
  assert.equal(insideText(t, answer), 'Binnen: 3 scholen, 1 woonzorgcentrum, 2 geregistreerde adressen');
  setLang('en');
  assert.equal(insideText(t, inside([layer('Wells', 'other', 2)], 1)), 'Inside: Wells: 2, 1 registered address');
  assert.equal(insideText(t, inside([layer('Écoles', 'school', 0)], 0)), 'Inside: nothing from the reference layers, no registered address');
});

test('every category has its words and every symbol its shape', () => {
  for (const lang of ['fr', 'nl', 'en']) {
    setLang(lang);
    for (const category of CATEGORIES.filter((c) => c !== 'other')) {
      assert.doesNotMatch(countText(t, category, 1, 'x'), /layers\./, `${lang} ${category}`);
      assert.doesNotMatch(countText(t, category, 2, 'x'), /layers\./, `${lang} ${category}`);
    }
  }
  for (const symbol of SYMBOLS) assert.match(symbolSvg(symbol, '#d97706'), /fill="#d97706"/);
  assert.match(symbolSvg('circle', 'red"><script>'), /fill="#1f6feb"/);
});
