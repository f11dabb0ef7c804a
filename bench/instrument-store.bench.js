#!/usr/bin/env node
/*
 * Storing the instrument master (docs/BENCHMARKS.md, "Storing the instrument master"): the
 * app in-process with its embedded simulator's full scrip master; InstrumentStore.replaceAll
 * (hand-written SQL: SQLite multi-row INSERTs, PostgreSQL one unnest) against the TypeORM
 * query builder it replaced (multi-row inserts of 1,000 rows), alternating, wall time and the
 * process's CPU per full replace. SQLite by default; PostgreSQL with
 * BENCH_DATABASE_URL=postgres://... (a scratch schema is created and dropped).
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/bench-dist
 *   BENCH_DIST=/tmp/bench-dist node bench/instrument-store.bench.js [--reps 5]
 */
'use strict';

const { useBuild, arg, quick, percentile: pct, bootApp, report, check } = require('./harness');

const build = useBuild('BENCH_DIST');
const { InstrumentsService } = build.load('src/instruments/instruments.service.js');
const { InstrumentStore } = build.load('src/instruments/instrument.store.js');
const { InstrumentEntity } = build.load('src/instruments/entities/instrument.entity.js');
const { InstrumentLoadOutcome } = build.load(
  'src/instruments/entities/instrument-master-load.entity.js',
);

const REPS = arg('reps', quick ? 2 : 5);

/** The replaced implementation: TypeORM's query builder, 1,000 rows an INSERT. */
async function viaQueryBuilder(dataSource, rows) {
  await dataSource.transaction(async (manager) => {
    await manager.createQueryBuilder().delete().from(InstrumentEntity).execute();
    for (let start = 0; start < rows.length; start += 1000) {
      await manager
        .createQueryBuilder()
        .insert()
        .into(InstrumentEntity)
        .values(rows.slice(start, start + 1000))
        .updateEntity(false)
        .execute();
    }
  });
}

const toRow = (i) => ({
  segment: i.segment,
  securityId: i.securityId,
  exchange: i.exchange,
  instrumentType: i.instrumentType,
  symbol: i.symbol,
  displayName: i.displayName,
  underlying: i.underlying ?? null,
  expiry: i.expiry ?? null,
  strike: i.strike ?? null,
  optionType: i.optionType ?? null,
  expiryFlag: i.expiryFlag ?? null,
  lotSize: i.lotSize,
  tickSize: i.tickSize,
});

async function timed(work) {
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await work();
  const c = process.cpuUsage(cpu);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (c.user + c.system) / 1000 };
}

async function main() {
  const booted = await bootApp(build, {
    tmpPrefix: 'instrument-store-bench-',
    configure: (config) => ({ ...config, marketData: { tierB: { enabled: false } } }),
  });
  try {
    const { app } = booted;
    const instruments = app.get(InstrumentsService);
    await instruments.ready();
    const all = instruments.all();
    const store = app.get(InstrumentStore);
    // The boot's own load stores the master in the background: measured after it is stored.
    while ((await store.latestLoads(1)).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const dataSource = app.get(require('typeorm').DataSource);
    const record = {
      source: 'bench',
      outcome: InstrumentLoadOutcome.ACCEPTED,
      count: all.length,
      durationMs: 0,
    };
    const ours = [];
    const builder = [];
    for (let rep = -1; rep < REPS; rep++) {
      const a = await timed(() => store.replaceAll(all, record));
      const rows = all.map(toRow);
      const b = await timed(() => viaQueryBuilder(dataSource, rows));
      if (rep >= 0) {
        ours.push(a);
        builder.push(b);
      }
    }
    const stats = (list, key) => {
      const sorted = list.map((x) => x[key]).sort((x, y) => x - y);
      return pct(sorted, 50);
    };
    const engine = booted.engine;
    process.stdout.write(
      `instrument master, ${all.length} rows, ${engine}, ${REPS} replaces each (median)\n` +
        `  replaceAll (hand-written SQL): ${stats(ours, 'ms').toFixed(0)} ms wall, ` +
        `${stats(ours, 'cpuMs').toFixed(0)} ms CPU\n` +
        `  TypeORM query builder:         ${stats(builder, 'ms').toFixed(0)} ms wall, ` +
        `${stats(builder, 'cpuMs').toFixed(0)} ms CPU\n`,
    );
    report('instrument-store', {
      figures: {
        engine,
        rows: all.length,
        replaceAllMs: stats(ours, 'ms'),
        replaceAllCpuMs: stats(ours, 'cpuMs'),
        queryBuilderMs: stats(builder, 'ms'),
        queryBuilderCpuMs: stats(builder, 'cpuMs'),
      },
      checks: [
        check(`replaceAll of the full master (${engine})`, stats(ours, 'ms'), '<=', 1000, 'ms'),
      ],
    });
  } finally {
    await booted.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
