import { EventEmitter } from 'node:events';
import { FeedResponseCode, SEGMENT_CODE, instrumentKey, type FeedPacket } from '@app/dhan';
import type { DhanSimulator } from '@app/dhan-simulator';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TierBMissingReason } from '../src/market-data/chains/tier-b';
import { TIER_B_PINNED, TierBService } from '../src/market-data/chains/tier-b.service';
import { FeedPool } from '../src/market-data/feed/feed-pool.service';

export interface DepthView {
  bidQty: number;
  askQty: number;
  bidOrders: number;
  askOrders: number;
  bidPrice: number;
  askPrice: number;
}

export interface TickView {
  segment: string;
  securityId: string;
  ltp: number | null;
  lastTradeTime: string | null;
  volume: number | null;
  oi: number | null;
  depth: DepthView[] | null;
  stale: boolean;
  [field: string]: unknown;
}

export const ALL_TICK_FIELDS =
  'segment securityId ltp lastTradeTime lastTradeQty avgPrice volume totalBuyQty totalSellQty ' +
  'open high low close prevClose change changePercent oi ' +
  'depth { bidQty bidOrders bidPrice askQty askOrders askPrice } stale';

export const TICKS = `subscription Ticks($instruments: [InstrumentInput!]!) {
  ticks(instruments: $instruments) { ${ALL_TICK_FIELDS} }
}`;

export type InstrumentRef = {
  segment: string;
  securityId: string;
};

/** A graphql-ws client over a real socket that keeps every `ticks` batch. */
export class TicksClient {
  readonly batches: unknown[][] = [];
  readonly events = new EventEmitter();
  error: unknown = undefined;
  closeInfo: { code: number; reason: string } | undefined;
  socket: WebSocket | undefined;
  private readonly client: Client;

  constructor(
    url: string,
    token: string,
    query: string,
    variables: Record<string, unknown>,
    field = 'ticks',
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    class CapturingWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        self.socket = this;
      }
    }
    this.client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: CapturingWebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      shouldRetry: () => false,
      onNonLazyError: () => undefined,
      on: {
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: unknown };
          this.closeInfo = { code, reason: String(reason ?? '') };
          this.events.emit('closed', this.closeInfo);
        },
      },
    });
    this.client.subscribe(
      { query, variables },
      {
        next: (value) => {
          if (process.env.DEBUG_TICKS)
            process.stderr.write(`ticks next ${JSON.stringify(value).slice(0, 200)}\n`);
          const data = (value as { data?: Record<string, unknown[]> }).data;
          const batch = data?.[field] ?? [];
          this.batches.push(batch);
          this.events.emit('batch', batch);
        },
        error: (error) => {
          if (process.env.DEBUG_TICKS)
            process.stderr.write(`ticks error ${JSON.stringify(error)}\n`);
          this.error = error;
          this.events.emit('failed', error);
        },
        complete: () => this.events.emit('complete'),
      },
    );
  }

  /** Another subscription on the same socket; resolves with its first message or its error. */
  another(
    query: string,
    variables: Record<string, unknown>,
  ): Promise<{ data?: unknown; error?: unknown }> {
    return new Promise((resolve) => {
      this.client.subscribe(
        { query, variables },
        {
          next: (value) => resolve({ data: value.data }),
          error: (error) => resolve({ error }),
          complete: () => undefined,
        },
      );
    });
  }

  /** Resolves with the n-th batch (0 = the snapshot). */
  batch(n: number): Promise<unknown[]> {
    return this.until(() => this.batches[n]);
  }

  /** Resolves with the first batch (from index `from`) satisfying `predicate`. */
  batchWhere(predicate: (b: unknown[]) => boolean, from = 0): Promise<unknown[]> {
    return this.until(() => this.batches.slice(from).find(predicate));
  }

  failed(): Promise<unknown> {
    return this.until(() => this.error);
  }

  closed(): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closeInfo);
  }

  private until<T>(get: () => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      const check = () => {
        const v = get();
        if (v === undefined) return;
        for (const e of ['batch', 'failed', 'closed']) this.events.off(e, check);
        resolve(v);
      };
      for (const e of ['batch', 'failed', 'closed']) this.events.on(e, check);
      check();
    });
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
    const s = this.socket;
    if (s && s.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.terminate();
      });
    }
  }
}

export interface FeedState {
  ltp: number | null;
  ltt: number;
  volume: number | null;
  oi: number | null;
  depth: DepthView[] | null;
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Taps the app's feed connections: every state an instrument went through, as the simulator
 * sent it (merged across packet types like the tick store does, prices in paise).
 */
export class FeedTap {
  readonly history = new Map<number, FeedState[]>();
  private readonly current = new Map<number, FeedState>();

