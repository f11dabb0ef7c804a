import { anOrderState, afterEvents } from './__tests__/factories';
import { MAX_MODIFICATIONS, averagePrice, newOrderState, transition } from './order-state';
import { OrderStatus, parseBrokerStatus } from '../../trading/order-status';

describe('order state machine', () => {
  it('walks place -> risk approved -> sent -> TRANSIT -> PENDING -> PART_TRADED -> TRADED', () => {
    const state = afterEvents(newOrderState(10), [
      { type: 'RISK_APPROVED' },
      { type: 'SENT' },
      { type: 'ACKNOWLEDGED', brokerOrderId: 'B1', status: OrderStatus.TRANSIT },
      { type: 'BROKER_UPDATE', status: OrderStatus.PENDING },
      { type: 'FILL', tradeId: 'T1', quantity: 4, price: 100.05 },
      { type: 'FILL', tradeId: 'T2', quantity: 6, price: 100.1 },
    ]);
    expect(state).toMatchObject({
      status: OrderStatus.TRADED,
      filledQuantity: 10,
      brokerOrderId: 'B1',
    });
    expect(averagePrice(state)).toBeCloseTo(100.08, 10);
  });

  it('stores a risk denial as REJECTED with the reason code', () => {
    const result = transition(newOrderState(10), {
      type: 'RISK_DENIED',
      code: 'INSUFFICIENT_FUNDS',
    });
    expect(result).toMatchObject({
      kind: 'APPLIED',
      to: OrderStatus.REJECTED,
      state: { rejectionReason: 'INSUFFICIENT_FUNDS' },
    });
  });

  it('moves an ambiguous send to UNKNOWN and back to IN_FLIGHT only when the broker does not know it', () => {
    const unknown = anOrderState(OrderStatus.UNKNOWN);
    const resend = transition(unknown, { type: 'RESOLVED_NOT_FOUND' });
    expect(resend).toMatchObject({ kind: 'APPLIED', to: OrderStatus.IN_FLIGHT });
    const found = transition(unknown, {
      type: 'BROKER_UPDATE',
      status: OrderStatus.PENDING,
      brokerOrderId: 'B9',
    });
    expect(found).toMatchObject({
      kind: 'APPLIED',
      to: OrderStatus.PENDING,
      state: { brokerOrderId: 'B9' },
    });
    expect(transition(anOrderState(OrderStatus.PENDING), { type: 'RESOLVED_NOT_FOUND' }).kind).toBe(
      'ILLEGAL',
    );
  });

  it('ignores a duplicate trade id and refuses an overfill', () => {
    const part = anOrderState(OrderStatus.PART_TRADED);
    expect(transition(part, { type: 'FILL', tradeId: 'T1', quantity: 1, price: 100 }).kind).toBe(
      'IGNORED',
    );
    expect(
      transition(part, { type: 'FILL', tradeId: 'T2', quantity: 10, price: 100 }),
    ).toMatchObject({
      kind: 'ILLEGAL',
      illegal: { from: OrderStatus.PART_TRADED, event: 'FILL' },
    });
  });

  it('counts a broker-reported fill and its trade once, whichever arrives first', () => {
    const pending = anOrderState(OrderStatus.PENDING);
    const statusFirst = afterEvents(pending, [
      { type: 'BROKER_UPDATE', status: OrderStatus.PART_TRADED, filledQuantity: 4 },
      { type: 'FILL', tradeId: 'T1', quantity: 4, price: 100 },
    ]);
    const tradeFirst = afterEvents(pending, [
      { type: 'FILL', tradeId: 'T1', quantity: 4, price: 100 },
    ]);
    expect(statusFirst.filledQuantity).toBe(4);
    expect(tradeFirst.filledQuantity).toBe(4);
    const confirmed = transition(tradeFirst, {
      type: 'BROKER_UPDATE',
      status: OrderStatus.PART_TRADED,
      filledQuantity: 4,
    });
    expect(confirmed).toMatchObject({
      state: { filledQuantity: 4, status: OrderStatus.PART_TRADED },
    });
  });

  it('records trades that arrive after the broker already said TRADED, once, and no overfill', () => {
    const traded = afterEvents(anOrderState(OrderStatus.PENDING), [
      { type: 'BROKER_UPDATE', status: OrderStatus.TRADED, filledQuantity: 10, averagePrice: 101 },
    ]);
    expect(traded).toMatchObject({ status: OrderStatus.TRADED, tradedQuantity: 0 });
    const late = afterEvents(traded, [
      { type: 'FILL', tradeId: 'T1', quantity: 4, price: 100 },
      { type: 'FILL', tradeId: 'T2', quantity: 6, price: 101.5 },
    ]);
    expect(late).toMatchObject({
      status: OrderStatus.TRADED,
      tradedQuantity: 10,
      filledQuantity: 10,
      tradeIds: ['T1', 'T2'],
    });
    expect(averagePrice(late)).toBeCloseTo(100.9, 10);
    expect(transition(late, { type: 'FILL', tradeId: 'T2', quantity: 6, price: 101.5 }).kind).toBe(
      'IGNORED',
    );
    expect(transition(late, { type: 'FILL', tradeId: 'T3', quantity: 1, price: 101 }).kind).toBe(
      'ILLEGAL',
    );
  });

  it('ignores a stale PENDING that arrives after PART_TRADED', () => {
    const part = anOrderState(OrderStatus.PART_TRADED);
    expect(
      transition(part, { type: 'BROKER_UPDATE', status: OrderStatus.PENDING, filledQuantity: 0 })
        .kind,
    ).toBe('IGNORED');
  });

  it('records a late fill on CANCELLED only with the broker saying the order traded', () => {
    const cancelled = anOrderState(OrderStatus.CANCELLED);
    expect(
      transition(cancelled, { type: 'FILL', tradeId: 'T7', quantity: 3, price: 100 }).kind,
    ).toBe('ILLEGAL');
    const late = transition(cancelled, {
      type: 'FILL',
      tradeId: 'T7',
      quantity: 3,
      price: 100,
      brokerStatus: OrderStatus.PART_TRADED,
    });
    expect(late).toMatchObject({
      kind: 'APPLIED',
      to: OrderStatus.CANCELLED,
      state: { filledQuantity: 3 },
    });
    const full = transition(cancelled, {
      type: 'FILL',
      tradeId: 'T8',
      quantity: 10,
      price: 100,
      brokerStatus: OrderStatus.TRADED,
    });
    expect(full).toMatchObject({ kind: 'APPLIED', to: OrderStatus.TRADED });
  });

  it('keeps TRADED and REJECTED final', () => {
    const traded = anOrderState(OrderStatus.TRADED);
    expect(transition(traded, { type: 'BROKER_UPDATE', status: OrderStatus.CANCELLED }).kind).toBe(
      'ILLEGAL',
    );
    expect(transition(traded, { type: 'CANCEL_REQUESTED' }).kind).toBe('ILLEGAL');
    const rejected = anOrderState(OrderStatus.REJECTED);
    expect(
      transition(rejected, {
        type: 'BROKER_UPDATE',
        status: OrderStatus.TRADED,
        filledQuantity: 10,
      }).kind,
    ).toBe('ILLEGAL');
  });

  it('refuses a cancel in TRANSIT, cancels a NEW order locally, and cancels a working order on ack', () => {
    expect(
      transition(anOrderState(OrderStatus.TRANSIT), { type: 'CANCEL_REQUESTED' }),
    ).toMatchObject({
      kind: 'ILLEGAL',
      illegal: { reason: expect.stringMatching(/transit/) },
    });
    expect(transition(newOrderState(5), { type: 'CANCEL_REQUESTED' })).toMatchObject({
      to: OrderStatus.CANCELLED,
    });
    const cancelled = afterEvents(anOrderState(OrderStatus.PART_TRADED), [
      { type: 'CANCEL_REQUESTED' },
      { type: 'CANCEL_ACKED' },
    ]);
    expect(cancelled).toMatchObject({
      status: OrderStatus.CANCELLED,
      pendingCancel: false,
      filledQuantity: 1,
    });
  });

  it(`allows ${MAX_MODIFICATIONS} modifications and refuses the next`, () => {
    let state = anOrderState(OrderStatus.PENDING);
    for (let i = 0; i < MAX_MODIFICATIONS; i++) {
      state = afterEvents(state, [
        { type: 'MODIFY_REQUESTED', quantity: 20 + i },
        { type: 'MODIFY_ACKED' },
      ]);
    }
    expect(state).toMatchObject({
      quantity: 20 + MAX_MODIFICATIONS - 1,
      modificationCount: MAX_MODIFICATIONS,
    });
    expect(transition(state, { type: 'MODIFY_REQUESTED', quantity: 99 })).toMatchObject({
      kind: 'ILLEGAL',
      illegal: { reason: expect.stringMatching(/25 modifications/) },
    });
  });

  it('refuses a modification to no more than the filled quantity', () => {
    expect(
      transition(anOrderState(OrderStatus.PART_TRADED), { type: 'MODIFY_REQUESTED', quantity: 1 })
        .kind,
    ).toBe('ILLEGAL');
  });

  it('never mutates the state it is given', () => {
    const state = Object.freeze(anOrderState(OrderStatus.PENDING));
    const result = transition(state, { type: 'FILL', tradeId: 'T1', quantity: 2, price: 100 });
    expect(result.kind).toBe('APPLIED');
    expect(state.filledQuantity).toBe(0);
  });

  it.each([
    ['Pending', OrderStatus.PENDING],
    ['PART_TRADED', OrderStatus.PART_TRADED],
    ['Traded', OrderStatus.TRADED],
    ['TRIGGERED', OrderStatus.PENDING],
    ['CLOSED', OrderStatus.TRADED],
    ['Cancelled', OrderStatus.CANCELLED],
  ])('reads broker status %s as %s', (raw, status) => {
    expect(parseBrokerStatus(raw)).toBe(status);
  });

  it('returns undefined for an unknown broker status', () => {
    expect(parseBrokerStatus('SOMETHING')).toBeUndefined();
  });
});
