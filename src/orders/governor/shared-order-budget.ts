import type { GateSlot, SendGate } from './order-governor';
import { SendWindow, type SendLimit } from './send-window';
import type { RecordedSend, SharedSendWindows } from './shared-send-window';

/** SHARED: the windows on Redis decide. FALLBACK: Redis is unreachable or slow; this instance's share. */
export type SharedBudgetState = 'SHARED' | 'FALLBACK';

export interface SharedOrderBudgetOptions {
  windows: SharedSendWindows;
  perSegment: readonly SendLimit[];
  account: readonly SendLimit[];
  guardMs: number;
  /** Unique per process. */
  instanceId: string;
  /** Whether the Redis connection is up; nothing is asked of Redis while it is not. */
  connected: () => boolean;
  /** Longest wait for Redis' answer before the fallback takes over. */
  timeoutMs: number;
  /** How often the instance says it is alive (and, in the fallback, tries Redis again). */
  heartbeatMs: number;
  /** An instance not heard from for this long is no longer counted. */
  liveMs: number;
  /** The longest wait answered while only pending sends fill a window. */
  pollMs: number;
  /** Monotonic milliseconds. */
  now: () => number;
  onStateChange?: (state: SharedBudgetState, reason: string) => void;
}

/**
 * This instance's share of every limit, floor(limit / instances) and at least 1, in local
 * windows: the budget while Redis cannot be asked. The windows of a second or less start full
 * for one window (the shared window's last second is unknown here, so no burst crosses the
 * switch); the longer ones start empty at the share.
 */
class ShareWindows {
  private readonly segments = new Map<string, SendWindow[]>();
  private readonly account: SendWindow[];

  constructor(
    private readonly perSegment: readonly SendLimit[],
    account: readonly SendLimit[],
    private readonly guardMs: number,
    readonly instances: number,
    private readonly since: number,
  ) {
    this.account = this.make(account);
  }

  /** The share of a limit. */
  shareOf(limit: number): number {
    return Math.max(1, Math.floor(limit / this.instances));
  }

  windows(segment: string): SendWindow[] {
    let found = this.segments.get(segment);
    if (found === undefined) {
      found = [...this.make(this.perSegment), ...this.account];
      this.segments.set(segment, found);
    }
    return found;
  }

  waitMs(segment: string, now: number): number {
    let wait = 0;
    for (const w of this.windows(segment)) wait = Math.max(wait, w.waitMs(now));
    return wait;
  }

  private make(limits: readonly SendLimit[]): SendWindow[] {
    return limits.map((l) => {
      const w = new SendWindow(
        { limit: this.shareOf(l.limit), intervalMs: l.intervalMs },
        this.guardMs,
      );
      if (l.intervalMs <= 1_000) {
        for (let i = 0; i < w.limit.limit; i++) {
          w.reserve();
          w.commit(this.since);
        }
      }
      return w;
    });
  }
}

class TooSlow extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
  }
}

/**
 * The order budget shared by every instance on one broker account (the SendGate of each
 * instance's OrderGovernor): a reserve on the windows in Redis, committed when the broker
 * answered, released when the request never left.
 *
 * Redis down or slow (no connection, an error, no answer within `timeoutMs`): the fallback.
 * This instance keeps to its share of every limit, floor(limit / instances alive when Redis was
 * last reached, each instance's heartbeat), at least 1, in local windows; nothing waits on
 * Redis and no order is lost. Every heartbeat tries Redis again; once it answers, the sends made
 * meanwhile (and those still unanswered) are written to the shared windows and the windows on
 * Redis decide again, with the share still gating until every live instance has spoken since
 * (its own fallback sends written too) or `liveMs` passed, and at least one short window.
 */
export class SharedOrderBudget implements SendGate {
  private current: SharedBudgetState = 'SHARED';
  private instancesAlive = 1;
  private seq = 0;
  /** The share's windows: in the fallback, and after it until every instance is back. */
  private share: ShareWindows | undefined;
  private recoveredAt: number | undefined;
  /** Sends made while Redis could not be told, by segment: written when it is back. */
  private unrecorded = new Map<string, Array<{ member: string; at: number }>>();
  /** Sends granted in the fallback and not answered yet, by member. */
  private readonly outstanding = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private readonly shortSpanMs: number;
  private readonly longSpanMs: number;
  private closed = false;
  /** Switches to the fallback since start. */
  fallbacks = 0;