  constructor(pool: FeedPool) {
    for (const c of pool.connections) c.on('packet', (p) => this.onPacket(p));
  }

  latest(ref: InstrumentRef): FeedState | undefined {
    return this.current.get(keyOf(ref));
  }

  statesOf(ref: InstrumentRef): FeedState[] {
    return this.history.get(keyOf(ref)) ?? [];
  }

  private onPacket(p: FeedPacket): void {
    const key = instrumentKey(SEGMENT_CODE[p.segment], p.securityId);
    const prev = this.current.get(key) ?? {
      ltp: null,
      ltt: 0,
      volume: null,
      oi: null,
      depth: null,
    };
    let next: FeedState;
    switch (p.type) {
      case FeedResponseCode.TICKER:
        next = { ...prev, ltp: round(p.ltp), ltt: p.ltt || prev.ltt };
        break;
      case FeedResponseCode.QUOTE:
        next = { ...prev, ltp: round(p.ltp), ltt: p.ltt || prev.ltt, volume: p.volume };
        break;
      case FeedResponseCode.FULL:
        next = {
          ltp: round(p.ltp),
          ltt: p.ltt || prev.ltt,
          volume: p.volume,
          oi: p.oi,
          depth: p.depth.map((d) => ({
            bidQty: d.bidQty,
            askQty: d.askQty,
            bidOrders: d.bidOrders,
            askOrders: d.askOrders,
            bidPrice: round(d.bidPrice),
            askPrice: round(d.askPrice),
          })),
        };
        break;
      case FeedResponseCode.OI:
        next = { ...prev, oi: p.oi };
        break;
      default:
        return;
    }
    this.current.set(key, next);
    const list = this.history.get(key) ?? [];
    list.push(next);
    this.history.set(key, list);
  }
}

export function keyOf(ref: InstrumentRef): number {
  return instrumentKey(
    SEGMENT_CODE[ref.segment as keyof typeof SEGMENT_CODE],
    Number(ref.securityId),
  );
}

/** Every instrument the simulator streams to any connection, as `SEGMENT:securityId`. */
export function simSubscribed(sim: DhanSimulator): Set<string> {
  const out = new Set<string>();
  for (const info of sim.feed.connectionInfo()) {
    for (const list of Object.values(sim.feed.subscriptions(info.id))) {
      for (const k of list) out.add(k);
    }
  }
  return out;
}

/** Resolves when `condition()` holds, re-checked on every feed request the simulator gets. */
export function untilFeedRequest(sim: DhanSimulator, condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!condition()) return;
      sim.feed.off('request', check);
      sim.feed.off('connection', check);
      resolve();
    };
    sim.feed.on('request', check);
    sim.feed.on('connection', check);
    check();
  });
}

/** The tick's values equal one state the simulator sent for it. */
export function matchesFeed(tick: TickView, states: readonly FeedState[]): boolean {
  return states.some(
    (s) =>
      tick.ltp === s.ltp &&
      tick.lastTradeTime === (s.ltt > 0 ? new Date(s.ltt * 1000).toISOString() : null) &&
      (s.volume === null || tick.volume === s.volume) &&
      (s.oi === null || tick.oi === s.oi) &&
      (s.depth === null ||
        JSON.stringify(sortDepth(tick.depth)) === JSON.stringify(sortDepth(s.depth))),
  );
}

function sortDepth(depth: DepthView[] | null): DepthView[] | null {
  return (
    depth?.map((d) => ({
      bidQty: d.bidQty,
      askQty: d.askQty,
      bidOrders: d.bidOrders,
      askOrders: d.askOrders,
      bidPrice: d.bidPrice,
      askPrice: d.askPrice,
    })) ?? null
  );
}

/**
 * Resolves once Tier B is pinned with every chain centred on a price. The first pin waits for the
 * underlyings' prices only for a while (`tierB.spotWaitMs`); on a loaded machine it can go ahead
 * without some of them, and the re-centre timer completes the chains when the prices arrive.
 */
export async function tierBCentred(app: INestApplication): Promise<void> {
  const tierB = app.get(TierBService);
  await tierB.whenPinned();
  const centred = () =>
    !(tierB.current()?.missing ?? []).some((m) => m.reason === TierBMissingReason.NO_SPOT);
  if (centred()) return;
  const events = app.get(EventEmitter2);
  await new Promise<void>((resolve) => {
    const listener = () => {
      if (!centred()) return;
      events.off(TIER_B_PINNED, listener);
      resolve();
    };
    events.on(TIER_B_PINNED, listener);
  });
}
