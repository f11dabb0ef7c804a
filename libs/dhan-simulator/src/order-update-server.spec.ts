import { WebSocket } from 'ws';
import { DhanSimulator, SimulatorUrls } from './simulator';

interface Alert {
  Type: string;
  Data: Record<string, unknown>;
}

class UpdateClient {
  readonly alerts: Alert[] = [];
  readonly closed: Promise<number>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve) => ws.once('open', () => resolve()));
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('message', (data) => this.alerts.push(JSON.parse(data.toString()) as Alert));
  }

  /** Resolves once an alert with this status (either key case) has arrived. */
  untilStatus(status: string): Promise<void> {
    const seen = (): boolean =>
      this.alerts.some((a) => a.Data.status === status || a.Data.Status === status);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${status} alert`)), 5_000);
      const check = (): void => {
        if (!seen()) return;
        clearTimeout(timer);
        this.ws.off('message', check);
        resolve();
      };
      this.ws.on('message', check);
      check();
    });
  }
}

describe('order-update socket', () => {
  let sim: DhanSimulator;
  let urls: SimulatorUrls;
  const clients: UpdateClient[] = [];

  async function login(msgCode: number | string = 42, token?: string): Promise<UpdateClient> {
    const client = new UpdateClient(new WebSocket(urls.orderUpdateUrl));
    clients.push(client);
    await client.opened;
    const outcome = new Promise<void>((resolve) => {
      const done = (): void => {
        sim.orderUpdates.off('login', done);
        sim.orderUpdates.off('loginFailed', done);
        resolve();
      };
      sim.orderUpdates.on('login', done);
      sim.orderUpdates.on('loginFailed', done);
    });
    client.ws.send(
      JSON.stringify({
        LoginReq: {
          MsgCode: msgCode,
          ClientId: sim.credentials.clientId,
          Token: token ?? sim.credentials.accessToken,
        },
        UserType: 'SELF',
      }),
    );
    await outcome;
    return client;
  }

  beforeEach(async () => {
    sim = new DhanSimulator({
      seed: 5,
      today: '2026-11-25',
      clock: { now: () => Date.parse('2026-11-25T05:00:00Z') },
      orders: { transitDelayMs: 5, matchIntervalMs: 10, maxFillQtyPerStep: 5 },
    });
    urls = await sim.start();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) {
      c.ws.terminate();
      await c.closed;
    }
    await sim.stop();
  });

  async function placeOrder(quantity: number): Promise<string> {
    const res = await fetch(`${urls.apiUrl}/orders`, {
      method: 'POST',
      headers: {
        'access-token': sim.credentials.accessToken,
        'client-id': sim.credentials.clientId,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        dhanClientId: sim.credentials.clientId,
        transactionType: 'SELL',
        exchangeSegment: 'NSE_EQ',
        productType: 'CNC',
        orderType: 'MARKET',
        validity: 'DAY',
        securityId: '2885',
        quantity,
      }),
    });
    return ((await res.json()) as { orderId: string }).orderId;
  }

  it('logs in with MsgCode 42 and sends an order_alert per transition, camelCase, Title-case', async () => {
    const client = await login(42);
    expect(sim.orderUpdates.sessionCount(sim.credentials.clientId)).toBe(1);
    const id = await placeOrder(12);
    await client.untilStatus('Traded');
    const mine = client.alerts.filter((a) => a.Data.orderNo === id);
    expect(mine.every((a) => a.Type === 'order_alert')).toBe(true);
    expect(mine.map((a) => a.Data.status)).toEqual([
      'Transit',
      'Pending',
      'Part_Traded',
      'Part_Traded',
      'Traded',
    ]);
    const last = mine.at(-1)!.Data;
    expect(last).toMatchObject({
      orderNo: id,
      txnType: 'S',
      product: 'C',
      orderType: 'MKT',
      tradedQty: 12,
      remainingQuantity: 0,
      exchange: 'NSE',
      segment: 'E',
      securityId: '2885',
    });
    expect(last.avgTradedPrice).toEqual(expect.any(Number));
    expect(last).not.toHaveProperty('OrderNo');
  });

  it('accepts MsgCode as a string and can speak the documented PascalCase', async () => {
    sim.orderUpdates.setKeyCase('pascal');
    const client = await login('42');
    const id = await placeOrder(5);
    await client.untilStatus('Traded');
    const last = client.alerts.filter((a) => a.Data.OrderNo === id).at(-1)!.Data;
    expect(last).toMatchObject({ OrderNo: id, Status: 'Traded', TxnType: 'S' });
  });

  it('closes a socket whose login is wrong', async () => {
    const client = await login(42, 'wrong');
    expect(sim.orderUpdates.sessionCount()).toBe(0);
    expect(await client.closed).toBe(4001);
    expect(sim.orderUpdates.stats.loginFailures).toBe(1);
  });

  it('fault hook: drops live sockets and refuses handshakes with 503 until turned off', async () => {
    const client = await login(42);
    sim.orderUpdates.refuseConnections(true);
    expect(sim.orderUpdates.dropConnections()).toBe(1);
    expect(await client.closed).toBe(1006);
    expect(sim.orderUpdates.sessionCount()).toBe(0);

    const refused = new WebSocket(urls.orderUpdateUrl);
    refused.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    });
    refused.terminate();
    expect(status).toBe(503);
    expect(sim.orderUpdates.stats.refusedHandshakes).toBe(1);

    sim.orderUpdates.refuseConnections(false);
    const again = await login(42);
    expect(sim.orderUpdates.sessionCount(sim.credentials.clientId)).toBe(1);
    const id = await placeOrder(5);
    await again.untilStatus('Traded');
    expect(again.alerts.some((a) => a.Data.orderNo === id)).toBe(true);
  });
});
