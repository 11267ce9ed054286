// Fan-out load generator for bench/fanout.py: N raw websocket clients speaking Engine.IO v4 /
// Socket.IO v5 directly (cheaper than a full client, so the generator is not the bottleneck),
// the same code for the hub and for the Node socket.io peer:
//   mode "hub":  CONNECT with {token}, `incident.join` with ack; the publisher sends `feed.post`
//                with acks and every subscriber receives the `incident.event`; with
//                `presence` ("changes") the join asks for presence as changes (v2).
//   mode "peer": the peer's own `join`/`pub` events, the payload padded to the hub's size.
// The publish time rides in the text as "@ts=<microseconds>;" and is read back on receipt.
// Usage: node fanout_loadgen.js CONFIG.json  (needs `ws`: NODE_PATH=<peer>/node_modules)
// Only ever connects to 127.0.0.1; every loop is bounded by count and time.
"use strict";
const fs = require("fs");
const common = require("./loadgen_common");
const crypto = require("crypto");

const cfg = Object.assign({
  mode: "hub", port: 8000, clients: 100, tokens: [], pubToken: "", incidentId: "",
  rates: [5, 10], stepSec: 4, burst: 0, maxP99Ms: 1000, drainSec: 10, pids: {},
  padBytes: 0, connectConcurrency: 50, out: null, presence: null,
}, JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const cpuSnap = () => common.cpuSnap(cfg.pids);
const { cpuPct, pct } = common;

let lat = [];
let received = 0;
let lastRecvUs = 0;
let msgBytes = 0;
let errors = 0;
let closed = 0;
let portIdx = 0; // subscribers go round-robin over cfg.ports when given; the publisher to cfg.port

function onMessage(data) {
  // Events are read as bytes: only the send time is decoded, not the whole message, so that
  // the generator (which shares the cores) takes as little CPU from the servers as it can.
  if (data.length > 1 && data[0] === 52 && data[1] === 50) { // "42": an event
    const i = data.indexOf("@ts=");
    if (i > 0) {
      const now = nowUs();
      lat.push(now - parseInt(data.toString("latin1", i + 4, data.indexOf(";", i)), 10));
      received++;
      lastRecvUs = now;
      if (!msgBytes) msgBytes = data.length;
    }
    return;
  }
  const s = data.toString();
  if (s === "2") { this.send("3"); return; }
  if (this._onCtl) this._onCtl(s);
}

async function connectOne(token, join) {
  const port = join && cfg.ports ? cfg.ports[(portIdx++) % cfg.ports.length] : cfg.port;
  const ws = await common.connectClient({ port, hub: cfg.mode === "hub", token,
    incidentId: cfg.incidentId, join, offerDeflate: cfg.offerDeflate, onMessage,
    joinBody: cfg.presence ? { presence: cfg.presence } : undefined });
  ws.on("error", () => { errors++; });
  ws.on("close", () => { if (!ws._closing) closed++; });
  return ws;
}


async function main() {
  const t0 = Date.now();
  const subs = [];
  let idx = 0;
  const tc0 = nowUs();
  async function worker() {
    while (idx < cfg.clients) {
      const i = idx++;
      subs.push(await connectOne(cfg.tokens[i % Math.max(1, cfg.tokens.length)], true));
    }
  }
  await Promise.all(Array.from({ length: cfg.connectConcurrency }, worker));
  const connectSec = (nowUs() - tc0) / 1e6;
  const pub = await connectOne(cfg.pubToken, false);
  let acked = 0;
  let ackErrors = 0;
  pub._onCtl = (s) => {
    if (s.startsWith("43")) { if (s.includes('[{"ok":true')) acked++; else { ackErrors++; if (ackErrors < 3) console.error(s.slice(0, 300)); } }
  };
  await sleep(1000); // let presence traffic from the joins settle
  const pad = "x".repeat(Math.max(0, cfg.padBytes));
  let ackId = 0;
  function publish(seq) {
    const text = `@ts=${nowUs()}; bench ${seq} ${pad}`;
    if (cfg.mode === "hub") {
      ackId++;
      pub.send(`42${ackId}${JSON.stringify(["feed.post", {
        incident_id: cfg.incidentId, client_id: crypto.randomUUID(), text }])}`);
    } else {
      pub.send(`42${JSON.stringify(["pub", { room: "incident-1", text }])}`);
    }
  }
  const result = {
    mode: cfg.mode, clients: cfg.clients, connectSec: +connectSec.toFixed(2),
    connectPerSec: Math.round(cfg.clients / connectSec), steps: [],
  };
  let seq = 0;
  async function runStep(rate, durSec, burst) {
    lat = []; received = 0; lastRecvUs = 0;
    const c0 = cpuSnap();
    const start = nowUs();
    let sent = 0;
    if (burst) {
      for (; sent < burst; sent++) publish(seq++);
    } else {
      const total = Math.round(rate * durSec);
      while (sent < total) {
        const due = Math.min(total, Math.floor(((nowUs() - start) / 1e6) * rate));
        while (sent < due) { publish(seq++); sent++; }
        await sleep(1);
      }
    }
    const sendEnd = nowUs();
    const expected = sent * cfg.clients;
    const dl = Date.now() + cfg.drainSec * 1000;
    while (received < expected && Date.now() < dl) await sleep(5);
    const sec = (Math.max(lastRecvUs, sendEnd) - start) / 1e6;
    const c1 = cpuSnap();
    lat.sort((a, b) => a - b);
    const ms = (x) => (x == null ? null : +(x / 1000).toFixed(2));
    const st = {
      mode: burst ? "burst" : "rate", postsPerSec: burst ? null : rate,
      offeredDeliveriesPerSec: burst ? null : rate * cfg.clients, sent, expected, received,
      lossPct: +((1 - received / expected) * 100).toFixed(3), seconds: +sec.toFixed(3),
      deliveriesPerSec: Math.round(received / sec), p50ms: ms(pct(lat, 50)),
      p99ms: ms(pct(lat, 99)), maxms: ms(lat[lat.length - 1]), cpuPct: cpuPct(c0, c1, sec),
    };
    console.error(JSON.stringify(st));
    result.steps.push(st);
    const settle = Date.now() + 15000;
    while (Date.now() < settle) { const prev = received; await sleep(700); if (received === prev) break; }
    return st;
  }
  for (const r of cfg.rates) {
    const st = await runStep(r, cfg.stepSec, 0);
    if (st.p99ms > cfg.maxP99Ms || st.lossPct > 1) break;
  }
  if (cfg.burst > 0) await runStep(0, 0, cfg.burst);
  Object.assign(result, { msgBytes, errors, closedByServer: closed, acked, ackErrors,
    wallSec: (Date.now() - t0) / 1000 });
  for (const s of subs) { s._closing = true; s.terminate(); }
  pub._closing = true; pub.terminate();
  const txt = JSON.stringify(result);
  if (cfg.out) fs.writeFileSync(cfg.out, txt);
  console.log(txt);
  process.exit(0);
}
setTimeout(() => { console.error("loadgen: global timeout"); process.exit(2); },
  (cfg.maxSec || 240) * 1000).unref();
main().catch((e) => { console.error("loadgen error", e); process.exit(1); });
