import type { Instrument } from '@app/dhan/types';
import { RiskDenialCode as Code, type RiskOrder } from './risk.types';
import { checkTerms } from './terms-checks';
import {
  TODAY,
  aContext,
  aFuture,
  anEquity,
  anIndex,
  anOrder,
  checkOnce,
} from './__tests__/factories';

/**
 * checkTerms (the OMS's pre-store check) and RMS's checks are one rule set: for every bad set
 * of terms both deny with the same code, and terms RMS passes pass here too.
 */
describe('checkTerms: the terms rules RMS runs, before anything is stored', () => {
  const cases: Array<[string, Partial<RiskOrder>, Instrument | undefined, Code]> = [
    ['an unknown instrument', {}, undefined, Code.INSTRUMENT_NOT_TRADABLE],
    ['an index', {}, anIndex(), Code.INSTRUMENT_NOT_TRADABLE],
    [
      'an expired future',
      { quantity: 75, productType: 'MARGIN', price: 240 },
      aFuture({ expiry: '2026-11-24' }),
      Code.INSTRUMENT_NOT_TRADABLE,
    ],
    [
      'an instrument without a lot size',
      {},
      anEquity({ lotSize: 0 }),
      Code.INSTRUMENT_NOT_TRADABLE,
    ],
    ['quantity 0', { quantity: 0 }, anEquity(), Code.QTY_INVALID],
    ['a fractional quantity', { quantity: 1.5 }, anEquity(), Code.QTY_INVALID],
    [
      'not a lot multiple',
      { quantity: 50, productType: 'MARGIN', price: 240 },
      aFuture(),
      Code.QTY_NOT_LOT_MULTIPLE,
    ],
    ['a LIMIT without a price', { price: undefined }, anEquity(), Code.PRICE_REQUIRED],
    ['a MARKET order with a price', { orderType: 'MARKET' }, anEquity(), Code.PRICE_NOT_ALLOWED],
    [
      'a STOP_LOSS without a trigger',
      { orderType: 'STOP_LOSS', productType: 'INTRADAY' },
      anEquity(),
      Code.TRIGGER_REQUIRED,
    ],
    ['a LIMIT with a trigger', { triggerPrice: 990 }, anEquity(), Code.TRIGGER_NOT_ALLOWED],
    ['a price off the tick', { price: 1000.03 }, anEquity(), Code.PRICE_OFF_TICK],
    ['a negative price', { price: -1000 }, anEquity(), Code.PRICE_OFF_TICK],
    ['CNC on F&O', { quantity: 75, price: 240 }, aFuture(), Code.PRODUCT_NOT_ALLOWED],
    ['a bracket order (no offsets)', { productType: 'BO' }, anEquity(), Code.PRODUCT_NOT_ALLOWED],
    [
      'a STOP_LOSS cover order',
      { productType: 'CO', orderType: 'STOP_LOSS', triggerPrice: 990 },
      anEquity(),
      Code.PRODUCT_NOT_ALLOWED,
    ],
    [
      'an IOC stop-loss',
      {
        orderType: 'STOP_LOSS',
        productType: 'INTRADAY',
        price: 1010,
        triggerPrice: 1005,
        validity: 'IOC',
      },
      anEquity(),
      Code.VALIDITY_NOT_ALLOWED,
    ],
    [
      'an IOC cover order',
      { productType: 'CO', triggerPrice: 990, validity: 'IOC' },
      anEquity(),
      Code.VALIDITY_NOT_ALLOWED,
    ],
  ];

  it.each(cases)('denies %s with the code RMS gives it', (_label, change, instrument, code) => {
    const order = anOrder(change);
    expect(checkTerms(order, instrument, TODAY)).toMatchObject({ pass: false, code });
    expect(checkOnce(order, aContext({ instrument }))).toMatchObject({ pass: false, code });
  });

  it.each([
    ['a LIMIT CNC order', {}, anEquity()],
    ['a MARKET order', { orderType: 'MARKET', price: undefined }, anEquity()],
    ['a price of 0 as no price', { orderType: 'MARKET', price: 0 }, anEquity()],
    [
      'a STOP_LOSS_MARKET with a trigger',
      { orderType: 'STOP_LOSS_MARKET', price: undefined, triggerPrice: 1010 },
      anEquity(),
    ],
    ['a cover order with its stop', { productType: 'CO', triggerPrice: 990 }, anEquity()],
    ['MARGIN lots on F&O', { quantity: 150, productType: 'MARGIN', price: 24_000.1 }, aFuture()],
  ] as Array<[string, Partial<RiskOrder>, Instrument]>)(
    'passes %s',
    (_label, change, instrument) => {
      expect(checkTerms(anOrder(change), instrument, TODAY)).toEqual({ pass: true });
    },
  );

  it('judges nothing of the market or the account (RMS does that at admission)', () => {
    const huge = anOrder({ quantity: 1_000_000, price: 1_000_000 });
    expect(checkTerms(huge, anEquity(), TODAY).pass).toBe(true);
    expect(checkOnce(huge, aContext()).pass).toBe(false);
  });
});
