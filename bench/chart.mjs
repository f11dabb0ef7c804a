// `node bench/chart.mjs OUT.svg RESULTS.json [RESULTS.json ...]`: the tick fan-out rows
// (`bench/tick-fanout.bench.js --json FILE`, or a committed table in bench/results/) drawn with
// Vega as one SVG: updates per server CPU-second (log scale) and p99 latency per server and
// client count. docs/BENCHMARKS.md embeds the result.
import fs from 'node:fs';
import * as vega from 'vega';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  console.error('usage: node bench/chart.mjs OUT.svg RESULTS.json [RESULTS.json ...]');
  process.exit(2);
}
const rows = inputs.flatMap((file) =>
  JSON.parse(fs.readFileSync(file, 'utf8')).results.map((r) => ({
    server: r.label,
    clients: `${Number(r.clients).toLocaleString('en-US')} clients`,
    updatesPerCpuSec: Number(r.updatesPerCpuSec),
    p99: Number(r.p99),
  })),
);

/** One grouped bar panel: a bar per server within each client count. */
function panel(name, field, title, scaleType, x) {
  return {
    type: 'group',
    name,
    encode: { enter: { x: { value: x }, width: { value: 300 }, height: { value: 220 } } },
    signals: [
      { name: 'width', value: 300 },
      { name: 'height', value: 220 },
    ],
    scales: [
      {
        name: 'x',
        type: 'band',
        domain: { data: 'rows', field: 'clients' },
        range: 'width',
        padding: 0.2,
      },
      {
        name: 'y',
        type: scaleType,
        domain: { data: 'rows', field },
        range: 'height',
        nice: true,
        zero: scaleType === 'linear',
      },
    ],
    axes: [
      { orient: 'bottom', scale: 'x' },
      { orient: 'left', scale: 'y', title, grid: true, format: scaleType === 'log' ? '~s' : ',' },
    ],
    marks: [
      {
        type: 'group',
        from: { facet: { data: 'rows', name: 'facet', groupby: 'clients' } },
        encode: { enter: { x: { scale: 'x', field: 'clients' } } },
        signals: [{ name: 'width', update: "bandwidth('x')" }],
        scales: [
          { name: 'pos', type: 'band', range: 'width', domain: { data: 'rows', field: 'server' } },
        ],
        marks: [
          {
            type: 'rect',
            from: { data: 'facet' },
            encode: {
              enter: {
                x: { scale: 'pos', field: 'server' },
                width: { scale: 'pos', band: 1, offset: -1 },
                y: { scale: 'y', field },
                y2: { scale: 'y', signal: "domain('y')[0]" },
                fill: { scale: 'color', field: 'server' },
              },
            },
          },
        ],
      },
    ],
  };
}

const spec = {
  width: 720,
  height: 220,
  padding: 10,
  background: 'white',
  data: [{ name: 'rows', values: rows }],
  scales: [
    {
      name: 'color',
      type: 'ordinal',
      domain: { data: 'rows', field: 'server' },
      range: 'category',
    },
  ],
  legends: [
    { fill: 'color', orient: 'bottom', direction: 'vertical', title: 'server', labelLimit: 400 },
  ],
  title: { text: 'Tick fan-out: updates per server CPU-second and p99 latency' },
  marks: [
    panel('throughput', 'updatesPerCpuSec', 'updates per server CPU-second (log)', 'log', 0),
    panel('latency', 'p99', 'p99 tick-to-client ms (log)', 'log', 420),
  ],
};

const view = new vega.View(vega.parse(spec), { renderer: 'none' });
const svg = await view.toSVG();
fs.writeFileSync(out, `${svg}\n`);
console.log(`${out}: ${rows.length} rows`);
