import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TIME_ZONE, dayIn, formatFull, formatWhen, writtenReceived } from '../src/time-format.js';

// 10:00 in Brussels (CET, UTC+1) on 3 December 2026.
const now = new Date('2026-12-03T09:00:00Z');

test("today's times say the time and the zone, without the date", () => {
  assert.equal(formatWhen('2026-12-03T08:02:05Z', { lang: 'en', now }), '09:02 CET');
  assert.equal(formatWhen('2026-12-03T08:02:05Z', { lang: 'nl', now }), '09:02 CET');
  assert.equal(formatWhen('2026-12-03T08:02:05Z', { lang: 'fr', now }), '09:02 UTC+1');
  assert.equal(formatWhen('2026-12-03T08:02:05Z', { lang: 'en', now, seconds: true }), '09:02:05 CET');
});

test('another day says its date, another year its year too', () => {
  assert.equal(formatWhen('2026-12-02T08:02:00Z', { lang: 'en', now }), '2 Dec, 09:02 CET');
  assert.equal(formatWhen('2026-12-02T08:02:00Z', { lang: 'fr', now }), '2 déc., 09:02 UTC+1');
  assert.equal(formatWhen('2025-07-02T08:02:00Z', { lang: 'nl', now }), '2 jul 2025, 10:02 CEST');
  assert.equal(formatWhen('2026-12-03T08:02:00Z', { lang: 'en', now, date: true }), '3 Dec, 09:02 CET');
});

test("today is the incident zone's day, not UTC's", () => {
  // 23:30 UTC on the 2nd is 00:30 on the 3rd in Brussels: today there.
  assert.equal(formatWhen('2026-12-02T23:30:00Z', { lang: 'en', now }), '00:30 CET');
  assert.equal(dayIn(new Date('2026-12-02T23:30:00Z'), 'Europe/Brussels'), '2026-12-03');
  assert.equal(dayIn(new Date('2026-12-02T23:30:00Z'), 'UTC'), '2026-12-02');
  // Summer time is the tz database's, not a fixed offset.
  assert.equal(formatWhen('2026-07-01T08:00:00Z', { lang: 'en', now: new Date('2026-07-01T09:00:00Z') }), '10:00 CEST');
  // Another zone, when an incident is given one.
  assert.equal(formatWhen('2026-12-03T08:02:00Z', { lang: 'en', now, timeZone: 'America/New_York' }), '03:02 GMT-5');
  assert.equal(DEFAULT_TIME_ZONE, 'Europe/Brussels');
});

test('no time is empty, a text that is no time stays as it was', () => {
  assert.equal(formatWhen(null, { now }), '');
  assert.equal(formatWhen('', { now }), '');
  assert.equal(formatWhen('soon', { now }), 'soon');
  assert.equal(formatFull(null), '');
});

test('the full form has the weekday, the seconds and the zone', () => {
  assert.equal(formatFull('2026-12-03T08:02:05Z', { lang: 'en' }), 'Thursday, 3 December 2026 at 09:02:05 CET');
  assert.equal(formatFull('2026-12-03T08:02:05Z', { lang: 'fr' }), 'jeudi 3 décembre 2026 à 09:02:05 UTC+1');
});

test('written and received are both shown only when more than a minute apart', () => {
  const entry = { written_at: '2026-12-03T09:02:00Z', created_at: '2026-12-03T09:15:00Z' };
  assert.deepEqual(writtenReceived(entry, { lang: 'en', now }), { written: '10:02', received: '10:15 CET' });
  assert.equal(writtenReceived({ written_at: '2026-12-03T09:14:10Z', created_at: '2026-12-03T09:15:00Z' }, { now }), null);
  assert.equal(writtenReceived({ written_at: null, created_at: '2026-12-03T09:15:00Z' }, { now }), null);
  assert.equal(writtenReceived({ created_at: '2026-12-03T09:15:00Z' }, { now }), null);
  // A clock a few minutes fast: written "after" it was received, still both shown.
  assert.deepEqual(writtenReceived({ written_at: '2026-12-03T09:18:00Z', created_at: '2026-12-03T09:15:00Z' }, { lang: 'en', now }), {
    written: '10:18',
    received: '10:15 CET',
  });
});

test('across midnight both times carry their date', () => {
  const entry = { written_at: '2026-12-02T22:58:00Z', created_at: '2026-12-02T23:03:00Z' };
  const later = new Date('2026-12-03T09:00:00Z');
  // 23:58 on the 2nd, received 00:03 on the 3rd (today): both dated.
  assert.deepEqual(writtenReceived(entry, { lang: 'en', now: later }), { written: '2 Dec, 23:58', received: '3 Dec, 00:03 CET' });
});
