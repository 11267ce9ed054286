import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PLUME_DEG,
  DEFAULT_PLUME_M,
  arrowRotation,
  bearing,
  compass,
  destination,
  directionText,
  distance,
  downwind,
  downwindSector,
  kmh,
  metresPerSecond,
  readWind,
  speedText,
} from '../src/wind-logic.js';

const GRAND_PLACE = [4.3517, 50.8466];
const anchor = (properties, geometry = { type: 'Point', coordinates: GRAND_PLACE }) => ({ kind: 'weather', geometry, properties });

test('compass words in the three languages, rounding to the nearest of 16 points', () => {
  assert.deepEqual(compass(225, 'en'), { abbr: 'SW', word: 'southwest' });
  assert.deepEqual(compass(225, 'fr'), { abbr: 'SO', word: 'sud-ouest' });
  assert.deepEqual(compass(225, 'nl'), { abbr: 'ZW', word: 'zuidwest' });
  assert.equal(compass(0, 'fr').word, 'nord');
  assert.equal(compass(360, 'nl').word, 'noord');
  assert.equal(compass(348.7, 'en').abbr, 'NNW'); // the boundary is at 348.75
  assert.equal(compass(348.8, 'en').abbr, 'N');
  assert.equal(compass(348.8, 'en').abbr, compass(-11.2, 'en').abbr);
  assert.equal(compass(11.24, 'en').abbr, 'N');
  assert.equal(compass(11.26, 'en').abbr, 'NNE');
  assert.equal(compass(270, 'fr').abbr, 'O');
  assert.equal(compass(90, 'nl').abbr, 'O'); // oost
  assert.equal(compass(292.5, 'nl').word, 'westnoordwest');
  assert.equal(compass(90, 'xx').word, 'east'); // an unknown language reads English
});

test('the cloud goes downwind: the opposite of where the wind comes from', () => {
  assert.equal(downwind(0), 180);
  assert.equal(downwind(230), 50);
  assert.equal(downwind(360), 180);
  assert.equal(arrowRotation(readWind(anchor({ wind_from_deg: 270 }))), 90); // a west wind blows east
});

test('a weather anchor without a direction draws nothing; defaults fill the sector', () => {
  assert.equal(readWind(anchor({})), null);
  assert.equal(readWind(anchor({ wind_from_deg: '230' })), null);
  assert.equal(readWind({ ...anchor({ wind_from_deg: 230 }), kind: 'command_post' }), null);
  assert.equal(readWind(anchor({ wind_from_deg: 230 }, { type: 'Polygon', coordinates: [] })), null);
  const wind = readWind(anchor({ wind_from_deg: 230, wind_speed_ms: 5 }));
  assert.equal(wind.length, DEFAULT_PLUME_M);
  assert.equal(wind.angle, DEFAULT_PLUME_DEG);
  assert.equal(wind.to, 50);
  assert.equal(wind.gust, null);
  assert.equal(readWind(anchor({ wind_from_deg: 230, plume_length_m: 8000, plume_angle_deg: 30 })).length, 8000);
});

test('destination and distance agree, and a bearing is kept', () => {
  const east = destination(...GRAND_PLACE, 90, 1000);
  assert.ok(Math.abs(distance(GRAND_PLACE, east) - 1000) < 0.5);
  assert.ok(Math.abs(bearing(GRAND_PLACE, east) - 90) < 0.05);
  const north = destination(...GRAND_PLACE, 0, 5000);
  assert.equal(north[0], GRAND_PLACE[0]);
  // 5 km north is about 0.045 degrees of latitude
  assert.ok(Math.abs(north[1] - GRAND_PLACE[1] - 0.04497) < 0.0001, String(north));
});

test('the downwind sector is a closed cone of the documented length and opening', () => {
  const wind = readWind(anchor({ wind_from_deg: 230, plume_length_m: 4000, plume_angle_deg: 40 }));
  const sector = downwindSector(wind);
  assert.equal(sector.type, 'Polygon');
  const [ring] = sector.coordinates;
  assert.deepEqual(ring[0], GRAND_PLACE);
  assert.deepEqual(ring[ring.length - 1], ring[0]); // closed
  const arc = ring.slice(1, -1);
  assert.equal(arc.length, 17);
  for (const point of arc) assert.ok(Math.abs(distance(GRAND_PLACE, point) - 4000) < 1);
  // Its edges 20 degrees either side of downwind (50 degrees: northeast), its middle on it.
  assert.ok(Math.abs(bearing(GRAND_PLACE, arc[0]) - 30) < 0.1, String(bearing(GRAND_PLACE, arc[0])));
  assert.ok(Math.abs(bearing(GRAND_PLACE, arc[arc.length - 1]) - 70) < 0.1);
  assert.ok(Math.abs(bearing(GRAND_PLACE, arc[8]) - 50) < 0.1);
  // North of the Grand-Place's latitude and east of its longitude: the cloud goes northeast.
  for (const [lon, lat] of arc) assert.ok(lon > GRAND_PLACE[0] && lat > GRAND_PLACE[1]);
});

test('a north wind across 0 degrees: the sector wraps without a jump', () => {
  const wind = readWind(anchor({ wind_from_deg: 180, plume_angle_deg: 60 })); // from the south
  const [ring] = downwindSector(wind).coordinates;
  const bearings = ring.slice(1, -1).map((p) => bearing(GRAND_PLACE, p));
  assert.ok(Math.abs(bearings[0] - 330) < 0.1 && Math.abs(bearings[16] - 30) < 0.1, String(bearings));
});

test('speeds in km/h and m/s, and the popup texts', () => {
  assert.equal(kmh(5), 18);
  assert.equal(metresPerSecond(18), 5);
  assert.equal(metresPerSecond(25), 6.9);
  assert.equal(speedText(5), '18 km/h (5 m/s)');
  assert.equal(speedText(null), null);
  const wind = readWind(anchor({ wind_from_deg: 232 }));
  assert.equal(directionText(wind, 'fr'), 'sud-ouest (SO, 232°)');
  assert.equal(directionText(wind, 'nl'), 'zuidwest (ZW, 232°)');
  assert.equal(directionText(wind, 'en'), 'southwest (SW, 232°)');
});
