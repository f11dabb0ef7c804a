import { createHash } from 'node:crypto';
import {
  type ExchangeSegment,
  type Instrument,
  parseScripMaster,
  ScripMasterRejectedError,
  verifyScripMaster,
} from '@app/dhan';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Clock } from '../common/clock';
import { UnavailableError } from '../common/errors/domain-error';
import { ReadinessRegistry } from '../health/readiness.registry';
import { InstrumentLoadOutcome } from './entities/instrument-master-load.entity';
import { InstrumentIndex } from './instrument-index';
import { InstrumentStore } from './instrument.store';
import {
  INSTRUMENTS_RELOADED,
  InstrumentsReloadedEvent,
  type InstrumentsSource,
} from './instruments.events';
import { INSTRUMENTS_OPTIONS, type InstrumentsOptions } from './instruments.options';
import { ScripMasterSource } from './scrip-master.source';

export const DEFAULT_SEARCH_LIMIT = 20;

export interface InstrumentsReloadReport {
  accepted: boolean;
  /** Instruments in the file (accepted or not); 0 when the download failed. */
  count: number;
  reason?: string;
  /** The version served after this reload (unchanged when refused). */
  version: number;
  source: string;
  durationMs: number;
}

const IST_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Kolkata',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/**
 * The instrument master in memory: downloaded, verified, and only then swapped in as one
 * reference, so a bad file never replaces a good one. The accepted copy is stored, and a
 * restart whose download fails serves the stored copy.
 */
