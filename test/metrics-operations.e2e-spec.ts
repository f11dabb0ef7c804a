import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Instrument } from '@app/dhan/types';
import { DataSource } from 'typeorm';
import { ExecutionService } from '../src/execution/execution.service';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { TierBService } from '../src/market-data/chains/tier-b.service';
import { TickFanout, type ClientClosedEvent } from '../src/market-data/ticks/tick-fanout';
import { adminToken, anEquity, newTrader, type Trader } from './orders.helpers';
import { TICKS, TicksClient, type InstrumentRef } from './market-data.helpers';
import { gql } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

/** Sum of the samples of `name` whose labels include every given label. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) continue;
    found = true;
    sum += Number(m[3]);
  }
  if (!found) throw new Error(`no sample of ${name} ${JSON.stringify(labels)}`);
  return sum;
}

/** A labelled series that may have no sample yet (a packet type never seen) counts 0. */
function sampleOr0(text: string, name: string, labels: Record<string, string>): number {
  const line = new RegExp(`^${name}\\{[^}]*\\} `, 'm');
  if (!line.test(text)) throw new Error(`${name} has no sample at all`);
  try {
    return sample(text, name, labels);
  } catch {
    return 0;
  }
}

/** Metric families /metrics declares (`# TYPE name kind`). */
function families(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .filter((l) => l.startsWith('# TYPE '))
      .map((l) => l.split(' ')[2]),
  );
}

const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'rate',
  'irate',
  'increase',
  'delta',
  'histogram_quantile',
  'time',
  'vector',
  'absent',
  'clamp_min',
  'clamp_max',
  'day_of_week',
  'hour',
  'le',
  'bool',
  'offset',
  'topk',
  'bottomk',
  'scalar',
]);