  constructor(private readonly options: SharedOrderBudgetOptions) {
    const spans = [...options.perSegment, ...options.account].map(
      (l) => l.intervalMs + options.guardMs,
    );
    this.shortSpanMs = Math.min(...spans);
    this.longSpanMs = Math.max(...spans);
  }

  get state(): SharedBudgetState {
    return this.current;
  }

  /** Instances alive at the last heartbeat that reached Redis (this one included). */
  get instances(): number {
    return this.instancesAlive;
  }

  /** This instance's allowance of a limit while its share gates (undefined when it does not). */
  shareOf(limit: number): number | undefined {
    return this.share?.shareOf(limit);
  }

  /** The first heartbeat now, then one every `heartbeatMs`. */
  start(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.timer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs);
    this.timer.unref();
    return this.heartbeat();
  }

  /** Stops the heartbeat and says so to Redis (the others' share grows at once). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.beating;
    if (this.current === 'SHARED' && this.options.connected()) {
      await this.bounded(this.options.windows.leave(this.options.instanceId)).catch(
        () => undefined,
      );
    }
  }

  async reserve(segment: string): Promise<GateSlot | number> {
    if (this.current === 'SHARED' && !this.options.connected()) {
      this.fallBack('the Redis connection is down');
    }
    const share = this.share;
    const now = this.options.now();
    if (share !== undefined) {
      const wait = share.waitMs(segment, now);
      if (wait > 0) return Math.max(1, Math.min(wait, this.options.pollMs));
    }
    if (this.current === 'FALLBACK') return this.localSlot(share as ShareWindows, segment);

    const member = `${this.options.instanceId}:${++this.seq}`;
    // Held in the share too while Redis answers (after a fallback, until every instance is back).
    for (const w of share?.windows(segment) ?? []) w.reserve();
    let wait: number;
    try {
      wait = await this.bounded(this.options.windows.reserve(segment, member), (late) => {
        // Taken after all, by a reserve given up on: free it.
        if (late === 0) void this.options.windows.release(segment, member).catch(() => undefined);
      });
    } catch (err) {
      for (const w of share?.windows(segment) ?? []) w.release();
      this.fallBack(messageOf(err));
      return this.reserve(segment);
    }
    if (wait > 0) {
      for (const w of share?.windows(segment) ?? []) w.release();
      return wait;
    }
    return this.slot(segment, member, share, false);
  }

  /** A send of the fallback: the share's windows alone. */
  private localSlot(share: ShareWindows, segment: string): GateSlot {
    const member = `${this.options.instanceId}:${++this.seq}`;
    for (const w of share.windows(segment)) w.reserve();
    this.outstanding.set(member, segment);
    return this.slot(segment, member, share, true);
  }

  private slot(
    segment: string,
    member: string,
    share: ShareWindows | undefined,
    local: boolean,
  ): GateSlot {
    let done = false;
    return {
      commit: () => {
        if (done) return;
        done = true;
        const at = this.options.now();
        for (const w of share?.windows(segment) ?? []) w.commit(at);
        if (local) this.outstanding.delete(member);
        void this.commitShared(segment, member, at);
      },
      release: () => {
        if (done) return;
        done = true;
        for (const w of share?.windows(segment) ?? []) w.release();
        if (local) this.outstanding.delete(member);
        // A fallback send is on Redis only if Redis came back meanwhile (written pending).
        if (this.current === 'SHARED' && this.options.connected()) {
          void this.bounded(this.options.windows.release(segment, member)).catch(() => undefined);
        }
      },
    };
  }

  /** The send counts from `at` on Redis; kept for later when Redis cannot be told now. */
  private async commitShared(segment: string, member: string, at: number): Promise<void> {
    if (this.current === 'SHARED' && this.options.connected()) {
      try {
        await this.bounded(
          this.options.windows.record(segment, [{ member, ageMs: this.options.now() - at }]),
        );
        return;
      } catch (err) {
        this.fallBack(messageOf(err));
      }
    }
    this.keep(segment, member, at);
  }

  private keep(segment: string, member: string, at: number): void {
    let list = this.unrecorded.get(segment);
    if (list === undefined) {
      list = [];
      this.unrecorded.set(segment, list);
    }
    list.push({ member, at });
    const horizon = this.options.now() - this.longSpanMs;
    while (list.length > 0 && list[0].at <= horizon) list.shift();
  }

  private fallBack(reason: string): void {
    if (this.current === 'FALLBACK') return;
    this.current = 'FALLBACK';
    this.fallbacks++;
    this.recoveredAt = undefined;
    this.share = new ShareWindows(
      this.options.perSegment,
      this.options.account,
      this.options.guardMs,
      this.instancesAlive,
      this.options.now(),
    );
    this.options.onStateChange?.('FALLBACK', reason);
  }

  heartbeat(): Promise<void> {
    this.beating = this.beating.then(() => this.beat());
    return this.beating;
  }

  private async beat(): Promise<void> {
    if (!this.options.connected()) {
      if (this.current === 'SHARED') this.fallBack('the Redis connection is down');
      return;
    }
    try {
      if (this.current === 'FALLBACK') {
        await this.writeDown();
        this.current = 'SHARED';
        this.recoveredAt = this.options.now();
        // Sends answered while the first write was out.
        await this.writeDown();
        this.options.onStateChange?.('SHARED', 'Redis answers again');
      }
      const sinceMs =
        this.recoveredAt === undefined
          ? this.options.liveMs
          : this.options.now() - this.recoveredAt;
      const { live, recent } = await this.bounded(
        this.options.windows.heartbeat(this.options.instanceId, this.options.liveMs, sinceMs),
      );
      this.instancesAlive = Math.max(1, live);
      const share = this.share;
      if (this.recoveredAt !== undefined && share !== undefined) {
        const elapsed = this.options.now() - this.recoveredAt;
        const everyoneBack = recent >= live && live >= share.instances;
        if (elapsed >= this.shortSpanMs && (everyoneBack || elapsed >= this.options.liveMs)) {
          this.share = undefined;
          this.recoveredAt = undefined;
        }
      }
    } catch (err) {
      this.fallBack(messageOf(err));
    }
  }

  /** Writes the sends kept while Redis could not be told, and the fallback's unanswered ones. */
  private async writeDown(): Promise<void> {
    const kept = this.unrecorded;
    this.unrecorded = new Map();
    const now = this.options.now();
    const bySegment = new Map<string, RecordedSend[]>();
    const add = (segment: string, send: RecordedSend) => {
      const list = bySegment.get(segment) ?? [];
      list.push(send);
      bySegment.set(segment, list);
    };
    for (const [segment, list] of kept) {
      for (const s of list) add(segment, { member: s.member, ageMs: now - s.at });
    }
    for (const [member, segment] of this.outstanding) add(segment, { member, ageMs: -1 });
    try {
      for (const [segment, sends] of bySegment) {
        await this.bounded(this.options.windows.record(segment, sends));
      }
    } catch (err) {
      // Kept for the next try (a send written twice counts once: the same member).
      for (const [segment, list] of kept) {
        for (const s of list) this.keep(segment, s.member, s.at);
      }
      throw err;
    }
  }

  /** `promise`, or a rejection after `timeoutMs`; `late` gets an answer that came after. */
  private bounded<T>(promise: Promise<T>, late?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new TooSlow(this.options.timeoutMs));
      }, this.options.timeoutMs);
      timer.unref();
      promise.then(
        (value) => {
          clearTimeout(timer);
          if (settled) late?.(value);
          else resolve(value);
          settled = true;
        },
        (err: unknown) => {
          clearTimeout(timer);
          if (!settled) reject(err instanceof Error ? err : new Error(String(err)));
          settled = true;
        },
      );
    });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
