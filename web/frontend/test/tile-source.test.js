import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wmsSource } from '../src/tile-source.js';

test('an XYZ or WMTS REST template is no WMS', () => {
  assert.equal(wmsSource('https://tiles.example/{z}/{x}/{y}.png'), null);
  assert.equal(wmsSource('https://{s}.tiles.example/wmts/topo/GoogleMapsCompatible/{z}/{y}/{x}.png'), null);
  assert.equal(wmsSource('not a url'), null);
  assert.equal(wmsSource('https://wms.example/service?SERVICE=WMTS&LAYER=topo'), null);
});

test('a WMS endpoint gives its base URL and the layer options', () => {
  const source = wmsSource(
    'https://wms.example/service?service=wms&REQUEST=GetMap&LAYERS=topo,roads&STYLES=&FORMAT=image/jpeg&TRANSPARENT=TRUE&VERSION=1.3.0&BBOX=1,2,3,4&WIDTH=256&HEIGHT=256&CRS=EPSG:4326&key=abc',
  );
  assert.equal(source.base, 'https://wms.example/service?key=abc');
  assert.deepEqual(source.options, {
    layers: 'topo,roads',
    styles: '',
    format: 'image/jpeg',
    transparent: true,
    version: '1.3.0',
  });
});

test('a WMS endpoint without format or transparency gets PNG, opaque', () => {
  const source = wmsSource('http://127.0.0.1:8080/wms?SERVICE=WMS&LAYERS=base');
  assert.equal(source.base, 'http://127.0.0.1:8080/wms');
  assert.deepEqual(source.options, { layers: 'base', format: 'image/png', transparent: false });
});
