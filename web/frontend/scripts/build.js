// Bundle the pages' scripts and styles into web/static/dist/ (served by the hub as
// /static/dist/...), copy Leaflet's images, and extract the offline base layer.
//   node scripts/build.js            production build (minified, with source maps)
//   node scripts/build.js --watch    rebuild on change while developing
import * as esbuild from 'esbuild';
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBasemap } from './basemap.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, '..', 'static', 'dist');
const watch = process.argv.includes('--watch');

rmSync(outdir, { recursive: true, force: true });
// Leaflet loads its default marker images by path (the drawing tool uses them): ship them all.
cpSync(join(root, 'node_modules', 'leaflet', 'dist', 'images'), join(outdir, 'images'), { recursive: true });

const options = {
  absWorkingDir: root,
  entryPoints: { app: 'src/app.js', list: 'src/list.js', login: 'src/login.js', register: 'src/register.js', 'public-alert': 'src/public-alert.js', directory: 'src/directory.js', plans: 'src/plans.js', 'layers-admin': 'src/layers-admin.js' },
  outdir,
  bundle: true,
  format: 'iife',
  target: 'es2020',
  minify: !watch,
  sourcemap: true,
  loader: { '.png': 'file', '.svg': 'file' },
  assetNames: 'images/[name]',
  legalComments: 'linked',
  logLevel: 'info',
};

if (watch) {
  const ctx = await esbuild.context(options);
  buildBasemap();
  await ctx.watch();
} else {
  await esbuild.build(options);
  const { features, bytes } = buildBasemap();
  console.log(`basemap.geojson: ${features} features, ${(bytes / 1024).toFixed(0)} KiB`);
}
