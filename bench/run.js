'use strict';
// `npm run bench [-- --quick] [-- --verbose] [-- --out FILE] [-- name ...]`: builds (via the npm
// script), then runs every bench/*.bench.js in turn, one at a time so they do not compete for
// the two cores. Each benchmark reports its figures and its targets (bench/harness.js `report`);
// this prints one line per target (measured, target, verdict) and writes everything, with each
// benchmark's own printout, to a JSON file (default bench-results.json, not committed).
// docs/BENCHMARKS.md records dated figures and the method.
// --quick asks each benchmark for its smallest point (BENCH_QUICK=1, fewer packets/repetitions).
// --verbose shows each benchmark's own printout as it runs.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const verbose = args.includes('--verbose');
const outIndex = args.indexOf('--out');
const outFile = path.resolve(outIndex >= 0 ? args[outIndex + 1] : 'bench-results.json');
const only = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--out');
const files = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((name) => f.startsWith(name)))
  .sort();

const env = { ...process.env };
if (quick) {
  env.BENCH_QUICK = '1';
  env.BENCH_PACKETS = env.BENCH_PACKETS || '200000';
  env.BENCH_REPS = env.BENCH_REPS || '2';
}
const hasTaskset = spawnSync('taskset', ['-c', '1', 'true']).status === 0;
const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-report-')), 'r.jsonl');
env.BENCH_REPORT = reportFile;

const runs = [];
for (const file of files) {
  const script = path.join(__dirname, file);
  const cmd = hasTaskset ? 'taskset' : process.execPath;
  const cmdArgs = hasTaskset ? ['-c', '1', process.execPath, script] : [script];
  if (quick) cmdArgs.push('--quick');
  process.stdout.write(`${file}${quick ? ' (quick)' : ''} ... `);
  const started = Date.now();
  const result = spawnSync(cmd, cmdArgs, {
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: verbose ? 'inherit' : 'pipe',
  });
  const seconds = (Date.now() - started) / 1000;
  const ok = result.status === 0;
  process.stdout.write(
    `${ok ? 'done' : `FAILED (${result.status ?? result.signal})`} in ${seconds.toFixed(0)} s\n`,
  );
  if (!ok && !verbose) process.stdout.write(`${result.stderr ?? ''}`.slice(-2000));
  runs.push({ file, ok, seconds, output: result.stdout ?? '', errors: result.stderr ?? '' });
}

const reports = fs.existsSync(reportFile)
  ? fs
      .readFileSync(reportFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
  : [];
fs.rmSync(path.dirname(reportFile), { recursive: true, force: true });

const verdict = (met) => (met === true ? 'met' : met === false ? 'MISSED' : 'not judged');
const rows = reports.flatMap((r) =>
  r.checks.map((c) => [
    r.bench,
    c.what,
    c.value === null ? '-' : `${c.value.toLocaleString('en-US')}${c.unit ? ` ${c.unit}` : ''}`,
    c.target,
    verdict(c.met),
  ]),
);
const header = ['bench', 'target', 'measured', 'wanted', 'verdict'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
for (const row of rows) console.log(line(row));
const counts = { met: 0, MISSED: 0, 'not judged': 0 };
for (const row of rows) counts[row[4]] += 1;
const failed = runs.filter((r) => !r.ok).length;
console.log(
  `\n${counts.met} met, ${counts.MISSED} missed, ${counts['not judged']} not judged; ` +
    `${runs.length - failed} of ${runs.length} benchmarks ran; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (a shared machine moves every wall-clock figure)`,
);

fs.writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      at: new Date().toISOString(),
      quick,
      node: process.version,
      cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`,
      reports,
      runs,
    },
    null,
    2,
  )}\n`,
);
console.log(`full figures and each benchmark's printout: ${path.relative(process.cwd(), outFile)}`);
process.exitCode = failed === 0 ? 0 : 1;
