'use strict';
// `npm run bench [-- --quick] [-- name ...]`: builds (via the npm script), then runs every
// bench/*.bench.js in turn, one at a time so they do not compete for the two cores.
// Each benchmark prints its own figures and the environment; docs/BENCHMARKS.md records them.
// --quick asks each benchmark for its smallest point (BENCH_QUICK=1, fewer packets/repetitions).
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));
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

let failed = 0;
for (const file of files) {
  const script = path.join(__dirname, file);
  const cmd = hasTaskset ? 'taskset' : process.execPath;
  const cmdArgs = hasTaskset ? ['-c', '1', process.execPath, script] : [script];
  if (quick) cmdArgs.push('--quick');
  console.log(`\n=== ${file}${quick ? ' (quick)' : ''} ===`);
  const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env });
  if (result.status !== 0) {
    failed += 1;
    console.error(`${file} exited with ${result.status ?? result.signal}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
