// The wind in the anchor dialog (issue 16): what the liaison officer reads off a station or
// the fire service's anemometer, typed in as direction (degrees the wind comes FROM) and speed
// in km/h, the hub storing m/s (models/weather.py). Shown only while the kind is `weather`.

import { field } from './dialog.js';
import { t } from './i18n.js';
import { h } from './util.js';
import { DEFAULT_PLUME_M, kmh, metresPerSecond } from './wind-logic.js';

const number = (name, value, { min, max, step }) =>
  h('input', { name, type: 'number', inputmode: 'decimal', min, max, step, value: value == null ? '' : String(value) });

/**
 * The wind fields of a weather anchor with `properties`: {element, read(), validate()}. read()
 * gives the properties to store: the anchor's others kept, those typed replacing the wind
 * (an emptied field removes its value), observed_at and source set as the officer's.
 */
export function windFields(properties = {}) {
  const from = number('wind_from_deg', properties.wind_from_deg, { min: 0, max: 360, step: 1 });
  const speed = number('wind_speed_kmh', properties.wind_speed_ms == null ? null : kmh(properties.wind_speed_ms), { min: 0, max: 400, step: 0.1 });
  const gust = number('wind_gust_kmh', properties.wind_gust_ms == null ? null : kmh(properties.wind_gust_ms), { min: 0, max: 400, step: 0.1 });
  const length = number('plume_length_km', properties.plume_length_m == null ? null : properties.plume_length_m / 1000, { min: 0.1, max: 50, step: 0.1 });
  length.placeholder = String(DEFAULT_PLUME_M / 1000); // the sector drawn when none is given
  const element = h(
    'fieldset',
    { class: 'wind-fields' },
    h('legend', {}, t('wind.title')),
    field(t('wind.field.from'), from),
    field(t('wind.field.speed'), speed),
    field(t('wind.field.gust'), gust),
    field(t('wind.field.length'), length),
    h('p', { class: 'muted' }, t('wind.field.help')),
  );
  const inputs = [from, speed, gust, length];
  const value = (input) => (input.value.trim() === '' ? null : Number(input.value));
  return {
    element,
    inputs,
    validate: () => inputs.every((input) => input.reportValidity()),
    read() {
      const next = { ...properties };
      const typed = {
        wind_from_deg: value(from),
        wind_speed_ms: value(speed) == null ? null : metresPerSecond(value(speed)),
        wind_gust_ms: value(gust) == null ? null : metresPerSecond(value(gust)),
        plume_length_m: value(length) == null ? null : Math.round(value(length) * 1000),
      };
      let changed = false;
      for (const [key, v] of Object.entries(typed)) {
        if (v === (properties[key] ?? null)) continue;
        changed = true;
        if (v == null) delete next[key];
        else next[key] = v;
      }
      if (changed && ['wind_from_deg', 'wind_speed_ms', 'wind_gust_ms'].some((key) => typed[key] !== (properties[key] ?? null))) {
        next.observed_at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        next.source = t('wind.source.officer');
      }
      return { properties: next, changed };
    },
  };
}
