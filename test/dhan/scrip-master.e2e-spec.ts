import { Instrument, parseScripMaster, ScripMasterResult } from '@app/dhan';
import { DhanSimulator } from '@app/dhan-simulator';
import { startSimulator } from './helpers';

describe('scrip master round trip: the simulator CSV read by the client parser', () => {
  let sim: DhanSimulator;
  let master: ScripMasterResult;

  beforeAll(async () => {
    const started = await startSimulator();
    sim = started.sim;
    const res = await fetch(started.urls.instrumentsUrl);
    expect(res.status).toBe(200);
    master = await parseScripMaster(await res.text());
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('reads every row of the universe, none malformed', () => {
    expect(master.stats.format).toBe('compact');
    expect(master.stats.rows).toBe(sim.universe.size);
    expect(master.instruments).toHaveLength(sim.universe.size);
    expect(master.stats.skipped).toBe(0);
    expect(master.stats.skippedByReason).toEqual({});
  });

  it('finds the six indices with their DhanHQ security ids', () => {
    const ids = Object.fromEntries(
      ['NIFTY', 'BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY', 'SENSEX', 'BANKEX'].map((name) => [
        name,
        master.indices[name]?.securityId,
      ]),
    );
    expect(ids).toEqual({
      NIFTY: '13',
      BANKNIFTY: '25',
      FINNIFTY: '27',
      MIDCPNIFTY: '442',
      SENSEX: '51',
      BANKEX: '69',
    });
    for (const name of Object.keys(ids)) expect(master.indices[name].segment).toBe('IDX_I');
  });

  it.each(['CRUDEOIL', 'NATURALGAS'])('finds the near-month FUTCOM of %s', (underlying) => {
    const today = sim.universe.today;
    const futures = master.instruments
      .filter(
        (i) =>
          i.instrumentType === 'FUTCOM' &&
          i.underlying === underlying &&
          i.expiry !== undefined &&
          i.expiry >= today,
      )
      .sort((a, b) => (a.expiry ?? '').localeCompare(b.expiry ?? ''));
    expect(futures.length).toBeGreaterThan(0);
    const near = futures[0];
    expect(near.segment).toBe('MCX_COMM');
    const simInst = sim.universe.get(near.segment, near.securityId);
    expect(simInst?.kind).toBe('FUTURE');
    expect(simInst?.expiryRank).toBe(0);
    expect(simInst?.expiry).toBe(near.expiry);
    expect(near.lotSize).toBe(simInst?.lotSize);
  });

  it('carries lot sizes and tick sizes (rupees) of a sample across segments', () => {
    const sample: Instrument[] = master.instruments.filter((_, i) => i % 97 === 0);
    const segments = new Set(sample.map((i) => i.segment));
    expect(segments.size).toBeGreaterThanOrEqual(4);
    for (const parsed of sample) {
      const simInst = sim.universe.get(parsed.segment, parsed.securityId);
      expect(simInst).toBeDefined();
      if (!simInst) continue;
      expect([parsed.securityId, parsed.lotSize]).toEqual([parsed.securityId, simInst.lotSize]);
      expect(parsed.tickSize).toBeCloseTo(simInst.tickPaise / 100, 6);
      expect(parsed.tickSize).toBeCloseTo(simInst.tickSize, 6);
      expect(parsed.instrumentType).toBe(simInst.instrumentType);
    }
    const reliance = master.instruments.find(
      (i) => i.segment === 'NSE_EQ' && i.securityId === '2885',
    );
    expect(reliance?.lotSize).toBe(1);
    expect(reliance?.tickSize).toBeGreaterThan(0);
    expect(reliance?.tickSize).toBeLessThan(1);
  });
});
