// What the Node load generators share: CPU accounting from /proc (this process and the
// servers under test, whose pids the bench scripts pass in) and percentiles.
"use strict";
const fs = require("fs");

function cpuTicks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return parseInt(f[11], 10) + parseInt(f[12], 10);
  } catch (e) { return NaN; }
}

// {loadgen: ticks, <name>: ticks for each of `pids`}
function cpuSnap(pids) {
  const o = { loadgen: cpuTicks(process.pid) };
  for (const [k, p] of Object.entries(pids || {})) o[k] = cpuTicks(p);
  return o;
}

// % of one core used by each between two snapshots `sec` seconds apart
const cpuPct = (a, b, sec) => Object.fromEntries(
  Object.keys(a).map((k) => [k, +(((b[k] - a[k]) / 100 / sec) * 100).toFixed(1)]));

// the p-th percentile of a sorted array
const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] : null);

// A raw Engine.IO client as the benchmarks use it, resolved once it is ready: CONNECT (with
// {token} for the hub), then when `join` the incident's join (the hub's `incident.join`, the
// peer's `join` of `room`, default "incident-1"; `joinBody`'s fields are added to the hub's
// join, e.g. {presence: "changes"}). `onMessage` gets every frame as a Buffer; while connecting
// it must hand the control messages to `this._onCtl`. Needs `ws` (NODE_PATH: the peer's
// node_modules).
function connectClient({ port, hub, token, incidentId, join, joinBody, room, offerDeflate,
  onMessage }) {
  const WebSocket = require("ws");
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
      // The server's text is trusted (loopback, our own protocol): no UTF-8 pass. A browser
      // offers permessage-deflate; the generators do when asked to.
      { perMessageDeflate: !!offerDeflate, skipUTF8Validation: true });
    const to = setTimeout(() => { reject(new Error("connect timeout")); ws.terminate(); }, 30000);
    const done = () => { clearTimeout(to); ws._onCtl = null; resolve(ws); };
    ws._onCtl = (s) => {
      if (s[0] === "0") { ws.send(hub ? `40${JSON.stringify({ token })}` : "40"); return; }
      if (s.startsWith("40")) {
        if (!join) { done(); return; }
        ws.send(hub
          ? `421${JSON.stringify(["incident.join", { incident_id: incidentId, ...joinBody }])}`
          : `421${JSON.stringify(["join", room || "incident-1"])}`);
        return;
      }
      if (s.startsWith("431")) {
        if (hub && !s.startsWith('431[{"ok":true')) {
          clearTimeout(to); reject(new Error("join refused " + s.slice(0, 200))); return;
        }
        done(); return;
      }
      if (s.startsWith("44")) { clearTimeout(to); reject(new Error("connect_error " + s)); }
    };
    ws.on("message", onMessage);
    ws.on("error", (e) => { clearTimeout(to); reject(e); });
  });
}

module.exports = { cpuSnap, cpuPct, pct, connectClient };
