/*
 * Latency side table for bench/tick-fanout.bench.js, shared by the simulator thread (writer) and
 * the client-fleet thread (reader) through a SharedArrayBuffer: (securityId, LTP in paise) ->
 * the time the simulator handed the frame carrying it to its socket. The real feed's wire
 * format stays unchanged (the clock the latency is measured with). Open addressing, 4 probes, the
 * oldest entries are overwritten when a neighbourhood is full; a later send of the same
 * (id, LTP) replaces the earlier one. Times are process-wide monotonic ms (hrtime), so both
 * threads agree.
 */
'use strict';

const SLOTS = 1 << 22;
const MASK = SLOTS - 1;
const PROBES = 4;

function createTable() {
  return new SharedArrayBuffer(SLOTS * 16);
}

function openTable(sab) {
  const keys = new Float64Array(sab, 0, SLOTS);
  const times = new Float64Array(sab, SLOTS * 8, SLOTS);
  const slotOf = (id, paise) => {
    let h = Math.imul(id ^ Math.imul(paise, 0x85ebca77), 0x9e3779b1);
    h ^= h >>> 15;
    return h & MASK;
  };
  return {
    record(id, paise, time) {
      const key = id * 1e8 + paise;
      const s = slotOf(id, paise);
      for (let k = 0; k < PROBES; k++) {
        const i = (s + k) & MASK;
        const at = keys[i];
        if (at === key || at === 0) {
          times[i] = time;
          keys[i] = key;
          return;
        }
      }
      times[s] = time;
      keys[s] = key;
    },
    /** Send time, or -1 when unknown. */
    lookup(id, paise) {
      const key = id * 1e8 + paise;
      const s = slotOf(id, paise);
      for (let k = 0; k < PROBES; k++) {
        const i = (s + k) & MASK;
        if (keys[i] === key) return times[i];
        if (keys[i] === 0) return -1;
      }
      return -1;
    },
  };
}

/** Monotonic, process-wide (the same in every worker thread), ms with sub-µs resolution. */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

module.exports = { createTable, openTable, nowMs };
