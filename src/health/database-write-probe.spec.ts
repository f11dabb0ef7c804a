import { DataSource } from 'typeorm';
import { DatabaseWriteProbe } from './database-write-probe';

/** A data source whose transactions run `work` after `gate` opens, or fail with `error`. */
function aDataSource(control: { gate?: Promise<void>; error?: Error }): DataSource {
  const manager = { query: async () => [{ timeout: 5000 }] };
  return {
    options: { type: 'postgres' },
    transaction: async (work: (m: typeof manager) => Promise<void>) => {
      await control.gate;
      if (control.error) throw control.error;
      return work(manager);
    },
  } as unknown as DataSource;
}

describe('DatabaseWriteProbe', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('reports a failed write as down at once, even right after a success', async () => {
    const control: { gate?: Promise<void>; error?: Error } = {};
    const probe = new DatabaseWriteProbe(aDataSource(control));
    await expect(probe.check()).resolves.toBe(true);
    jest.setSystemTime(1_500);
    control.error = new Error('disk I/O error');
    await expect(probe.check()).resolves.toBe(false);
  });

  it('a probe queued behind a long write answers up while the last success is recent', async () => {
    const control: { gate?: Promise<void>; error?: Error } = {};
    const probe = new DatabaseWriteProbe(aDataSource(control));
    await expect(probe.check()).resolves.toBe(true);
    let open!: () => void;
    control.gate = new Promise<void>((resolve) => (open = resolve));
    jest.setSystemTime(1_500);
    const slow = probe.check();
    await jest.advanceTimersByTimeAsync(1_000);
    await expect(slow).resolves.toBe(true);
    open();
  });

  it('without a recent success, a slow probe is waited for', async () => {
    let open!: () => void;
    const control: { gate?: Promise<void>; error?: Error } = {
      gate: new Promise<void>((resolve) => (open = resolve)),
    };
    const probe = new DatabaseWriteProbe(aDataSource(control));
    let settled = false;
    const first = probe.check().then((ok) => {
      settled = true;
      return ok;
    });
    await jest.advanceTimersByTimeAsync(5_000);
    expect(settled).toBe(false);
    open();
    await expect(first).resolves.toBe(true);
  });
});