/** Metric names an expression reads: identifiers outside label matchers, minus PromQL words. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/"[^"]*"/g, '');
  const names = bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return names
    .filter((n) => !PROMQL_WORDS.has(n) && !/^\d/.test(n))
    .map((n) => n.replace(/_(bucket|count|sum)$/, ''));
}

const ROOT = path.join(__dirname, '..');

describe('/metrics for operating the desk (e2e, embedded simulator)', () => {
  let t: TestApp;
  let admin: string;
  let dealer: Trader;
  let equity: Instrument;
  const clients: TicksClient[] = [];
  const scrape = async () => (await fetch(`${t.baseUrl}/metrics`)).text();

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        configure: (config) => ({
          ...config,
          orders: { lookupBaseMs: 50, lookupCapMs: 400, notFoundGraceMs: 1_000 },
          marketData: {
            fanout: {
              highWaterBytes: 32 * 1024,
              lowWaterBytes: 8 * 1024,
              hardCapBytes: 128 * 1024,
              maxOverHighMs: 1_500,
              maxInstrumentsPerSubscription: 2_000,
            },
            tierB: { spotWaitMs: 20_000, recheckMs: 500 },
          },
        }),
      },
    );
    await t.app.get(InstrumentsService).ready();
    await t.app.get(TierBService).whenPinned();
    await t.app.get(ExecutionService).whenReady();
    equity = await anEquity(t);
    admin = await adminToken(t);
    dealer = await newTrader(t, admin, 'metrics-dealer');
  }, 180_000); // Boot and the Tier B pin are slow on a loaded machine; no assertion depends on it.

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('every named series exists and moves: ticks, an order s latency, a risk denial, a slow client closed', async () => {
    const before = await scrape();
    const order = (clientOrderId: string) =>
      dealer.place({
        clientOrderId,
        instrument: { segment: equity.segment, securityId: equity.securityId },
        side: 'BUY',
        quantity: 1,
        orderType: 'MARKET',
        productType: 'INTRADAY',
        validity: 'DAY',
      });
    const traded = await order('metrics-1');
    const deadline = Date.now() + 20_000;
    while ((await dealer.order(traded.id))?.status !== 'TRADED') {
      if (Date.now() > deadline) throw new Error('the order did not trade');
      await new Promise((r) => setTimeout(r, 50));
    }
    // A risk denial: the dealer is halted.
    const HALT = `mutation H($userId: ID!, $state: TradingState!) {
      setTradingState(scope: USER, userId: $userId, state: $state) { state }
    }`;
    await gql(t.adminUrl, HALT, { userId: dealer.id, state: 'HALTED' }, admin);
    expect((await order('metrics-2')).rejectionReason).toBe('TRADING_HALTED');
    await gql(t.adminUrl, HALT, { userId: dealer.id, state: 'ACTIVE' }, admin);

    // A slow ticks client (stops reading a Tier B snapshot well above the cap) is closed.
    const many: InstrumentRef[] = t.app
      .get(TierBService)
      .current()!
      .instruments.map(({ instrument }) => ({
        segment: instrument.segment,
        securityId: instrument.securityId,
      }));
    const slow = new TicksClient(t.graphqlUrl, dealer.token, TICKS, { instruments: many });
    const fast = new TicksClient(t.graphqlUrl, dealer.token, TICKS, { instruments: many });
    clients.push(slow, fast);
    await slow.batch(0);
    await fast.batch(0);
    const closed = new Promise<ClientClosedEvent>((resolve) =>
      t.app.get(TickFanout).onClientClosed(resolve),
    );
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    await closed;
    await fast.batch(fast.batches.length);

    const after = await scrape();
    // Orders.
    expect(sample(after, 'orders_placed_total')).toBe(2);
    expect(sample(after, 'orders_finished_total', { status: 'TRADED' })).toBe(1);
    expect(sample(after, 'orders_finished_total', { status: 'REJECTED' })).toBe(1);
    expect(sample(after, 'orders_risk_denials_total', { reason: 'TRADING_HALTED' })).toBe(1);
    expect(sample(after, 'orders_internal_duration_seconds_count')).toBe(1);
    expect(sample(after, 'orders_broker_duration_seconds_count')).toBe(1);
    expect(sample(after, 'orders_broker_duration_seconds_sum')).toBeGreaterThan(0);
    expect(sample(after, 'orders_ambiguous_total')).toBe(0);
    // SQLite: the traded order's routing record waited for a flush of the WAL (PostgreSQL
    // flushes its own log: the series stay at 0).
    const walDelta = (name: string) => sample(after, name) - sample(before, name);
    if (t.app.get(DataSource).options.type === 'better-sqlite3') {
      expect(walDelta('sqlite_wal_flush_commits_total')).toBeGreaterThanOrEqual(1);
      expect(walDelta('sqlite_wal_flushes_total')).toBeGreaterThanOrEqual(1);
      expect(walDelta('sqlite_wal_flush_seconds_total')).toBeGreaterThan(0);
    } else {
      expect(sample(after, 'sqlite_wal_flushes_total')).toBe(0);
    }
    // Fan-out and feed move with the simulator's ticks.
    for (const name of [
      'ticks_fanout_frames_total',
      'ticks_fanout_updates_total',
      'ticks_fanout_bytes_total',
      'ticks_fanout_flush_duration_seconds_count',
      'feed_packets_total',
    ]) {
      expect(sample(after, name)).toBeGreaterThan(sample(before, name));
    }
    // Bytes are at least the updates' count (each update is a JSON object in a frame).
    expect(sample(after, 'ticks_fanout_bytes_total')).toBeGreaterThan(
      sample(after, 'ticks_fanout_updates_total'),
    );
    // Packets by type add up to all packets; the simulator sends quote or full packets.
    const byType = ['ticker', 'quote', 'full', 'oi', 'prev_close', 'index', 'market_status']
      .map((type) => sampleOr0(after, 'feed_packets_by_type_total', { type }))
      .reduce((a, b) => a + b, 0);
    expect(byType).toBe(sample(after, 'feed_packets_total'));
    expect(
      sampleOr0(after, 'feed_packets_by_type_total', { type: 'quote' }) +
        sampleOr0(after, 'feed_packets_by_type_total', { type: 'full' }),
    ).toBeGreaterThan(0);
    // The broker token: in use, with the simulator's expiry ahead.
    expect(sample(after, 'broker_token_valid')).toBe(1);
    expect(sample(after, 'broker_token_expiry_timestamp_seconds') * 1000).toBeGreaterThan(
      Date.now(),
    );
    expect(sample(after, 'ticks_fanout_closed_clients_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'ticks_fanout_clients')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'ws_clients_connected', { endpoint: 'user' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'ws_subscriptions_active')).toBeGreaterThanOrEqual(1);
    // Registry.
    expect(sample(after, 'registry_instruments', { kind: 'TIER_B' })).toBe(many.length);
    expect(sample(after, 'registry_references', { kind: 'CLIENT' })).toBeGreaterThan(0);
    expect(sample(after, 'registry_utilisation_ratio')).toBeGreaterThan(0);
    expect(sample(after, 'registry_utilisation_ratio')).toBeLessThanOrEqual(1);
    // Runtime.
    expect(sample(after, 'nodejs_eventloop_delay_p99_seconds')).toBeGreaterThan(0);
    const declared = families(after);
    for (const name of [
      'nodejs_gc_pause_seconds',
      'registry_evictions_total',
      'orders_ambiguous_resolved_total',
      'day_cycle_last_run_timestamp_seconds',
      'ticks_fanout_held_flushes_total',
      'ticks_fanout_last_flush_seconds',
      'ticks_fanout_conflated_updates_total',
      'feed_disconnects_total',
      'broker_token_changes_total',
      'feed_stale_instruments',
      'sqlite_wal_checkpoints_total',
      'sqlite_wal_checkpoint_frames_total',
      'sqlite_wal_checkpoint_seconds_total',
      'sqlite_group_commits_total',
      'sqlite_group_commit_transactions_total',
    ]) {
      expect(declared.has(name)).toBe(true);
    }
  }, 120_000);

  it('the option-chain refresh shows its analytics and fan-out time, strikes and frames', async () => {
    const before = await scrape();
    const chain = new TicksClient(
      t.graphqlUrl,
      dealer.token,
      `subscription C($u: String!, $n: Int) {
        optionChainUpdates(underlying: $u, strikes: $n) {
          snapshot atmIv strikes { strike call { analytics { iv delta } } put { quote { ltp } } }
        }
      }`,
      { u: 'NIFTY', n: 5 },
      'optionChainUpdates',
    );
    clients.push(chain);
    // The snapshot, then at least one update of changed strikes written by the refresh. Frames
    // are counted on the pre-serialised path only, so this also shows the real schema takes it.
    await chain.batch(1);
    const after = await scrape();
    for (const name of [
      'option_analytics_seconds_total',
      'option_chain_fanout_seconds_total',
      'option_chain_strike_updates_total',
      'option_chain_frames_total',
      'option_chain_bytes_total',
    ]) {
      expect(sample(after, name)).toBeGreaterThan(sample(before, name));
    }
    const frames =
      sample(after, 'option_chain_frames_total') - sample(before, 'option_chain_frames_total');
    expect(frames).toBeGreaterThanOrEqual(2);
    // Each frame is a graphql-ws next message of a whole window or its changed strikes.
    expect(
      sample(after, 'option_chain_bytes_total') - sample(before, 'option_chain_bytes_total'),
    ).toBeGreaterThan(frames * 100);
  }, 60_000);

  it('every metric the alert rules and the dashboard read is one /metrics declares', async () => {
    const declared = families(await scrape());
    const rules = fs.readFileSync(path.join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8');
    const exprs = rules
      .split('\n')
      .map((l) => /^\s+expr:\s*(.+)$/.exec(l)?.[1])
      .filter((e): e is string => e !== undefined);
    expect(exprs.length).toBeGreaterThanOrEqual(8);
    const dashboard = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'ops/grafana/desk.json'), 'utf8'),
    ) as { panels: { targets: { expr: string }[] }[] };
    const panelExprs = dashboard.panels.flatMap((p) => p.targets.map((x) => x.expr));
    expect(panelExprs.length).toBeGreaterThan(10);
    const missing = [...exprs, ...panelExprs]
      .flatMap((e) => metricNames(e).map((n) => ({ n, e })))
      .filter(({ n }) => !declared.has(n));
    expect(missing).toEqual([]);
  });
});
