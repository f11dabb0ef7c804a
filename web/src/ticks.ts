import { useEffect, useState } from 'preact/hooks';
import type { Api } from './api';

export interface InstrumentRef {
  segment: string;
  securityId: string;
}

/** One instrument's latest state as `ticks` streams it (the fields the pages show). */
export interface Tick extends InstrumentRef {
  ltp: number | null;
  change: number | null;
  changePercent: number | null;
  oi: number | null;
  volume: number | null;
  stale: boolean;
}

/**
 * A tick as shown: `seq` counts LTP changes, `dir` is the last move and `flash` is set for
 * FLASH_MS after a change (then cleared by the store: two repaints per change, no animation).
 */
export interface TickView extends Tick {
  seq: number;
  dir: 'up' | 'down' | null;
  flash: 'up' | 'down' | null;
}

export const FLASH_MS = 400;

export const keyOf = (instrument: InstrumentRef): string =>
  `${instrument.segment}:${instrument.securityId}`;

const TICKS = `subscription Ticks($instruments: [InstrumentInput!]!) {
  ticks(instruments: $instruments) { securityId segment ltp change changePercent oi volume stale }
}`;

/**
 * Latest ticks of every instrument on screen. Batches from the sockets are only collected;
 * they are applied and shown once per animation frame (however many arrived), so a burst of
 * ticks costs one render, never one per tick.
 */
export class TickStore {
  private readonly latest = new Map<string, TickView>();
  private pending = new Map<string, Tick>();
  private readonly listeners = new Set<() => void>();
  private frame = 0;
  /** Keys shown flashing, with the time their flash ends. */
  private readonly flashing = new Map<string, number>();
  private flashTimer: number | undefined;
  /** Frames rendered and ticks applied: shown in the page footer. */
  frames = 0;
  applied = 0;

  get(instrument: InstrumentRef): TickView | undefined {
    return this.latest.get(keyOf(instrument));
  }

  push(batch: Tick[]): void {
    for (const tick of batch) this.pending.set(keyOf(tick), tick);
    if (!this.frame && this.pending.size > 0) this.frame = requestAnimationFrame(this.flush);
  }

  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readonly flush = (): void => {
    this.frame = 0;
    const now = performance.now();
    const batch = this.pending;
    this.pending = new Map();
    for (const [key, tick] of batch) {
      const before = this.latest.get(key);
      const moved = before && before.ltp !== null && tick.ltp !== null && tick.ltp !== before.ltp;
      const dir = moved ? (tick.ltp! > before.ltp! ? 'up' : 'down') : (before?.dir ?? null);
      if (moved) this.flashing.set(key, now + FLASH_MS);
      this.latest.set(key, {
        ...tick,
        seq: (before?.seq ?? 0) + (moved ? 1 : 0),
        dir,
        flash: moved ? dir : (before?.flash ?? null),
      });
    }
    let changed = batch.size > 0;
    for (const [key, until] of this.flashing) {
      if (until > now) continue;
      this.flashing.delete(key);
      const view = this.latest.get(key);
      if (view) this.latest.set(key, { ...view, flash: null });
      changed = true;
    }
    this.scheduleFlashEnd(now);
    if (!changed) return;
    this.frames += 1;
    this.applied += batch.size;
    for (const listener of this.listeners) listener();
  };

  /** A frame when the next flash is due to end, even if no tick comes by then. */
  private scheduleFlashEnd(now: number): void {
    window.clearTimeout(this.flashTimer);
    if (this.flashing.size === 0) return;
    const next = Math.min(...this.flashing.values());
    this.flashTimer = window.setTimeout(
      () => {
        if (!this.frame) this.frame = requestAnimationFrame(this.flush);
      },
      Math.max(0, next - now),
    );
  }
}

/** Re-renders the calling component once per frame in which ticks were applied. */
export function useTickFrame(store: TickStore): void {
  const [, setFrame] = useState(0);
  useEffect(() => store.listen(() => setFrame((n) => n + 1)), [store]);
}

/**
 * Streams ticks of `instruments` into the store while the component shows them; one `ticks`
 * subscription per set, replaced when the set changes.
 */
export function useTicks(
  api: Api,
  store: TickStore,
  instruments: InstrumentRef[],
  onError?: (message: string) => void,
): void {
  const key = instruments.map(keyOf).sort().join(',');
  useEffect(() => {
    if (instruments.length === 0) return undefined;
    const list = instruments.map(({ segment, securityId }) => ({ segment, securityId }));
    return api.subscribe<{ ticks: Tick[] }>(
      '/graphql',
      TICKS,
      { instruments: list },
      {
        next: (data) => store.push(data.ticks),
        error: (error) => onError?.(error.display),
      },
    );
    // `key` stands for the list's content: a new array with the same instruments keeps the stream.
  }, [api, store, key]);
}
