// National-scale load generator for bench/national.py: N raw Engine.IO clients spread over
// many incidents (one big, some medium, many small), in phases:
//   1. connect every client (hub: CONNECT with {token}, i.e. authenticated) -> connects/s,
//      then the servers' RSS (memory per idle authenticated socket)
//   2. join every client to its incident (hub: `incident.join` with presence "changes";
//      peer: its `join`) -> joins/s, RSS again
//   3. (hub) feed posts at a rate per incident class while a convoy's vehicles report over
//      OsmAnd into one incident: p50/p99 post -> receipt per class and the worst incident
//   4. (hub, `storm`) prints {"phase":"restart"} and waits on stdin for {"targets":{incident:
//      seq}} once the bench has killed and restarted the hub(s) and posted while they were
//      down; then every client reconnects at once (bounded in flight) and rejoins with
//      `since` = the last seq it saw; its seq must reach the target with every seq in between
//      (nothing missed) -> time until everyone caught up.
// Usage: node national_loadgen.js CONFIG.json (needs `ws`: NODE_PATH=<peer>/node_modules).
// Only ever connects to 127.0.0.1; every loop is bounded by count and time.
"use strict";
const fs = require("fs");
const http = require("http");
const crypto = require("crypto");
const readline = require("readline");
const common = require("./loadgen_common");

const cfg = Object.assign({
  mode: "hub", ports: [8000], clients: [], incidents: [], pubToken: "", pids: {},
  connectConcurrency: 50, postSec: 15, rates: { big: 2, medium: 0.5, small: 0.1 },
  convoy: null, storm: false, stormConcurrency: 500, stormAttempts: 20, drainSec: 10,
  maxSec: 900,
}, JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { pct } = common;
const hub = cfg.mode === "hub";

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? parseInt(m[1], 10) : null;
  } catch (e) { return null; }
}
const rss = () => Object.fromEntries(Object.entries(cfg.pids).map(([k, p]) => [k, rssKb(p)]));
const rssSum = (o) => Object.values(o).reduce((a, b) => a + (b || 0), 0);

// per-client state: its incident index, the last seq it saw, its socket
const clients = cfg.clients.map((c, i) => ({ i, token: c.token, inc: c.incident, seq: 0,
  ws: null, port: cfg.ports[i % cfg.ports.length] }));
const incidents = cfg.incidents; // [{id, cls}]
const lat = { big: [], medium: [], small: [] };
const latByIncident = incidents.map(() => []);
let measuring = false;
let received = 0;
let seqGaps = 0;
let closedUnexpected = 0;

function onEvent(client, data) {
  // Only `incident.event`s are decoded (presence.changed and convoy.positions are counted by
  // their prefix); each carries its seq, and a feed post's text its send time.
  if (data.length < 20 || data.toString("latin1", 2, 19) !== '["incident.event"') return false;
  const ev = JSON.parse(data.toString().slice(2))[1];
  if (client.seq && ev.seq > client.seq + 1) seqGaps++;
  if (ev.seq > client.seq) client.seq = ev.seq;
  const text = ev.data && ev.data.text;
  if (measuring && typeof text === "string" && text.startsWith("@ts=")) {
    const l = nowUs() - parseInt(text.slice(4, text.indexOf(";")), 10);
    lat[incidents[client.inc].cls].push(l);
    latByIncident[client.inc].push(l);
    received++;
  }
  return true;
}

let positionsSeen = 0;
const posLat = [];
function makeOnMessage(client) {
  return function onMessage(data) {
    if (data.length > 1 && data[0] === 52 && data[1] === 50) { // "42": an event
      if (hub && onEvent(client, data)) return;
      if (client.probe && data.toString("latin1", 2, 21) === '["convoy.positions"') {
        const body = JSON.parse(data.toString().slice(2))[1];
        const now = Date.now();
        for (const p of body.positions) {
          positionsSeen++;
          if (measuring) posLat.push(now - Date.parse(p.ts.length > 20 ? p.ts.slice(0, 23) + "Z" : p.ts));
        }
      }
      return;
    }
    const s = data.toString();
    if (s === "2") { this.send("3"); return; }
    if (this._onCtl) this._onCtl(s);
  };
}

