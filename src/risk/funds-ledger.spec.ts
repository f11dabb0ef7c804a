import { FundsLedger } from './funds-ledger';
import { endAt, parseParts, serializeParts } from './reservation-parts';

describe('FundsLedger', () => {
  it('reserves, holds the filled share until its trade settles, then the position holds margin; the rest goes on cancel', () => {
    const funds = new FundsLedger(10_000);
    expect(funds.reserve('o1', 6_000, { to: 30 })).toEqual({ ok: true, reservedPaise: 6_000 });
    // 10 of 30 filled and reported: nothing is released before the trade is settled.
    expect(funds.snapshot()).toMatchObject({ reservedPaise: 6_000, availablePaise: 4_000 });
    funds.setMargin('NSE_EQ|1|INTRADAY', 1_900);
    funds.settleUnits('o1', 10);
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
    expect(funds.reserve('o1', 5_001, { to: 1 })).toEqual({
      ok: false,
      shortfallPaise: 1,
      availablePaise: 5_000,
    });
    expect(funds.snapshot().reservedPaise).toBe(0);
  });

  it('replaces an order reservation instead of adding to it', () => {
    const funds = new FundsLedger(5_000);
    funds.reserve('o1', 3_000, { to: 10 });
    expect(funds.reserve('o1', 5_000, { to: 10 }).ok).toBe(true);
    expect(funds.reserve('o1', 1_000, { to: 10 }).ok).toBe(true);
    expect(funds.snapshot()).toMatchObject({ reservedPaise: 1_000, availablePaise: 4_000 });
  });

  it('a trade settled before its fill is reported releases its share all the same, once per trade', () => {
    const early = new FundsLedger(10_000);
    const late = new FundsLedger(10_000);
    for (const funds of [early, late]) funds.reserve('o1', 1_000, { to: 3 });
    // The trade first (the OMS learns of the fill afterwards), or after a fill the broker
    // reported: the ledger moves at the trade only, so both read the same.
    early.settleUnits('o1', 1);
    late.settleUnits('o1', 1);
    expect(early.snapshot()).toEqual(late.snapshot());
    expect(early.reservationOf('o1')).toBe(1_000 - 333);
    early.settleUnits('o1', 2);
    expect(early.snapshot()).toMatchObject({ reservedPaise: 0, availablePaise: 10_000 });
    expect(early.takeEmptied()).toEqual(['o1']);
    expect(early.takeEmptied()).toEqual([]);
  });

  it('partial fills in any number of trades release the same paise: a function of the units settled', () => {
    const oneTrade = new FundsLedger(100_000);
    const threeTrades = new FundsLedger(100_000);
    oneTrade.reserve('o', 10_001, { to: 7 });
    threeTrades.reserve('o', 10_001, { to: 7 });
    oneTrade.settleUnits('o', 5);
    for (const units of [1, 3, 1]) threeTrades.settleUnits('o', units);
    expect(threeTrades.reservationOf('o')).toBe(oneTrade.reservationOf('o'));
    // 2 of 7 units still unsettled: ceil(10,001 x 2 / 7).
    expect(oneTrade.reservationOf('o')).toBe(2_858);
    oneTrade.settleUnits('o', 2);
    expect(oneTrade.reservationOf('o')).toBe(0);
  });

  it('an order that ends keeps only its filled units held until their trades settle', () => {
    const funds = new FundsLedger(10_000);
    funds.reserve('o1', 1_000, { to: 10 });
    funds.settleUnits('o1', 2);
    // Cancelled with 5 filled, 2 of them settled: units 2..5 stay held, 5..10 are released.
    const held = funds.restore('o1', endAt(funds.partsOf('o1'), 5));
    expect(held).toBe(300);
    expect(funds.reservationFrom('o1', 5)).toBe(0);
    funds.settleUnits('o1', 2);
    expect(funds.reservationOf('o1')).toBe(100);
    expect(funds.takeEmptied()).toEqual([]);
    funds.settleUnits('o1', 1);
    expect(funds.snapshot()).toMatchObject({ reservedPaise: 0, availablePaise: 10_000 });
    expect(funds.takeEmptied()).toEqual(['o1']);
  });

  it('a modification reserves for its unfilled units and keeps the filled share held', () => {
    const funds = new FundsLedger(10_000);
    funds.reserve('o1', 1_000, { to: 10 });
    // 4 filled, not settled; the order goes to 12 units at a new price: 8 unfilled units.
    expect(funds.reservationFrom('o1', 4)).toBe(600);
    expect(funds.reserve('o1', 1_600, { from: 4, to: 12 }).ok).toBe(true);
    expect(funds.reservationOf('o1')).toBe(400 + 1_600);
    funds.settleUnits('o1', 4);
    expect(funds.reservationOf('o1')).toBe(1_600);
    funds.settleUnits('o1', 2);
    expect(funds.reservationOf('o1')).toBe(1_200);
  });

  it("a sliced order's children settle the reservation their parent holds", () => {
    const funds = new FundsLedger(10_000);
    funds.reserve('parent', 3_000, { to: 30 });
    funds.link('child-1', 'parent');
    funds.link('child-2', 'parent');
    funds.settleUnits('child-1', 15);
    expect(funds.reservationOf('parent')).toBe(1_500);
    funds.settleUnits('child-2', 15);
    expect(funds.reservationOf('parent')).toBe(0);
    expect(funds.takeEmptied()).toEqual(['parent']);
  });

  it('the stored parts rebuild the same figures, settled trades replayed before or after', () => {
    const live = new FundsLedger(10_000);
    live.reserve('o1', 1_000, { to: 10 });
    live.reserve('o2', 777, { to: 3 });
    live.settleUnits('o1', 3);
    live.restore('o2', endAt(live.partsOf('o2'), 1));
    const stored = new Map(['o1', 'o2'].map((id) => [id, serializeParts(live.partsOf(id))]));

    const rebuilt = new FundsLedger(10_000);
    rebuilt.settleUnits('o1', 3);
    for (const [id, terms] of stored) rebuilt.restore(id, parseParts(terms));
    expect(rebuilt.snapshot()).toEqual(live.snapshot());
  });

  it('a position margin above the reservation is used all the same; closing frees it, P&L and charges move the balance', () => {
    const funds = new FundsLedger(5_000);
    funds.reserve('o1', 1_000, { to: 1 });
    funds.setMargin('p', 1_500);
    funds.settleUnits('o1', 1);
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

  it('rejects non-integer paise and malformed stored parts', () => {
    expect(() => new FundsLedger(1.5)).toThrow(RangeError);
    expect(() => new FundsLedger(1).reserve('o', -1, { to: 1 })).toThrow(RangeError);
    expect(() => parseParts('{}')).toThrow(RangeError);
    expect(() => parseParts('[[0,1,2]]')).toThrow(RangeError);
    expect(() => parseParts('[[3,3,100,3]]')).toThrow(RangeError);
    expect(() => parseParts('[[0,2,-1,2]]')).toThrow(RangeError);
    expect(parseParts(serializeParts([{ from: 1, to: 4, paise: 90, end: 2 }]))).toEqual([
      { from: 1, to: 4, paise: 90, end: 2 },
    ]);
  });
});
