import { FundsLedger } from './funds-ledger';

describe('FundsLedger', () => {
  it('reserves, consumes on fill and releases the rest on cancel', () => {
    const funds = new FundsLedger(10_000);
    expect(funds.reserve('o1', 6_000)).toEqual({ ok: true, reservedPaise: 6_000 });
    funds.consume('o1', 2_000);
    expect(funds.snapshot()).toEqual({
      balancePaise: 10_000,
      usedPaise: 2_000,
      reservedPaise: 4_000,
      availablePaise: 4_000,
    });
    expect(funds.release('o1')).toBe(4_000);
    expect(funds.snapshot()).toMatchObject({ reservedPaise: 0, availablePaise: 8_000 });
  });

  it('refuses a reservation that does not fit and changes nothing', () => {
    const funds = new FundsLedger(5_000);
    expect(funds.reserve('o1', 5_001)).toEqual({
      ok: false,
      shortfallPaise: 1,
      availablePaise: 5_000,
    });
    expect(funds.snapshot().reservedPaise).toBe(0);
  });

  it('replaces an order reservation instead of adding to it', () => {
    const funds = new FundsLedger(5_000);
    funds.reserve('o1', 3_000);
    expect(funds.reserve('o1', 5_000).ok).toBe(true);
    expect(funds.reserve('o1', 1_000).ok).toBe(true);
    expect(funds.snapshot()).toMatchObject({ reservedPaise: 1_000, availablePaise: 4_000 });
  });

  it('records a fill larger than the reservation as used margin', () => {
    const funds = new FundsLedger(5_000);
    funds.reserve('o1', 1_000);
    funds.consume('o1', 1_500);
    expect(funds.snapshot()).toMatchObject({
      usedPaise: 1_500,
      reservedPaise: 0,
      availablePaise: 3_500,
    });
    funds.releaseUsed(1_500);
    funds.adjustBalance(-250);
    expect(funds.snapshot()).toMatchObject({
      balancePaise: 4_750,
      usedPaise: 0,
      availablePaise: 4_750,
    });
  });

  it('rejects non-integer paise', () => {
    expect(() => new FundsLedger(1.5)).toThrow(RangeError);
    expect(() => new FundsLedger(1).reserve('o', -1)).toThrow(RangeError);
  });
});
