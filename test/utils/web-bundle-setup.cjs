/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a Jest globalSetup is loaded as CommonJS */
// Jest globalSetup of the e2e projects: the browser suites load the built web bundle (web/dist)
// through the server, so it is built here when missing or older than its sources (npm test
// builds it anyway; this covers a direct `npx jest`).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const web = path.join(root, 'web');

function newest(target) {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs
    .readdirSync(target)
    .filter((name) => name !== 'dist')
    .reduce((latest, name) => Math.max(latest, newest(path.join(target, name))), stat.mtimeMs);
}

module.exports = async function buildWebBundle() {
  const built = path.join(web, 'dist', 'index.html');
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= newest(web)) return;
  execFileSync('npm', ['run', '--silent', 'build:web'], { cwd: root, stdio: 'inherit' });
};
