import { Readable } from 'node:stream';
import { Universe } from '@app/dhan-simulator';
import type { Instrument } from '@app/dhan';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Clock } from '../common/clock';
import { InstrumentLoadOutcome } from './entities/instrument-master-load.entity';
import type { InstrumentStore, LoadRecord } from './instrument.store';
import { INSTRUMENTS_RELOADED, type InstrumentsReloadedEvent } from './instruments.events';
import { DEFAULT_INSTRUMENTS_OPTIONS } from './instruments.options';
import { InstrumentsService } from './instruments.service';
import { ScripMasterDownloadError, ScripMasterSource } from './scrip-master.source';

const CSV = new Universe({ seed: 7, today: '2026-11-25' }).toCsv();
const TRUNCATED = CSV.split('\n').slice(0, 11).join('\n');

class FakeSource extends ScripMasterSource {
  readonly files: (string | Error)[] = [];
  opened = 0;
  async open() {
    this.opened++;
    const next = this.files.shift() ?? CSV;
    if (next instanceof Error) throw next;
    return { source: 'fake', body: Readable.from([Buffer.from(next)]) };
  }
}

class FakeStore {
  rows: Instrument[] = [];
  records: LoadRecord[] = [];
  checksum: string | undefined;
  async replaceAll(instruments: readonly Instrument[], record: LoadRecord) {
    this.rows = [...instruments];
    this.checksum = record.checksum;
    this.records.push(record);
  }
  async record(record: LoadRecord) {
    this.records.push(record);
  }
  async loadAll() {
    return this.rows;
  }
  async storedChecksum() {
    return this.checksum;
  }
}

const clock: Clock = { now: () => new Date('2026-11-25T04:00:00Z') };

function aService(source: FakeSource, store: FakeStore, events = new EventEmitter2()) {
  return new InstrumentsService(source, store as unknown as InstrumentStore, events, clock, {
    ...DEFAULT_INSTRUMENTS_OPTIONS,
    bootRetryDelaysMs: [60_000],
  });
}

describe('InstrumentsService', () => {
  it('swaps in a verified file, bumps the version and emits instruments.reloaded', async () => {
    const events = new EventEmitter2();
    const seen: InstrumentsReloadedEvent[] = [];
    events.on(INSTRUMENTS_RELOADED, (event: InstrumentsReloadedEvent) => seen.push(event));
    const store = new FakeStore();
    const service = aService(new FakeSource(), store, events);
    const report = await service.reload();
    expect(report).toMatchObject({ accepted: true, version: 1 });
    expect(service.all()).toHaveLength(report.count);
    expect(seen).toEqual([{ version: 1, count: report.count, source: 'download' }]);
    expect(store.records.map((r) => r.outcome)).toEqual([InstrumentLoadOutcome.ACCEPTED]);
    expect(service.underlyingOf('NIFTY')?.securityId).toBe('13');
    expect(service.chain('NIFTY', service.expiries('NIFTY')[0]).length).toBeGreaterThan(0);
  });

  it("prices an MCX option expiry off its own future, an index's off the index", async () => {
    const service = aService(new FakeSource(), new FakeStore());
    await service.reload();
    const futures = service
      .all()
      .filter((i) => i.underlying === 'CRUDEOIL' && i.instrumentType === 'FUTCOM')
      .map((i) => i.expiry!)
      .sort();
    const expiries = service.expiries('CRUDEOIL');
    expect(expiries.length).toBeGreaterThan(1);
    const bases = expiries.map((e) => service.chainBase('CRUDEOIL', e)!);
    expiries.forEach((e, n) => {
      expect(bases[n].instrumentType).toBe('FUTCOM');
      expect(bases[n].expiry).toBe(futures.find((f) => f >= e));
    });
    // The first expiry is on the near future; the later ones are not.
    expect(bases[0]).toBe(service.underlyingOf('CRUDEOIL'));
    expect(new Set(bases).size).toBe(expiries.length);
    const nifty = service.expiries('NIFTY');
    expect(service.chainBase('NIFTY', nifty[nifty.length - 1])).toBe(service.underlyingOf('NIFTY'));
  });

  it('keeps the old master when a file is refused or the download fails', async () => {
    const source = new FakeSource();
    const store = new FakeStore();
    const service = aService(source, store);
    await service.reload();
    const before = service.all();
    source.files.push(TRUNCATED, new ScripMasterDownloadError('download failed: HTTP 500'));
    expect(await service.reload()).toMatchObject({ accepted: false, count: 10, version: 1 });
    expect(await service.reload()).toMatchObject({
      accepted: false,
      count: 0,
      reason: 'download failed: HTTP 500',
    });
    expect(service.all()).toBe(before);
    expect(store.records.map((r) => r.outcome)).toEqual([
      InstrumentLoadOutcome.ACCEPTED,
      InstrumentLoadOutcome.REJECTED,
      InstrumentLoadOutcome.FAILED,
    ]);
  });

  it('does not rewrite the stored copy when the file is unchanged', async () => {
    const store = new FakeStore();
    const service = aService(new FakeSource(), store);
    await service.reload();
    expect(await service.reload()).toMatchObject({ accepted: true, version: 2 });
    expect(store.records.map((r) => r.outcome)).toEqual([
      InstrumentLoadOutcome.ACCEPTED,
      InstrumentLoadOutcome.UNCHANGED,
    ]);
  });

  it('runs one attempt at a time; calls during an attempt share the next one', async () => {
    const source = new FakeSource();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const firstOpened = new Promise<void>((resolve) => (opened = resolve));
    const open = source.open.bind(source);
    source.open = async () => {
      if (source.opened === 0) {
        opened();
        await gate;
      }
      return open();
    };
    const service = aService(source, new FakeStore());
    const first = service.reload();
    expect(service.reload()).toBe(first);
    await firstOpened;
    const second = service.reload();
    const third = service.reload();
    expect(third).toBe(second);
    expect(second).not.toBe(first);
    release();
    const reports = await Promise.all([first, second, third]);
    expect(reports.map((r) => r.version)).toEqual([1, 2, 2]);
    expect(source.opened).toBe(2);
  });

  it('at boot, serves the stored copy when the download fails', async () => {
    const store = new FakeStore();
    store.rows = (await aServiceLoaded()).all().slice();
    const source = new FakeSource();
    source.files.push(new ScripMasterDownloadError('download failed: ECONNREFUSED'));
    const service = aService(source, store);
    service.onApplicationBootstrap();
    await service.ready();
    expect(service.version).toBe(1);
    expect(service.all()).toHaveLength(store.rows.length);
    expect(store.records.map((r) => r.outcome)).toEqual([
      InstrumentLoadOutcome.FAILED,
      InstrumentLoadOutcome.RESTORED,
    ]);
    await service.beforeApplicationShutdown();
  });
});

async function aServiceLoaded(): Promise<InstrumentsService> {
  const service = aService(new FakeSource(), new FakeStore());
  await service.reload();
  return service;
}
