// Leaflet as a global: the geoman plugin is an IIFE that extends `window.L`.
// Imported before the plugin so ES module order puts `L` in place first.
import L from 'leaflet';

globalThis.L = L;
export default L;
