// Ingestion load generator for bench/ingest.py: C keep-alive HTTP connections to the hub, each
// sending its next OsmAnd `GET /ingest/osmand` as soon as the previous one is answered (closed
// loop, at most C requests in flight), devices taken from a free list so that one device has
// one fix in flight at a time (its fixes arrive in order). Warm-up, then S seconds measured;
// prints one JSON object: reports/s answered 200, latency p50/p99, statuses, CPU of each pid.
// Usage: node ingest_loadgen.js CONFIG.json   (no dependencies; only ever 127.0.0.1)
"use strict";
const http = require("http");
const fs = require("fs");
const common = require("./loadgen_common");

const cfg = Object.assign(
  { port: 8000, keys: [], concurrency: 64, seconds: 4, warmSec: 1, pids: {} },
  JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.concurrency });

const cpuSnap = () => common.cpuSnap(cfg.pids);

const free = cfg.keys.map((k, i) => i);
let n = 0;
let measuring = false;
let lat = [];
const statuses = {};

function get(i) {
  const seq = n++;
  const q = `id=${encodeURIComponent(cfg.keys[i])}` +
    `&lat=${(50.8 + i * 0.001 + seq * 1e-7).toFixed(7)}&lon=${(4.3 + i * 0.001).toFixed(7)}` +
    `&timestamp=${Date.now()}&speed=10.5&bearing=90`;
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      { host: "127.0.0.1", port: cfg.port, path: `/ingest/osmand?${q}`, agent },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => {
          if (measuring) {
            statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
            if (res.statusCode === 200) lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
          resolve();
        });
      });
    req.on("error", () => { if (measuring) statuses.error = (statuses.error || 0) + 1; resolve(); });
    req.end();
  });
}

async function worker(until) {
  while (Date.now() < until) {
    const i = free.shift();
    if (i === undefined) { await new Promise((r) => setTimeout(r, 1)); continue; }
    try { await get(i); } finally { free.push(i); }
  }
}

async function main() {
  const workers = Math.min(cfg.concurrency, cfg.keys.length);
  let until = Date.now() + cfg.warmSec * 1000;
  await Promise.all(Array.from({ length: workers }, () => worker(until)));
  measuring = true;
  const c0 = cpuSnap();
  const t0 = Date.now();
  until = t0 + cfg.seconds * 1000;
  await Promise.all(Array.from({ length: workers }, () => worker(until)));
  const elapsed = (Date.now() - t0) / 1000;
  measuring = false;
  const c1 = cpuSnap();
  lat.sort((a, b) => a - b);
  const p = (q) => common.pct(lat, q);
  const cpu = common.cpuPct(c0, c1, elapsed);
  process.stdout.write(JSON.stringify({
    ok: statuses[200] || 0, seconds: elapsed, p50: p(50), p99: p(99), statuses, cpu,
  }) + "\n");
  agent.destroy();
}
main().catch((e) => { console.error(e); process.exit(1); });