@Injectable()
export class InstrumentsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InstrumentsService.name);
  private index = new InstrumentIndex([]);
  private currentVersion = 0;
  private readonly firstLoad: Promise<void>;
  private markReady!: () => void;
  /** The last attempt started or queued; attempts run one at a time. */
  private latest: Promise<unknown> = Promise.resolve();
  /** An attempt waiting for the running one: later callers share it. */
  private queued: Promise<InstrumentsReloadReport> | undefined;
  private background: Promise<unknown> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private closing = false;

  constructor(
    private readonly source: ScripMasterSource,
    private readonly store: InstrumentStore,
    private readonly events: EventEmitter2,
    private readonly clock: Clock,
    @Inject(INSTRUMENTS_OPTIONS) private readonly options: InstrumentsOptions,
    @Optional() readiness?: ReadinessRegistry,
  ) {
    this.firstLoad = new Promise<void>((resolve) => (this.markReady = resolve));
    const since = Date.now();
    readiness?.register('instruments', async () =>
      this.loaded ? true : { up: false, reason: 'instrument master loading', since },
    );
  }

  /** Starts the first load without holding up the boot; consumers await ready(). */
  onApplicationBootstrap(): void {
    this.background = this.initialLoad(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.abort.abort();
    await this.latest.catch(() => undefined);
    await this.background.catch(() => undefined);
  }

  /** Resolves after the first good load (download or stored copy). */
  ready(): Promise<void> {
    return this.firstLoad;
  }

  /** True once the first instrument master is in memory. */
  get loaded(): boolean {
    return this.currentVersion > 0;
  }

  /**
   * Waits (at most `ms`) for the first instrument master; UNAVAILABLE (retryable) when it is
   * still loading then, so callers never answer NOT_FOUND for an instrument not loaded yet.
   */
  async whenLoaded(ms: number): Promise<void> {
    if (this.loaded) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.firstLoad,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
    clearTimeout(timer);
    if (!this.loaded) {
      throw new UnavailableError('The instrument master is still loading; retry shortly');
    }
  }

  /** Bumps on every successful swap; 0 until the first load. */
  get version(): number {
    return this.currentVersion;
  }

  get(segment: ExchangeSegment, securityId: string): Instrument | undefined {
    return this.index.get(segment, securityId);
  }

  /** By `instrumentKey(SEGMENT_CODE[segment], Number(securityId))`. */
  getByKey(key: number): Instrument | undefined {
    return this.index.getByKey(key);
  }

  all(): readonly Instrument[] {
    return this.index.all();
  }

  /**
   * Ranked, case-insensitive: exact name > the contracts a trader's query names (underlying,
   * strike, CE/PE/FUT, expiry in any order; unexpired) > prefix > contains.
   */
  search(text: string, limit = DEFAULT_SEARCH_LIMIT): Instrument[] {
    return this.index.search(text, limit, this.today());
  }

  /** True when the name has derivatives in the current master. */
  isUnderlying(underlying: string): boolean {
    return this.index.hasUnderlying(underlying);
  }

  /** Option expiries not yet past (IST), ISO dates, ascending; [] for an unknown name. */
  expiries(underlying: string): string[] {
    return this.index.expiries(underlying, this.today());
  }

  /** Calls and puts of one expiry, by strike, CE before PE. */
  chain(underlying: string, expiry: string): Instrument[] {
    return this.index.chain(underlying, expiry);
  }

  /** The IDX_I index, or for MCX the near-month future (today, IST), or the cash equity. */
  underlyingOf(underlying: string): Instrument | undefined {
    return this.index.underlyingOf(underlying, this.today());
  }

  /** The MCX future an option expiry is written on (first expiring on or after it). */
  futureFor(underlying: string, optionExpiry: string): Instrument | undefined {
    return this.index.futureFor(underlying, optionExpiry);
  }

  /**
   * What one expiry's options are priced off: for MCX options (on futures) the future of that
   * expiry, else (and when no such future is listed) `underlyingOf`.
   */
  chainBase(underlying: string, expiry: string): Instrument | undefined {
    return this.index.chainBase(underlying, expiry, this.today());
  }

  /**
   * Downloads, verifies and swaps in a new master. Attempts run one at a time; calls made
   * while one runs share the next. A refused or failed download keeps the current master.
   */
  reload(): Promise<InstrumentsReloadReport> {
    if (this.queued) return this.queued;
    const attempt = this.latest
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.download();
      });
    this.queued = attempt;
    this.latest = attempt;
    return attempt;
  }

  private today(): string {
    return IST_DATE.format(this.clock.now());
  }

  private async initialLoad(attempt: number): Promise<void> {
    const report = await this.reload();
    if (report.accepted || this.closing) return;
    if (this.currentVersion === 0 && (await this.restoreFromDatabase())) return;
    if (this.currentVersion > 0 || this.closing) return;
    const delays = this.options.bootRetryDelaysMs;
    const delay = delays[Math.min(attempt, delays.length - 1)];
    this.logger.warn({ msg: 'No instrument master yet; retrying the download', delayMs: delay });
    this.retryTimer = setTimeout(() => {
      this.background = this.initialLoad(attempt + 1);
    }, delay);
    this.retryTimer.unref();
  }

  private async download(): Promise<InstrumentsReloadReport> {
    const started = performance.now();
    let source = 'unknown';
    let checksum: string | undefined;
    let instruments: Instrument[];
    try {
      const download = await this.source.open(this.abort.signal);
      source = download.source;
      const hash = createHash('sha256');
      download.body.on('data', (chunk: Buffer) => hash.update(chunk));
      const result = await parseScripMaster(download.body, {
        minRows: this.options.minRows,
        requiredIndices: this.options.requiredIndices,
        verify: false,
      });
      checksum = hash.digest('hex');
      instruments = result.instruments;
      try {
        // Verified separately so a refused file still reports how many instruments it had.
        verifyScripMaster(result, this.options);
      } catch (error) {
        return await this.refuse(source, error, started, instruments.length, checksum);
      }
    } catch (error) {
      return await this.refuse(source, error, started, 0, checksum);
    }

    const next = new InstrumentIndex(instruments);
    this.swap(next, 'download');
    const durationMs = performance.now() - started;
    const unchanged = checksum !== undefined && checksum === (await this.storedChecksumSafe());
    const record = {
      source,
      count: next.size,
      checksum,
      durationMs,
    };
    try {
      if (unchanged) {
        await this.store.record({ ...record, outcome: InstrumentLoadOutcome.UNCHANGED });
      } else {
        await this.store.replaceAll(next.all(), {
          ...record,
          outcome: InstrumentLoadOutcome.ACCEPTED,
        });
      }
    } catch (error) {
      // Served already; only the restart fallback is older than it should be.
      this.logger.error({ msg: 'Storing the instrument master failed', err: error });
    }
    this.logger.log({
      msg: 'Instrument master accepted',
      source,
      count: next.size,
      version: this.currentVersion,
      durationMs: Math.round(durationMs),
      stored: unchanged ? 'unchanged' : 'replaced',
    });
    return {
      accepted: true,
      count: next.size,
      version: this.currentVersion,
      source,
      durationMs: Math.round(performance.now() - started),
    };
  }

  private async refuse(
    source: string,
    error: unknown,
    started: number,
    count: number,
    checksum: string | undefined,
  ): Promise<InstrumentsReloadReport> {
    const rejected = error instanceof ScripMasterRejectedError;
    const reason = rejected
      ? error.reasons.join('; ')
      : error instanceof Error
        ? error.message
        : String(error);
    const durationMs = performance.now() - started;
    this.logger.warn({
      msg: rejected ? 'Instrument master refused' : 'Instrument master download failed',
      source,
      reason,
      keptVersion: this.currentVersion,
    });
    await this.store
      .record({
        source,
        outcome: rejected ? InstrumentLoadOutcome.REJECTED : InstrumentLoadOutcome.FAILED,
        count,
        reason,
        checksum,
        durationMs,
      })
      .catch((storeError: unknown) =>
        this.logger.error({ msg: 'Logging the instrument load failed', err: storeError }),
      );
    return {
      accepted: false,
      count,
      reason,
      version: this.currentVersion,
      source,
      durationMs: Math.round(durationMs),
    };
  }

  private async restoreFromDatabase(): Promise<boolean> {
    const started = performance.now();
    try {
      const instruments = await this.store.loadAll();
      if (instruments.length === 0) return false;
      if (this.currentVersion > 0) return true;
      const next = new InstrumentIndex(instruments);
      const durationMs = performance.now() - started;
      await this.store.record({
        source: 'database',
        outcome: InstrumentLoadOutcome.RESTORED,
        count: next.size,
        durationMs,
      });
      this.swap(next, 'database');
      this.logger.warn({
        msg: 'Serving the stored instrument master (download failed)',
        count: next.size,
        durationMs: Math.round(durationMs),
      });
      return true;
    } catch (error) {
      this.logger.error({ msg: 'Reading the stored instrument master failed', err: error });
      return this.currentVersion > 0;
    }
  }

  private async storedChecksumSafe(): Promise<string | undefined> {
    try {
      return await this.store.storedChecksum();
    } catch {
      return undefined;
    }
  }

  private swap(next: InstrumentIndex, source: InstrumentsSource): void {
    this.index = next;
    this.currentVersion++;
    this.markReady();
    this.events.emit(
      INSTRUMENTS_RELOADED,
      new InstrumentsReloadedEvent(this.currentVersion, next.size, source),
    );
  }
}
