import { parseIstTradeTime, snapshotOfLeg, snapshotOfQuote } from './rest-market-data.service';

describe('DhanHQ REST market data to tick-store snapshots', () => {
  it('reads IST trade times in both spellings as true UTC seconds, and nothing else', () => {
    const utc = Date.UTC(2026, 11, 4, 4, 30, 15) / 1000; // 10:00:15 IST
    expect(parseIstTradeTime('04/12/2026 10:00:15')).toBe(utc);
    expect(parseIstTradeTime('2026-12-04 10:00:15')).toBe(utc);
    expect(parseIstTradeTime('2026-12-04T10:00:15')).toBe(utc);
    expect(parseIstTradeTime('01/01/1980 00:00:00')).toBeUndefined();
    expect(parseIstTradeTime('NA')).toBeUndefined();
    expect(parseIstTradeTime(undefined)).toBeUndefined();
  });

  it('maps a market quote: ohlc.close is the previous close, depth zipped from buy and sell', () => {
    const snap = snapshotOfQuote({
      last_price: 1250.5,
      last_quantity: 10,
      last_trade_time: '04/12/2026 10:00:15',
      average_price: 1249,
      volume: 5000,
      buy_quantity: 700,
      sell_quantity: 900,
      ohlc: { open: 1240, high: 1255, low: 1238, close: 1235 },
      oi: 0,
      lower_circuit_limit: 988,
      upper_circuit_limit: 1482,
      depth: {
        buy: [{ quantity: 5, orders: 1, price: 1250.45 }],
        sell: [
          { quantity: 7, orders: 2, price: 1250.55 },
          { quantity: 9, orders: 3, price: 1250.6 },
        ],
      },
    });
    expect(snap).toMatchObject({
      ltp: 1250.5,
      ltq: 10,
      atp: 1249,
      volume: 5000,
      totalBuyQty: 700,
      totalSellQty: 900,
      open: 1240,
      high: 1255,
      low: 1238,
      prevClose: 1235,
      upperCircuit: 1482,
      lowerCircuit: 988,
    });
    expect(snap.depth).toEqual([
      { bidQty: 5, bidOrders: 1, bidPrice: 1250.45, askQty: 7, askOrders: 2, askPrice: 1250.55 },
      { bidQty: 0, bidOrders: 0, bidPrice: 0, askQty: 9, askOrders: 3, askPrice: 1250.6 },
    ]);
  });

  it('maps an option-chain leg: top of book as depth level 1 when there is one', () => {
    const leg = {
      last_price: 101.05,
      average_price: 99.5,
      oi: 12_000,
      previous_oi: 11_000,
      previous_close_price: 95,
      volume: 300,
      top_bid_price: 101,
      top_bid_quantity: 75,
      top_ask_price: 101.1,
      top_ask_quantity: 150,
    };
    expect(snapshotOfLeg(leg)).toEqual({
      ltp: 101.05,
      atp: 99.5,
      volume: 300,
      prevClose: 95,
      oi: 12_000,
      prevOi: 11_000,
      depth: [
        { bidQty: 75, bidOrders: 0, bidPrice: 101, askQty: 150, askOrders: 0, askPrice: 101.1 },
      ],
    });
    expect(snapshotOfLeg({ last_price: 3 }).depth).toBeUndefined();
  });
});
