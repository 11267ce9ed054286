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

module.exports = { cpuSnap, cpuPct, pct };
