import fc from 'fast-check';
import { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { ExchangeSegment } from '../types';
import { ManualClock } from '../util/clock';
import { OrderUpdateConnection } from './order-update-connection';
import { normaliseOrderStatus, OrderUpdate, parseOrderUpdateMessage } from './order-update.parser';

// Shape seen on the wire (DhanHQ v2: order-update payloads as seen): camelCase keys, Title-case status.
const CAMEL = {
  type: 'order_alert',
  data: {
    exchange: 'NSE',
    segment: 'D',
    source: 'P',
    securityId: '52175',
    clientId: '1000000001',
    exchOrderNo: '1400000012345678',
    orderNo: '2125112512345',
    product: 'I',
    txnType: 'S',
    orderType: 'LMT',
    validity: 'DAY',
    quantity: 130,
    tradedQty: 65,
    remainingQuantity: 65,
    price: 101.5,
    triggerPrice: 0,
    tradedPrice: 101.5,
    avgTradedPrice: 101.5,
    status: 'Part_Traded',
    symbol: 'NIFTY',
    displayName: 'NIFTY 30 DEC 24000 CALL',
    correlationId: 'ord-42',
    legNo: 1,
    lastUpdatedTime: '2026-11-25 11:30:01',
  },
};

// Shape in the docs (DhanHQ v2: order-update socket): PascalCase keys, upper-case status, numbers as strings.
const PASCAL = {
  Type: 'order_alert',
  Data: {
    Exchange: 'BSE',
    Segment: 'E',
    SecurityId: '500325',
    OrderNo: '1125112599999',
    Product: 'C',
    TxnType: 'B',
    OrderType: 'SLM',
    Validity: 'IOC',
    Quantity: '10',
    TradedQty: '0',
    Price: '0',
    TriggerPrice: '1450.05',
    Status: 'PENDING',
    ReasonDescription: 'CONFIRMED',
    CorrelationId: 'abc_1',
  },
};

describe('parseOrderUpdateMessage', () => {
  it('reads the camelCase wire payload with a Title-case status', () => {
    const r = parseOrderUpdateMessage(JSON.stringify(CAMEL));
    expect(r.kind).toBe('update');
    const u = (r as { update: OrderUpdate }).update;
    expect(u).toMatchObject({
      orderNo: '2125112512345',
      exchOrderNo: '1400000012345678',
      correlationId: 'ord-42',
      securityId: '52175',
      exchangeSegment: ExchangeSegment.NSE_FNO,
      productType: 'INTRADAY',
      transactionType: 'SELL',
      orderType: 'LIMIT',
      validity: 'DAY',
      status: 'PART_TRADED',
      rawStatus: 'Part_Traded',
      quantity: 130,
      tradedQty: 65,
      remainingQuantity: 65,
      avgTradedPrice: 101.5,
      legNo: 1,
    });
    expect(u.raw).toMatchObject({ orderNo: '2125112512345', txnType: 'S' });
  });

  it('reads the PascalCase documented payload with an upper-case status and string numbers', () => {
    const r = parseOrderUpdateMessage(JSON.stringify(PASCAL));
    expect(r).toMatchObject({
      kind: 'update',
      update: {
        orderNo: '1125112599999',
        exchangeSegment: ExchangeSegment.BSE_EQ,
        productType: 'CNC',
        transactionType: 'BUY',
        orderType: 'STOP_LOSS_MARKET',
        validity: 'IOC',
        status: 'PENDING',
        quantity: 10,
        tradedQty: 0,
        triggerPrice: 1450.05,
        correlationId: 'abc_1',
      },
    });
  });

  it.each([
    ['Traded', 'TRADED'],
    ['TRADED', 'TRADED'],
    ['Pending', 'PENDING'],
    ['Transit', 'TRANSIT'],
    ['Cancelled', 'CANCELLED'],
    ['Rejected', 'REJECTED'],
    ['Expired', 'EXPIRED'],
    ['Part Traded', 'PART_TRADED'],
    ['PART_TRADED', 'PART_TRADED'],
  ])('maps status %s to %s', (raw, expected) => {
    expect(normaliseOrderStatus(raw)).toBe(expected);
  });

  it.each([
    ['V', 'CO'],
    ['B', 'BO'],
    ['M', 'MARGIN'],
    ['F', 'MTF'],
  ])('maps product letter %s to %s', (letter, product) => {
    const r = parseOrderUpdateMessage(
      JSON.stringify({ Type: 'order_alert', Data: { ...PASCAL.Data, Product: letter } }),
    );
    expect(r).toMatchObject({ kind: 'update', update: { productType: product } });
  });

  it('flags malformed input and ignores other message types', () => {
    expect(parseOrderUpdateMessage('{not json').kind).toBe('malformed');
    expect(parseOrderUpdateMessage('[1,2]').kind).toBe('malformed');
    expect(parseOrderUpdateMessage('{"Type":"order_alert"}').kind).toBe('malformed');
    expect(parseOrderUpdateMessage('{"Type":"order_alert","Data":{"Status":"Pending"}}').kind).toBe(
      'malformed',
    );
    expect(parseOrderUpdateMessage('{"type":"login_ack","data":{}}')).toEqual({
      kind: 'ignored',
      type: 'login_ack',
    });
  });
});

describe('OrderUpdateConnection against a tiny ws server', () => {
  let wss: WebSocketServer;
  let conn: OrderUpdateConnection | undefined;

  beforeEach(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  });
  afterEach(async () => {
    await conn?.stop();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  it('logs in with MsgCode 42 as an integer, emits updates, counts malformed messages and reconnects with a fresh token', async () => {
    const clock = new ManualClock(0);
    let n = 0;
    conn = new OrderUpdateConnection({
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
      clientId: '1000000001',
      token: () => `jwt-${++n}`,
      clock,
      pingIntervalMs: 0,
      backoff: { random: () => 0.5 },
    });
    const logins: unknown[] = [];
    const sockets: WebSocket[] = [];
    const loggedIn: Array<() => void> = [];
    wss.on('connection', (s: WebSocket) => {
      sockets.push(s);
      s.on('message', (d) => {
        logins.push(JSON.parse(String(d)));
        loggedIn.shift()?.();
      });
    });
    const firstLogin = new Promise<void>((r) => loggedIn.push(r));
    conn.start();
    await firstLogin;
    expect(logins[0]).toEqual({
      LoginReq: { MsgCode: 42, ClientId: '1000000001', Token: 'jwt-1' },
      UserType: 'SELF',
    });
    expect(JSON.stringify(logins[0])).toContain('"MsgCode":42');

    const updates: OrderUpdate[] = [];
    const got = new Promise<void>((resolve) =>
      conn?.on('update', (u) => {
        updates.push(u);
        if (updates.length === 2) resolve();
      }),
    );
    sockets[0].send('garbage{');
    sockets[0].send(JSON.stringify(CAMEL));
    sockets[0].send(JSON.stringify(PASCAL));
    await got;
    expect(updates.map((u) => u.status)).toEqual(['PART_TRADED', 'PENDING']);
    expect(conn.getStats()).toMatchObject({ messages: 3, updates: 2, malformed: 1 });

    const disconnected = new Promise<void>((r) => conn?.once('disconnected', () => r()));
    sockets[0].terminate();
    await disconnected;
    expect(clock.pending()).toEqual([500]);
    const secondLogin = new Promise<void>((r) => loggedIn.push(r));
    clock.advance(500);
    await secondLogin;
    expect(logins[1]).toMatchObject({ LoginReq: { Token: 'jwt-2' } });
    expect(conn.getStats().reconnects).toBe(1);
  });
});

describe('parseOrderUpdateMessage properties', () => {
  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ Type: 'order_alert', Data: v })),
        ),
        (text) => {
          const r = parseOrderUpdateMessage(text);
          expect(['update', 'ignored', 'malformed']).toContain(r.kind);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
