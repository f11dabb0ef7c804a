/*
 * `--native-fleet` for bench/tick-fanout.bench.js: the client fleet of
 * bench/native/tick-fleet.c (one epoll loop in C) behind the message interface of
 * bench/tick-fanout-clients.js, so the bench drives either the same way. This worker thread
 * only relays commands and replies; the clients, their reads and the latency samples live in
 * the child process, which reads the simulator's send stamps from a FIFO (`stampFifo`). The
 * stop reply carries the child's CPU time (`cpuMs`), which the bench adds to the load side's.
 */
'use strict';

const { parentPort, workerData } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { url, token, watchlists, background, perSocket, fields, sampleEvery } = workerData;
const target = new URL(url);
const list = (instruments) => instruments.map((i) => `${i.segment}:${i.securityId}`).join(',');
const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tick-fleet-')), 'fleet.conf');
fs.writeFileSync(
  config,
  [
    `host ${target.hostname}`,
    `port ${target.port}`,
    `path ${target.pathname}`,
    `token ${token}`,
    `fields ${fields.replace(/\s+/g, ' ')}`,
    `sample ${sampleEvery}`,
    `stamps ${workerData.stampFifo}`,
    `bgper ${perSocket}`,
    ...(background ?? []).map((l) => `bg ${list(l)}`),
    ...watchlists.map((l) => `client ${list(l)}`),
    '',
  ].join('\n'),
);

const child = spawn(workerData.binary, [config], { stdio: ['pipe', 'pipe', 'inherit'] });
let buffered = '';
const waiting = [];
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const msg = JSON.parse(buffered.slice(0, nl));
    buffered = buffered.slice(nl + 1);
    if (msg.ready) parentPort.postMessage({ ready: true });
    else waiting.shift()?.(msg);
  }
});
child.on('exit', (code) => {
  fs.rmSync(path.dirname(config), { recursive: true, force: true });
  if (code !== 0) for (const w of waiting.splice(0)) w({ error: `tick-fleet exited with ${code}` });
});

parentPort.on('message', (msg) => {
  waiting.push((reply) => {
    const { reply: _command, ...rest } = reply;
    parentPort.postMessage({ ...rest, reply: msg.id });
  });
  child.stdin.write(`${msg.cmd}\n`);
});
