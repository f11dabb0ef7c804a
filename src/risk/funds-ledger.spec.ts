import { FundsLedger } from './funds-ledger';

describe('FundsLedger', () => {
  it('reserves, frees the filled share, holds position margin and releases the rest on cancel', () => {
    const funds = new FundsLedger(10_000);
    expect(funds.reserve('o1', 6_000)).toEqual({ ok: true, reservedPaise: 6_000 });
    funds.releaseFilled('o1', 2_000);
    funds.setMargin('NSE_EQ|1|INTRADAY', 1_900);
    expect(funds.snapshot()).toEqual({
      balancePaise: 10_000,
      usedPaise: 1_900,
      reservedPaise: 4_000,
      availablePaise: 4_100,
      openingPaise: 10_000,
      realizedPnlPaise: 0,
      chargesPaise: 0,
      adjustmentsPaise: 0,
    });
    expect(funds.release('o1')).toBe(4_000);
    expect(funds.snapshot()).toMatchObject({ reservedPaise: 0, availablePaise: 8_100 });
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

  it('a position margin above the reservation is used all the same; closing frees it, P&L and charges move the balance', () => {
    const funds = new FundsLedger(5_000);
    funds.reserve('o1', 1_000);
    funds.releaseFilled('o1', 1_500);
    funds.setMargin('p', 1_500);
    expect(funds.snapshot()).toMatchObject({
      usedPaise: 1_500,
      reservedPaise: 0,
      availablePaise: 3_500,
    });
    funds.setMargin('p', 0);
    funds.settle(-200, 50);
    funds.adjust(100);
    expect(funds.snapshot()).toMatchObject({
      balancePaise: 4_850,
      usedPaise: 0,
      availablePaise: 4_850,
      realizedPnlPaise: -200,
      chargesPaise: 50,
      adjustmentsPaise: 100,
    });
  });

  it('rejects non-integer paise', () => {
    expect(() => new FundsLedger(1.5)).toThrow(RangeError);
    expect(() => new FundsLedger(1).reserve('o', -1)).toThrow(RangeError);
  });
});
