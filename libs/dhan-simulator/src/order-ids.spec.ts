import { untilEvent } from './__tests__/helpers';
import { DhanSimulator } from './simulator';

const CLOCK = { now: () => Date.parse('2026-11-25T05:00:00Z') };

interface Ids {
  orders: string[];
  trades: string[];
}

/** One simulator's life: three MARKET orders that trade, then stop. Same seed, date and clock. */
async function oneLife(): Promise<Ids> {
  const sim = new DhanSimulator({
    seed: 11,
    today: '2026-11-25',
    clock: CLOCK,
    orders: { transitDelayMs: 5, matchIntervalMs: 10 },
    rest: { rateLimits: { orders: false, nonTrading: false, quote: false, data: false } },
  });
  const urls = await sim.start();
  try {
    const headers = {
      'access-token': sim.credentials.accessToken,
      'client-id': sim.credentials.clientId,
      'content-type': 'application/json',
    };
    const orders: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${urls.apiUrl}/orders`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          dhanClientId: sim.credentials.clientId,
          transactionType: 'BUY',
          exchangeSegment: 'NSE_EQ',
          productType: 'INTRADAY',
          orderType: 'MARKET',
          validity: 'DAY',
          securityId: '2885',
          quantity: 1,
        }),
      });
      expect(res.status).toBe(200);
      orders.push(((await res.json()) as { orderId: string }).orderId);
    }
    const traded = () =>
      orders.every((id) => sim.orders.order(sim.credentials.clientId, id)?.status === 'TRADED');
    await untilEvent(sim.orders, 'update', traded, 'all traded');
    const res = await fetch(`${urls.apiUrl}/trades`, { headers });
    const trades = ((await res.json()) as Array<{ exchangeTradeId: string }>).map(
      (t) => t.exchangeTradeId,
    );
    return { orders, trades };
  } finally {
    await sim.stop();
  }
}

describe('broker ids across a simulator restart', () => {
  it('a restarted simulator (empty books, same seed and date) reuses no order id and no exchange trade id', async () => {
    const before = await oneLife();
    const after = await oneLife();
    for (const ids of [before, after]) {
      expect(ids.orders).toHaveLength(3);
      expect(ids.trades.length).toBeGreaterThanOrEqual(3);
      // Numeric strings, as DhanHQ's are.
      for (const id of [...ids.orders, ...ids.trades]) expect(id).toMatch(/^\d+$/);
      expect(new Set(ids.orders).size).toBe(ids.orders.length);
    }
    const reused = after.orders.filter((id) => before.orders.includes(id));
    expect(reused).toEqual([]);
    expect(after.trades.filter((id) => before.trades.includes(id))).toEqual([]);
    // And they only grow: a later life's ids are above every earlier one.
    const max = (ids: string[]) => ids.map(BigInt).reduce((a, b) => (a > b ? a : b));
    const min = (ids: string[]) => ids.map(BigInt).reduce((a, b) => (a < b ? a : b));
    expect(min(after.orders) > max(before.orders)).toBe(true);
  });

  it('counts from idBase when one is given (deterministic runs)', async () => {
    const sim = new DhanSimulator({
      seed: 11,
      today: '2026-11-25',
      clock: CLOCK,
      orders: { transitDelayMs: 5, matchIntervalMs: 10, idBase: 1_000 },
    });
    const inst = sim.universe.get('NSE_EQ', 2885)!;
    const place = () =>
      sim.orders.place(sim.credentials.clientId, {
        instrument: inst,
        transactionType: 'BUY',
        productType: 'INTRADAY',
        orderType: 'MARKET',
        validity: 'DAY',
        quantity: 1,
        disclosedQuantity: 0,
        price: 0,
        triggerPrice: 0,
        afterMarketOrder: false,
      });
    try {
      expect([place().orderId, place().orderId]).toEqual(['1001', '1002']);
    } finally {
      await sim.stop();
    }
  });
});
