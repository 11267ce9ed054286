// Convoy load generator for bench/convoys.py: W raw Engine.IO watchers joined to one incident
// and V vehicles reporting once per second, at stepped V; p50/p99 from report to screen.
//   mode "hub":  watchers CONNECT with {token} and `incident.join`; each vehicle sends its fix
//                as an OsmAnd HTTP GET /ingest/osmand (keep-alive, at most `httpConcurrency`
//                requests in flight) with `timestamp` = send time in ms; watchers receive the
//                coalesced `convoy.positions` and latency = receipt - the fix's `ts`.
//   mode "peer": the Node socket.io peer's `join`/`pub`: every fix is its own `pub` from one of
//                a few publisher sockets, broadcast to the room as `pos` (no coalescing).
// Every `probeEvery`-th watcher parses what it receives and measures latency; the others only
// count messages (so the generator is not the bottleneck). A fix that a probe never sees
// within the drain time counts as missing.
// Usage: node convoys_loadgen.js CONFIG.json  (needs `ws`: NODE_PATH=<peer>/node_modules)
// Only ever connects to 127.0.0.1; every loop is bounded by count and time.
"use strict";
const http = require("http");
const fs = require("fs");
const common = require("./loadgen_common");

const cfg = Object.assign({
  mode: "hub", port: 8000, watchers: 100, tokens: [], incidentId: "", keys: [],
  steps: [50, 100], stepSec: 6, warmSec: 2, drainSec: 3, maxP99Ms: 500, maxMissingPct: 1,
  probeEvery: 50, httpConcurrency: 256, publishers: 20, connectConcurrency: 50, pids: {},
  maxSec: 600,
}, JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
const HOST = "127.0.0.1";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const cpuSnap = () => common.cpuSnap(cfg.pids);
const { cpuPct, pct } = common;

// measurement state of the current step ------------------------------------------------------
let measuring = false;
let lat = [];            // ms, from probes
let seen = new Set();    // "vehicle|ts" seen by the first probe (for missing fixes)
let sentFixes = new Map(); // "vehicle|ts" -> true, fixes sent while measuring
let messages = 0;        // messages received by all watchers while measuring
let bytes = 0;

function onProbeMessage(ws, s) {
  const now = Date.now();
  if (cfg.mode === "hub") {
    if (!s.startsWith('42["convoy.positions"')) return;
    const data = JSON.parse(s.slice(2))[1];
    for (const p of data.positions) {
      const ts = Date.parse(p.ts.length > 20 ? p.ts.slice(0, 23) + "Z" : p.ts);
      if (measuring) {
        const key = `${p.vehicle_id}|${ts}`;
        if (sentFixes.has(key)) {
          lat.push(now - ts);
          if (ws._first) seen.add(key);
        }
      }
    }
  } else {
    if (!s.startsWith('42["pos"')) return;
    const p = JSON.parse(s.slice(2))[1];
    if (measuring) {
      const key = `${p.v}|${p.ts}`;
      if (sentFixes.has(key)) {
        lat.push(now - p.ts);
        if (ws._first) seen.add(key);
      }
    }
  }
}

function onMessage(data) {
  // Bytes first: at 2,000 vehicles 1,000 watchers receive ~300 MB/s, and decoding every
  // message to a string would make the generator, not the server, the limit. Only probes and
  // control messages are decoded.
  if (data.length > 1 && data[0] === 52 && data[1] === 50) { // "42": an event
    if (measuring) { messages++; bytes += data.length; }
    if (this._probe) onProbeMessage(this, data.toString());
    return;
  }
  const s = data.toString();
  if (s === "2") { this.send("3"); return; }
  if (this._onCtl) this._onCtl(s);
}

async function connectOne(token, join, probe, first) {
  const ws = await common.connectClient({ port: cfg.port, hub: cfg.mode === "hub", token,
    incidentId: cfg.incidentId, join, onMessage });
  ws._probe = probe; ws._first = first; // measured from the message after the join on
  return ws;
}

// reporting ------------------------------------------------------------------------------------
const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.httpConcurrency });
let httpOk = 0, httpErr = 0, httpBusy = 0, ackLat = [];
const inFlight = new Set(); // vehicles whose previous report is not answered yet

function position(v, tSec) {
  // Each vehicle drives east at ~14 m/s on its own line: no jumps, no stops, no alerts.
  return { lat: 50.80 + (v % 500) * 0.0005 + Math.floor(v / 500) * 0.3, lon: 4.30 + tSec * 0.0002 };
}

function reportHub(v, tsMs) {
  if (inFlight.has(v)) { httpBusy++; return; } // a tracker sends one report at a time
  inFlight.add(v);
  const p = position(v, tsMs / 1000 - startSec);
  const path = `/ingest/osmand?id=${cfg.keys[v]}&lat=${p.lat.toFixed(7)}&lon=${p.lon.toFixed(7)}` +
    `&timestamp=${tsMs}&speed=27&bearing=90`;
  if (measuring) sentFixes.set(`${vehicleIds[v] || v}|${tsMs}`, true);
  const t0 = Date.now();
  const req = http.get({ host: HOST, port: cfg.port, path, agent }, (res) => {
    res.resume();
    res.on("end", () => {
      inFlight.delete(v);
      if (res.statusCode === 200) { httpOk++; if (measuring) ackLat.push(Date.now() - t0); }
      else httpErr++;
    });
  });
  req.setTimeout(10000, () => req.destroy(new Error("timeout")));
  req.on("error", () => { inFlight.delete(v); httpErr++; });
}

