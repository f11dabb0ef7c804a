import { weekday } from './calendar';
import { CSV_COLUMNS, SimInstrument, Universe } from './universe';

describe('Universe', () => {
  const universe = new Universe({ seed: 1, today: '2026-11-25' });
  const options = (underlying: string): SimInstrument[] =>
    universe.instruments.filter((i) => i.kind === 'OPTION' && i.underlying === underlying);
  const expiries = (list: SimInstrument[]): string[] =>
    [...new Set(list.map((i) => i.expiry!))].sort();

  it('holds more than 25,000 instruments with ids unique per segment', () => {
    expect(universe.size).toBeGreaterThan(25_000);
    const keys = new Set(universe.instruments.map((i) => `${i.segment}:${i.securityId}`));
    expect(keys.size).toBe(universe.size);
  });

  it('is deterministic for a seed and a day, and differs across seeds', () => {
    const again = new Universe({ seed: 1, today: '2026-11-25' });
    expect(again.toCsv()).toBe(universe.toCsv());
    const other = new Universe({ seed: 2, today: '2026-11-25' });
    expect(other.walks[0].level).not.toBe(universe.walks[0].level);
  });

  it('lists the indices at their ids and realistic levels', () => {
    const expected: [string, number, number][] = [
      ['NIFTY', 13, 24_000],
      ['BANKNIFTY', 25, 52_000],
      ['FINNIFTY', 27, 23_500],
      ['MIDCPNIFTY', 442, 12_500],
      ['SENSEX', 51, 80_000],
      ['BANKEX', 69, 58_000],
    ];
    for (const [symbol, id, level] of expected) {
      const index = universe.get('IDX_I', id)!;
      expect(index.symbol).toBe(symbol);
      expect(index.instrumentType).toBe('INDEX');
      const walk = universe.walks[index.walk];
      expect(Math.abs(walk.level / level - 1)).toBeLessThan(0.05);
    }
  });

  it('NIFTY: weekly Tuesdays, monthly on the last Tuesday, plus quarterlies', () => {
    const list = expiries(options('NIFTY'));
    expect(list.every((d) => weekday(d) === 2)).toBe(true);
    const weeklies = list.filter((d) => d <= '2027-01-31');
    expect(weeklies.slice(0, 5)).toEqual([
      '2026-12-01',
      '2026-12-08',
      '2026-12-15',
      '2026-12-22',
      '2026-12-29',
    ]);
    const flags = new Map(options('NIFTY').map((i) => [i.expiry!, i.expiryFlag]));
    expect(flags.get('2026-12-22')).toBe('W');
    expect(flags.get('2026-12-29')).toBe('M'); // last Tuesday of December
    expect(flags.get('2027-01-26')).toBe('M');
    expect(list).toContain('2027-03-30'); // quarterly (last Tuesday of March)
  });

  it('an expiry on an exchange holiday moves to the trading day before (26 Jan 2027 -> 25 Jan)', () => {
    const withHolidays = new Universe({
      seed: 1,
      today: '2026-11-25',
      holidays: { NSE: ['2027-01-26', '2026-12-25'], MCX: ['2026-12-18'] },
    });
    const of = (name: string) =>
      expiries(
        withHolidays.instruments.filter((i) => i.kind === 'OPTION' && i.underlying === name),
      );
    const nifty = of('NIFTY');
    expect(nifty).not.toContain('2027-01-26');
    expect(nifty).toContain('2027-01-25');
    const flags = new Map(
      withHolidays.instruments
        .filter((i) => i.underlying === 'NIFTY' && i.expiry)
        .map((i) => [i.expiry!, i.expiryFlag]),
    );
    expect(flags.get('2027-01-25')).toBe('M'); // still January's monthly
    expect(of('BANKNIFTY')).toEqual(['2026-12-29', '2027-01-25', '2027-02-23']);
    expect(
      withHolidays.instruments.some(
        (i) => i.kind === 'FUTURE' && i.underlying === 'NIFTY' && i.expiry === '2027-01-25',
      ),
    ).toBe(true);
    // MCX futures expiring on a listed MCX holiday (Friday 18 Dec) move to Thursday 17 Dec.
    const mcx = withHolidays.instruments.filter(
      (i) => i.segment === 'MCX_COMM' && i.kind === 'FUTURE',
    );
    expect(mcx.some((i) => i.expiry === '2026-12-18')).toBe(false);
  });

  it('BANKNIFTY, FINNIFTY, MIDCPNIFTY: three monthly expiries on the last Tuesday', () => {
    for (const name of ['BANKNIFTY', 'FINNIFTY', 'MIDCPNIFTY']) {
      expect(expiries(options(name))).toEqual(['2026-12-29', '2027-01-26', '2027-02-23']);
    }
  });

  it('SENSEX weekly on Thursdays; BANKEX monthly on the last Thursday', () => {
    const sensex = expiries(options('SENSEX'));
    expect(sensex.every((d) => weekday(d) === 4)).toBe(true);
    expect(sensex.slice(0, 3)).toEqual(['2026-11-26', '2026-12-03', '2026-12-10']);
    // 26 Nov 2026 is the last Thursday of November, one day after "today"
    expect(expiries(options('BANKEX'))).toEqual(['2026-11-26', '2026-12-31', '2027-01-28']);
  });

  it('uses current lot sizes and real strike intervals', () => {
    const spec: [string, number, number][] = [
      ['NIFTY', 65, 50],
      ['BANKNIFTY', 30, 100],
      ['FINNIFTY', 60, 50],
      ['MIDCPNIFTY', 120, 25],
      ['SENSEX', 20, 100],
      ['BANKEX', 30, 100],
      ['CRUDEOIL', 100, 50],
      ['NATURALGAS', 1250, 5],
    ];
    for (const [name, lot, interval] of spec) {
      const list = options(name);
      expect(list.every((i) => i.lotSize === lot)).toBe(true);
      const strikes = [...new Set(list.map((i) => i.strike!))].sort((a, b) => a - b);
      expect(strikes.length).toBeGreaterThan(20);
      for (let k = 1; k < strikes.length; k++) expect(strikes[k] - strikes[k - 1]).toBe(interval);
    }
  });

  it('has index futures for three months, MCX futures and options on futures', () => {
    expect(universe.instruments.filter((i) => i.instrumentType === 'FUTIDX')).toHaveLength(18);
    const crude = universe.instruments.filter(
      (i) => i.instrumentType === 'FUTCOM' && i.underlying === 'CRUDEOIL',
    );
    expect(crude.length).toBeGreaterThanOrEqual(3);
    const optfut = options('CRUDEOIL');
    expect(optfut[0].instrumentType).toBe('OPTFUT');
    expect(universe.byInstrumentKey(optfut[0].underlyingKey!)!.instrumentType).toBe('FUTCOM');
  });

  it('has a couple of hundred NSE stocks, a few also on BSE', () => {
    const nse = universe.instruments.filter((i) => i.segment === 'NSE_EQ');
    expect(nse.length).toBeGreaterThanOrEqual(200);
    expect(universe.get('NSE_EQ', 2885)!.symbol).toBe('RELIANCE');
    expect(universe.instruments.filter((i) => i.segment === 'BSE_EQ').length).toBeGreaterThan(3);
  });

  it('writes the compact CSV with DhanHQ columns, symbols and custom symbols', () => {
    const lines = universe.toCsv().trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(universe.size + 1);
    const col = (name: (typeof CSV_COLUMNS)[number]): number => CSV_COLUMNS.indexOf(name);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.every((r) => r.length === CSV_COLUMNS.length)).toBe(true);
    const weekly = rows.filter((r) => r[col('SEM_TRADING_SYMBOL')] === 'NIFTY-Dec2026-24000-CE');
    expect(weekly.length).toBeGreaterThan(1); // weeklies of December share the symbol
    expect(new Set(weekly.map((r) => r[col('SEM_EXPIRY_DATE')])).size).toBe(weekly.length);
    const first = weekly.find((r) => r[col('SEM_EXPIRY_DATE')] === '2026-12-01 14:30:00')!;
    expect(first[col('SEM_CUSTOM_SYMBOL')]).toBe('NIFTY 01 DEC 24000 CALL');
    expect(first[col('SEM_STRIKE_PRICE')]).toBe('24000.00000');
    expect(first[col('SEM_TICK_SIZE')]).toBe('5.0000');
    expect(first[col('SEM_LOT_UNITS')]).toBe('65.0');
    expect(first[col('SEM_EXPIRY_FLAG')]).toBe('W');
    const nifty = rows.find((r) => r[col('SEM_SMST_SECURITY_ID')] === '13')!;
    expect(nifty[col('SEM_INSTRUMENT_NAME')]).toBe('INDEX');
    expect(nifty[col('SEM_EXM_EXCH_ID')]).toBe('NSE');
  });

  it('pairs calls and puts by strike for option chains', () => {
    const nifty = universe.get('IDX_I', 13)!;
    const [expiry] = universe.expiries(nifty);
    const chain = universe.chain(nifty, expiry);
    expect(chain.length).toBeGreaterThan(100);
    expect(chain.every((s) => s.ce?.optionType === 'CE' && s.pe?.optionType === 'PE')).toBe(true);
  });
});
