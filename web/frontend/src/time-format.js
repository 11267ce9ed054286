// Times as a crisis cell reads them (issue 19, item 13): in the incident's time zone, which
// they say ("10:02 CET"), with the date when it is not today there ("2 Dec, 10:02 CET").
// Pure (no DOM, no page state): the zone, the language and "now" are given, so it runs under
// `node --test`. Every part comes from Intl.DateTimeFormat, never from hand formatting.

/** The page's languages as Intl locales (Belgian French and Dutch, British English). */
export const LOCALES = { fr: 'fr-BE', nl: 'nl-BE', en: 'en-GB' };

/** The hub's default when a page says none (hub/timeline/zone.py). */
export const DEFAULT_TIME_ZONE = 'Europe/Brussels';

// A person's entry and its writing time differ by more than this before both are shown.
export const WRITTEN_APART_MS = 60_000;

const formats = new Map();

function format(locale, timeZone, options) {
  const key = JSON.stringify([locale, timeZone, options]);
  let made = formats.get(key);
  if (!made) {
    made = new Intl.DateTimeFormat(locale, { timeZone, ...options });
    formats.set(key, made);
  }
  return made;
}

function toDate(value) {
  if (value == null || value === '') return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The calendar day of `date` in `timeZone`, as "YYYY-MM-DD" (for comparing days only). */
export function dayIn(date, timeZone) {
  const parts = format('en-CA', timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(date);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/**
 * A time for people: "10:02 CET" today (in `timeZone`), "2 Dec, 10:02 CET" another day of
 * this year, "2 Dec 2025, 10:02 CET" another year.
 *
 * @param {string|Date} value  ISO 8601 (the hub's UTC) or a Date
 * @param {object} [opts]
 * @param {string} [opts.lang]  fr | nl | en
 * @param {string} [opts.timeZone]  IANA zone, Europe/Brussels by default
 * @param {Date} [opts.now]  what "today" is measured from
 * @param {boolean} [opts.seconds]  with the seconds
 * @param {boolean} [opts.date]  the date even today
 * @param {boolean} [opts.zone]  the zone's name (default true)
 * @returns {string}  '' for no time; the text as given when it is no time
 */
export function formatWhen(value, { lang = 'en', timeZone = DEFAULT_TIME_ZONE, now = new Date(), seconds = false, date = false, zone = true } = {}) {
  const when = toDate(value);
  if (!when) return value == null ? '' : String(value);
  const locale = LOCALES[lang] || LOCALES.en;
  const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (seconds) options.second = '2-digit';
  if (zone) options.timeZoneName = 'short';
  if (date || dayIn(when, timeZone) !== dayIn(now, timeZone)) {
    options.day = 'numeric';
    options.month = 'short';
    if (dayIn(when, timeZone).slice(0, 4) !== dayIn(now, timeZone).slice(0, 4)) options.year = 'numeric';
  }
  return format(locale, timeZone, options).format(when);
}

/** The full date and time with seconds and zone, for a title (hover) or a screen reader. */
export function formatFull(value, { lang = 'en', timeZone = DEFAULT_TIME_ZONE } = {}) {
  const when = toDate(value);
  if (!when) return '';
  const locale = LOCALES[lang] || LOCALES.en;
  return format(locale, timeZone, { dateStyle: 'full', timeStyle: 'long' }).format(when);
}

/**
 * An entry's two times when its author wrote it well before the hub received it (a post
 * queued offline): {written, received}, each as formatWhen gives it; else null. The written
 * time carries the date whenever the received one does, so that "written 23:58, received
 * 00:03" across midnight never reads as the same day.
 */
export function writtenReceived(entry, opts = {}) {
  const written = toDate(entry && entry.written_at);
  const received = toDate(entry && entry.created_at);
  if (!written || !received || Math.abs(received - written) <= WRITTEN_APART_MS) return null;
  const timeZone = opts.timeZone || DEFAULT_TIME_ZONE;
  const otherDay = dayIn(written, timeZone) !== dayIn(received, timeZone);
  return {
    // The zone once, after the second: "written 10:02, received 10:15 CET".
    written: formatWhen(written, { ...opts, zone: false, date: otherDay || undefined }),
    received: formatWhen(received, { ...opts, date: otherDay || undefined }),
  };
}