function connect(client, join, joinBody) {
  return common.connectClient({ port: client.port, hub, token: client.token,
    incidentId: incidents[client.inc].id, room: `incident-${client.inc}`, join, joinBody,
    onMessage: makeOnMessage(client) });
}

// a raw ack ("431[{...}]") -> the join's answer; advances the client's seq, checks no gap
function applyJoinAck(client, raw, since) {
  const ack = JSON.parse(raw.slice(3))[0];
  const events = ack.events || [];
  let expect = since + 1;
  for (const e of events) { if (e.seq !== expect) return { ack, gap: true }; expect++; }
  client.seq = Math.max(client.seq, ack.seq, ...events.map((e) => e.seq));
  return { ack, gap: false, reset: !!ack.reset };
}

async function pool(n, concurrency, fn) {
  let idx = 0;
  const failures = [];
  async function worker() {
    while (idx < n) {
      const i = idx++;
      try { await fn(i); } catch (e) { failures.push(String(e && e.message || e).slice(0, 200)); }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return failures;
}

// phase 2: joining an already connected socket
function joinOne(client, since) {
  return new Promise((resolve, reject) => {
    const ws = client.ws;
    const to = setTimeout(() => { ws._onCtl = null; reject(new Error("join timeout")); }, 60000);
    ws._onCtl = (s) => {
      if (!s.startsWith("431")) return;
      clearTimeout(to); ws._onCtl = null;
      if (hub && !s.startsWith('431[{"ok":true')) { reject(new Error("join refused " + s.slice(0, 200))); return; }
      resolve(s);
    };
    const body = { incident_id: incidents[client.inc].id, presence: "changes" };
    if (since != null) body.since = since;
    ws.send(hub ? `421${JSON.stringify(["incident.join", body])}`
      : `421${JSON.stringify(["join", `incident-${client.inc}`])}`);
  });
}

// phase 3: the convoy's vehicles over OsmAnd
function convoyRunner(convoy, port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const inFlight = new Set();
  const st = { sent: 0, ok: 0, err: 0, busy: 0 };
  const t0 = Date.now();
  const next = new Float64Array(convoy.keys.length);
  for (let v = 0; v < next.length; v++) next[v] = t0 + (v / next.length) * 1000;
  function tick() {
    const now = Date.now();
    for (let v = 0; v < next.length; v++) {
      if (next[v] > now) continue;
      next[v] += 1000;
      if (inFlight.has(v)) { st.busy++; continue; }
      inFlight.add(v); st.sent++;
      const lat = 50.8 + (v % 500) * 0.0005, lon = 4.3 + ((now - t0) / 1000) * 0.0002;
      const path = `/ingest/osmand?id=${convoy.keys[v]}&lat=${lat.toFixed(7)}&lon=${lon.toFixed(7)}` +
        `&timestamp=${now}&speed=27&bearing=90`;
      const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
        res.resume();
        res.on("end", () => { inFlight.delete(v); if (res.statusCode === 200) st.ok++; else st.err++; });
      });
      req.setTimeout(10000, () => req.destroy(new Error("timeout")));
      req.on("error", () => { inFlight.delete(v); st.err++; });
    }
  }
  const timer = setInterval(tick, 5);
  return { st, stop: () => { clearInterval(timer); agent.destroy(); } };
}