let pubs = [];
function reportPeer(v, tsMs) {
  const p = position(v, tsMs / 1000 - startSec);
  if (measuring) sentFixes.set(`${v}|${tsMs}`, true);
  const msg = { room: "incident-1", v, vehicle_id: `vehicle-${v}`, convoy_id: "convoy-1",
    lat: p.lat, lon: p.lon, ts: tsMs, speed: 13.9, heading: 90, accuracy: null };
  pubs[v % pubs.length].send(`42${JSON.stringify(["pub", msg])}`);
}

let vehicleIds = []; // hub: vehicle id of each key, learnt from the first positions seen
const startSec = Date.now() / 1000;

async function runStep(V) {
  // Each vehicle reports once a second at its own offset within the second.
  lat = []; ackLat = []; seen = new Set(); sentFixes = new Map(); messages = 0; bytes = 0;
  httpOk = 0; httpErr = 0; httpBusy = 0;
  const report = cfg.mode === "hub" ? reportHub : reportPeer;
  const t0 = Date.now();
  const end = t0 + cfg.stepSec * 1000;
  let c0 = null, tMeasure = 0;
  const next = new Float64Array(V);
  for (let v = 0; v < V; v++) next[v] = t0 + (v / V) * 1000;
  while (Date.now() < end) {
    const now = Date.now();
    if (!measuring && now >= t0 + cfg.warmSec * 1000) { measuring = true; c0 = cpuSnap(); tMeasure = now; }
    for (let v = 0; v < V; v++) {
      if (next[v] <= now) { next[v] += 1000; report(v, now); }
    }
    await sleep(2);
  }
  const sentEnd = Date.now();
  const sent = sentFixes.size;
  const dl = Date.now() + cfg.drainSec * 1000;
  while (Date.now() < dl && seen.size < sent) await sleep(20);
  measuring = false;
  const sec = (sentEnd - tMeasure) / 1000;
  const c1 = cpuSnap();
  lat.sort((a, b) => a - b); ackLat.sort((a, b) => a - b);
  const missingPct = sent ? +((1 - seen.size / sent) * 100).toFixed(2) : 100;
  const st = {
    vehicles: V, fixesSent: sent, fixesPerSec: Math.round(sent / sec), missingPct,
    p50ms: pct(lat, 50), p99ms: pct(lat, 99), maxms: lat[lat.length - 1] ?? null,
    messagesPerSec: Math.round(messages / (sec + cfg.drainSec)),
    mbPerSec: +(bytes / (sec + cfg.drainSec) / 1e6).toFixed(1),
    httpOk, httpErr, trackerBusy: httpBusy,
    ackP50ms: pct(ackLat, 50), ackP99ms: pct(ackLat, 99),
    cpuPct: cpuPct(c0, c1, (Date.now() - tMeasure) / 1000),
  };
  st.held = st.p99ms !== null && st.p99ms <= cfg.maxP99Ms && missingPct <= cfg.maxMissingPct &&
    httpErr === 0;
  console.error(JSON.stringify(st));
  await sleep(1500); // let queues empty before the next step
  return st;
}

async function main() {
  const t0 = Date.now();
  const subs = [];
  let idx = 0;
  async function worker() {
    while (idx < cfg.watchers) {
      const i = idx++;
      const probe = i % cfg.probeEvery === cfg.probeEvery - 1 || i === cfg.watchers - 1;
      subs.push(await connectOne(cfg.tokens[i % Math.max(1, cfg.tokens.length)], true, probe,
        i === cfg.watchers - 1));
    }
  }
  await Promise.all(Array.from({ length: cfg.connectConcurrency }, worker));
  const connectSec = (Date.now() - t0) / 1000;
  if (cfg.mode === "peer") {
    for (let i = 0; i < cfg.publishers; i++) pubs.push(await connectOne("", false, false, false));
  } else {
    vehicleIds = cfg.vehicleIds || [];
  }
  await sleep(1000);
  const result = { mode: cfg.mode, watchers: cfg.watchers, connectSec, steps: [] };
  for (const V of cfg.steps) {
    const st = await runStep(V);
    result.steps.push(st);
    if (!st.held) break;
  }
  const held = result.steps.filter((s) => s.held).map((s) => s.vehicles);
  result.largestHeld = held.length ? Math.max(...held) : 0;
  result.wallSec = (Date.now() - t0) / 1000;
  for (const s of subs) s.terminate();
  for (const p of pubs) p.terminate();
  console.log(JSON.stringify(result));
  process.exit(0);
}
setTimeout(() => { console.error("loadgen: global timeout"); process.exit(2); },
  cfg.maxSec * 1000).unref();
main().catch((e) => { console.error("loadgen error", e); process.exit(1); });
