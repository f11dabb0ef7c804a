#!/usr/bin/env node
/*
 * Instrument search (docs/BENCHMARKS.md, "Instrument search"): InstrumentIndex.search over the
 * simulator's full scrip master (about 26,000 instruments), per query p50/p99/max in µs after
 * a warm-up, against a naive search in the same run (upper-case every name per query, filter,
 * rank, sort). Also times the load pipeline: parse the CSV, build the index.
 *
 * Build first into dist (`npx nest build`), or into a temporary folder:
 *   npx tsc -p tsconfig.build.json --outDir /tmp/instr-dist
 *   INSTR_DIST=/tmp/instr-dist taskset -c 1 node bench/instrument-search.bench.js [--iterations 2000]
 */
'use strict';

const os = require('node:os');
const { useBuild, arg, report, check } = require('./harness');

const build = useBuild('INSTR_DIST');
const { InstrumentIndex } = build.load('src/instruments/instrument-index.js');
const { parseScripMaster } = build.load('libs/dhan/src/index.js');
const { Universe } = build.load('libs/dhan-simulator/src/index.js');

const ITERATIONS = arg('iterations', 2000);
const LIMIT = 20;

const QUERIES = [
  ['NIFTY', 'exact + thousands of prefixes'],
  ['nifty bank', 'exact on display name'],
  ['CRUDE', 'prefix'],
  ['24000', 'contains, many'],
  ['NIFTY 1 DEC 24000', 'contains, few'],
  ['OIL', 'contains only'],
  ['ZZZNOMATCH', 'no match: full scan'],
  // As traders type (underlying + strike + kind + expiry parts, any order).
  ['BANKNIFTY 52000 CE', 'contract: strike and kind'],
  ['NIFTY DEC FUT', 'exact display name + contract'],
  ['nifty 24500 pe 29 dec', 'contract: strike, kind, day, month'],
  ['CRUDEOIL FUT', 'contract: futures'],
  ['nifty pe dec', 'contract: a month of puts, no strike'],
];

/** What a first implementation does: upper-case and test every name for every query. */
function naiveSearch(instruments, text, limit) {
  const q = text.trim().toUpperCase();
  const hits = [];
  for (const i of instruments) {
    const s = i.symbol.toUpperCase();
    const d = i.displayName.toUpperCase();
    let rank;
    if (s === q || d === q) rank = 0;
    else if (s.startsWith(q) || d.startsWith(q)) rank = 1;
    else if (s.includes(q) || d.includes(q)) rank = 2;
    else continue;
    hits.push({ i, rank });
  }
  hits.sort((a, b) => a.rank - b.rank || a.i.symbol.localeCompare(b.i.symbol));
  return hits.slice(0, limit).map((h) => h.i);
}

function stats(samples) {
  const sorted = Float64Array.from(samples).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

function time(fn, iterations) {
  for (let i = 0; i < Math.min(200, iterations); i++) fn();
  const samples = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return stats(samples);
}

const us = (n) => n.toFixed(1).padStart(8);

async function main() {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata' }).format(new Date());
  const csv = new Universe({ seed: 42, today }).toCsv();
  let t0 = performance.now();
  const { instruments } = await parseScripMaster(csv);
  const parseMs = performance.now() - t0;
  t0 = performance.now();
  let index = new InstrumentIndex(instruments);
  const firstBuildMs = performance.now() - t0;
  const builds = [];
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    index = new InstrumentIndex(instruments);
    builds.push(performance.now() - t0);
  }

  console.log(`node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores`);
  console.log(
    `${instruments.length} instruments (${(csv.length / 1e6).toFixed(1)} MB CSV); ` +
      `parse ${parseMs.toFixed(0)} ms; index build ${firstBuildMs.toFixed(0)} ms first, ` +
      `${Math.min(...builds).toFixed(0)} ms best of 5`,
  );
  console.log(`search limit ${LIMIT}, ${ITERATIONS} iterations per query, µs per search`);
  console.log(
    `${'query'.padEnd(20)} ${'hits'.padStart(4)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)} | naive ${'p50'.padStart(8)} ${'p99'.padStart(8)}  ratio p50`,
  );
  const rows = [];
  for (const [query, what] of QUERIES) {
    const hits = index.search(query, LIMIT, today).length;
    const ours = time(() => index.search(query, LIMIT, today), ITERATIONS);
    rows.push({ query, hits, us: ours });
    const naive = time(() => naiveSearch(instruments, query, LIMIT), Math.min(ITERATIONS, 300));
    console.log(
      `${JSON.stringify(query).padEnd(20)} ${String(hits).padStart(4)} ${us(ours.p50)} ${us(ours.p99)} ${us(ours.max)} |       ${us(naive.p50)} ${us(naive.p99)}  ${(naive.p50 / ours.p50).toFixed(0).padStart(5)}x  (${what})`,
    );
    rows[rows.length - 1].naiveUs = naive;
  }
  const worstP99 = Math.max(...rows.map((r) => r.us.p99));
  report('instrument-search', {
    figures: { instruments: instruments.length, indexBuildMs: Math.min(...builds), queries: rows },
    checks: [check('search p99, worst query, full master', worstP99, '<=', 1000, 'µs')],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