async function deliveryPhase(result) {
  const pub = await common.connectClient({ port: cfg.ports[0], hub: true, token: cfg.pubToken,
    join: false, onMessage: function (d) { const s = d.toString(); if (s === "2") this.send("3"); else if (this._onCtl) this._onCtl(s); } });
  let acked = 0, ackErrors = 0, firstAckError = null;
  const postedPer = incidents.map(() => 0);
  pub._onCtl = (s) => {
    if (!s.startsWith("43")) return;
    if (s.includes('[{"ok":true')) acked++;
    else { ackErrors++; if (!firstAckError) firstAckError = s.slice(0, 300); }
  };
  // each incident posts at its class's rate, at its own offset
  const period = incidents.map((inc) => 1e6 / cfg.rates[inc.cls]);
  const t0 = nowUs();
  const next = incidents.map((_, k) => t0 + (k % 97) / 97 * period[k]);
  const convoy = cfg.convoy ? convoyRunner(cfg.convoy, cfg.ports[0]) : null;
  await sleep(2000); // the convoy's first fixes, before measuring
  const c0 = common.cpuSnap(cfg.pids);
  measuring = true; received = 0;
  const start = nowUs();
  for (let k = 0; k < next.length; k++) next[k] = start + (next[k] - t0);
  const end = start + cfg.postSec * 1e6;
  let ackId = 100;
  let sent = 0;
  while (nowUs() < end) {
    const now = nowUs();
    for (let k = 0; k < incidents.length; k++) {
      if (next[k] > now) continue;
      next[k] += period[k];
      ackId++; sent++; postedPer[k]++;
      pub.send(`42${ackId}${JSON.stringify(["feed.post", { incident_id: incidents[k].id,
        client_id: crypto.randomUUID(), text: `@ts=${nowUs()}; national bench ${sent}` }])}`);
    }
    await sleep(2);
  }
  const members = incidents.map(() => 0);
  for (const c of clients) members[c.inc]++;
  const expected = postedPer.reduce((a, n, k) => a + n * members[k], 0);
  const dl = Date.now() + cfg.drainSec * 1000;
  while ((received < expected || acked + ackErrors < sent) && Date.now() < dl) await sleep(10);
  const sec = (nowUs() - start) / 1e6;
  measuring = false;
  const c1 = common.cpuSnap(cfg.pids);
  if (convoy) convoy.stop();
  const ms = (x) => (x == null ? null : +(x / 1000).toFixed(1));
  const classes = {};
  for (const cls of Object.keys(lat)) {
    const a = lat[cls].sort((x, y) => x - y);
    classes[cls] = { incidents: incidents.filter((i) => i.cls === cls).length,
      postsPerSecEach: cfg.rates[cls], deliveries: a.length, p50ms: ms(pct(a, 50)),
      p99ms: ms(pct(a, 99)), maxms: ms(a[a.length - 1]) };
  }
  let worst = null;
  latByIncident.forEach((a, k) => {
    if (!a.length) return;
    a.sort((x, y) => x - y);
    const p = pct(a, 99);
    if (!worst || p > worst.p99us) worst = { incident: k, cls: incidents[k].cls, p99us: p };
  });
  posLat.sort((a, b) => a - b);
  pub._closing = true; pub.terminate();
  result.delivery = {
    seconds: +sec.toFixed(2), posts: sent, acked, ackErrors, firstAckError, expected, received,
    lossPct: expected ? +((1 - received / expected) * 100).toFixed(3) : null,
    deliveriesPerSec: Math.round(received / sec), classes,
    worstIncidentP99ms: worst ? ms(worst.p99us) : null, worstIncidentClass: worst && worst.cls,
    convoy: convoy ? { vehicles: cfg.convoy.keys.length, ...convoy.st, positionsSeenByProbes: positionsSeen,
      probeP50ms: pct(posLat, 50), probeP99ms: pct(posLat, 99) } : null,
    cpuPct: common.cpuPct(c0, c1, sec), seqGaps,
  };
  console.error(JSON.stringify({ delivery: result.delivery }));
}

async function stormPhase(result) {
  for (const c of clients) { if (c.ws) c.ws._closing = true; }
  console.log(JSON.stringify({ phase: "restart" }));
  const rl = readline.createInterface({ input: process.stdin });
  const line = await new Promise((resolve) => rl.once("line", resolve));
  rl.close();
  const { targets } = JSON.parse(line);
  for (const c of clients) { try { c.ws.terminate(); } catch (e) { /* gone with the hub */ } }
  const t0 = nowUs();
  const doneAt = [];
  let resets = 0, gaps = 0, short = 0, attemptsUsed = 0;
  const failures = await pool(clients.length, cfg.stormConcurrency, async (i) => {
    const c = clients[i];
    const since = c.seq;
    for (let attempt = 1; ; attempt++) {
      try {
        c.ws = await connect(c, false);
        const raw = await joinOne(c, since);
        const { gap, reset } = applyJoinAck(c, raw, since);
        if (gap) gaps++;
        if (reset) resets++;
        break;
      } catch (e) {
        if (c.ws) { c.ws._closing = true; c.ws.terminate(); }
        if (attempt >= cfg.stormAttempts) throw e;
        attemptsUsed++;
        await sleep(100 * attempt);
      }
    }
    if (c.seq < targets[incidents[c.inc].id]) short++;
    doneAt.push((nowUs() - t0) / 1e6);
  });
  doneAt.sort((a, b) => a - b);
  result.storm = { clients: clients.length, caughtUp: doneAt.length - short, failed: failures.length,
    firstFailure: failures[0] || null, gaps, short, resets, retries: attemptsUsed,
    allCaughtUpSec: doneAt.length ? +doneAt[doneAt.length - 1].toFixed(2) : null,
    p50Sec: +(pct(doneAt, 50) || 0).toFixed(2), p99Sec: +(pct(doneAt, 99) || 0).toFixed(2),
    rss: rss() };
  console.error(JSON.stringify({ storm: result.storm }));
}

async function main() {
  const t0 = Date.now();
  const result = { mode: cfg.mode, clients: clients.length, incidents: incidents.length };
  await sleep(500);
  result.rssBeforeKb = rss();
  // 1. connect (authenticated) -------------------------------------------------------------
  let tc = nowUs();
  const connectFailures = await pool(clients.length, cfg.connectConcurrency, async (i) => {
    const c = clients[i];
    c.ws = await connect(c, false);
    c.ws.on("close", () => { if (!c.ws._closing) closedUnexpected++; });
  });
  const connectSec = (nowUs() - tc) / 1e6;
  await sleep(1500);
  result.rssConnectedKb = rss();
  result.connect = { seconds: +connectSec.toFixed(2), perSec: Math.round(clients.length / connectSec),
    failed: connectFailures.length, firstFailure: connectFailures[0] || null };
  const connected = clients.length - connectFailures.length;
  result.kbPerIdleSocket = +((rssSum(result.rssConnectedKb) - rssSum(result.rssBeforeKb)) / connected).toFixed(2);
  // probes for convoy.positions: a few clients of the convoy's incident
  if (cfg.convoy) {
    let n = 0;
    for (const c of clients) if (incidents[c.inc].id === cfg.convoy.incidentId && n++ < 5) c.probe = true;
  }
  console.error(JSON.stringify({ connect: result.connect, kbPerIdleSocket: result.kbPerIdleSocket }));
  // 2. join ---------------------------------------------------------------------------------
  tc = nowUs();
  let joinResets = 0;
  const joinFailures = await pool(clients.length, cfg.connectConcurrency, async (i) => {
    const c = clients[i];
    if (!c.ws) throw new Error("not connected");
    const raw = await joinOne(c, null);
    if (hub) c.seq = JSON.parse(raw.slice(3))[0].seq;
  });
  const joinSec = (nowUs() - tc) / 1e6;
  await sleep(2000);
  result.rssJoinedKb = rss();
  result.join = { seconds: +joinSec.toFixed(2), perSec: Math.round(clients.length / joinSec),
    failed: joinFailures.length, firstFailure: joinFailures[0] || null, resets: joinResets };
  result.readyPerSec = Math.round(clients.length / (connectSec + joinSec));
  result.kbPerJoinedSocket = +((rssSum(result.rssJoinedKb) - rssSum(result.rssBeforeKb)) / connected).toFixed(2);
  console.error(JSON.stringify({ join: result.join, kbPerJoinedSocket: result.kbPerJoinedSocket }));
  // 3. feed posts everywhere, a convoy in one -----------------------------------------------
  if (hub && cfg.postSec > 0) await deliveryPhase(result);
  // 4. the reconnect storm ------------------------------------------------------------------
  if (hub && cfg.storm) await stormPhase(result);
  result.closedUnexpected = closedUnexpected;
  result.wallSec = (Date.now() - t0) / 1000;
  for (const c of clients) { if (c.ws) { c.ws._closing = true; c.ws.terminate(); } }
  console.log(JSON.stringify(result));
  process.exit(0);
}
setTimeout(() => { console.error("loadgen: global timeout"); process.exit(2); },
  cfg.maxSec * 1000).unref();
main().catch((e) => { console.error("loadgen error", e); process.exit(1); });
