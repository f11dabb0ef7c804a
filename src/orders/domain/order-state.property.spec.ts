import fc from 'fast-check';
import { BrokerStatus, OrderStatus } from '../../trading/order-status';
import {
  MAX_MODIFICATIONS,
  OrderState,
  STATUS_EDGES,
  newOrderState,
  transition,
} from './order-state';
import { OrderEvent } from '../../trading/order-events';

const brokerStatus: fc.Arbitrary<BrokerStatus> = fc.constantFrom(
  OrderStatus.TRANSIT,
  OrderStatus.PENDING,
  OrderStatus.PART_TRADED,
  OrderStatus.TRADED,
  OrderStatus.CANCELLED,
  OrderStatus.REJECTED,
  OrderStatus.EXPIRED,
);
const qty = fc.integer({ min: -1, max: 25 });
const price = fc.constantFrom(99.95, 100, 100.05, 0, -1, 100.001);
const tradeId = fc.constantFrom('T1', 'T2', 'T3', 'T4', 'T5', 'T6');

/** Anything the broker, the gateway or a user could throw at an order, valid or not. */
const anyEvent: fc.Arbitrary<OrderEvent> = fc.oneof(
  fc.constant<OrderEvent>({ type: 'RISK_APPROVED' }),
  fc.constant<OrderEvent>({ type: 'RISK_DENIED', code: 'RATE_LIMIT' }),
  fc.constant<OrderEvent>({ type: 'SENT' }),
  fc.constant<OrderEvent>({ type: 'QUEUED' }),
  fc.constant<OrderEvent>({ type: 'QUEUE_TIMEOUT', reason: 'QUEUE_TIMEOUT: waited' }),
  fc.record({
    type: fc.constant('ACKNOWLEDGED' as const),
    brokerOrderId: fc.constantFrom('B1', 'B2'),
    status: fc.option(brokerStatus, { nil: undefined }),
  }),
  fc.record({
    type: fc.constant('BROKER_UPDATE' as const),
    status: brokerStatus,
    filledQuantity: fc.option(qty, { nil: undefined }),
    quantity: fc.option(qty, { nil: undefined }),
    averagePrice: fc.option(price, { nil: undefined }),
  }),
  fc.record({
    type: fc.constant('FILL' as const),
    tradeId,
    quantity: qty,
    price,
    brokerStatus: fc.option(brokerStatus, { nil: undefined }),
  }),
  fc.constant<OrderEvent>({ type: 'AMBIGUOUS', cause: 'timeout' }),
  fc.constant<OrderEvent>({ type: 'RESOLVED_NOT_FOUND' }),
  fc.record({ type: fc.constant('MODIFY_REQUESTED' as const), quantity: qty }),
  fc.constant<OrderEvent>({ type: 'MODIFY_ACKED' }),
  fc.constant<OrderEvent>({ type: 'MODIFY_REJECTED', reason: 'no' }),
  fc.constant<OrderEvent>({ type: 'CANCEL_REQUESTED' }),
  fc.constant<OrderEvent>({ type: 'CANCEL_ACKED' }),
  fc.constant<OrderEvent>({ type: 'CANCEL_REJECTED', reason: 'no' }),
);

function deepFreeze(state: OrderState): OrderState {
  Object.freeze(state.tradeIds);
  if (state.pendingModify) Object.freeze(state.pendingModify);
  return Object.freeze(state);
}

/** Invariants of one state on its own. */
function assertLegalState(s: OrderState): void {
  expect(Number.isSafeInteger(s.quantity) && s.quantity > 0).toBe(true);
  expect(s.filledQuantity).toBeGreaterThanOrEqual(0);
  expect(s.filledQuantity).toBeLessThanOrEqual(s.quantity);
  expect(s.tradedQuantity).toBeLessThanOrEqual(s.filledQuantity);
  expect(s.brokerFilledQuantity).toBeLessThanOrEqual(s.filledQuantity);
  expect(s.filledQuantity).toBe(Math.max(s.tradedQuantity, s.brokerFilledQuantity));
  expect(new Set(s.tradeIds).size).toBe(s.tradeIds.length);
  expect(s.modificationCount).toBeLessThanOrEqual(MAX_MODIFICATIONS);
  if (s.status === OrderStatus.TRADED) expect(s.filledQuantity).toBe(s.quantity);
  if (s.status === OrderStatus.PART_TRADED || s.status === OrderStatus.PENDING) {
    expect(s.filledQuantity).toBeLessThan(s.quantity);
  }
  if (
    s.status === OrderStatus.NEW ||
    s.status === OrderStatus.IN_FLIGHT ||
    s.status === OrderStatus.QUEUED
  ) {
    expect(s.brokerOrderId).toBeUndefined();
  }
}

/** Invariants of one step. */
function assertLegalStep(before: OrderState, after: OrderState): void {
  expect(after.filledQuantity).toBeGreaterThanOrEqual(before.filledQuantity);
  expect(after.modificationCount).toBeGreaterThanOrEqual(before.modificationCount);
  if (after.status !== before.status) {
    expect(STATUS_EDGES[before.status]).toContain(after.status);
  }
  if (before.status === OrderStatus.TRADED || before.status === OrderStatus.REJECTED) {
    expect(after.status).toBe(before.status);
  }
  if (before.status === OrderStatus.CANCELLED || before.status === OrderStatus.EXPIRED) {
    expect([before.status, OrderStatus.TRADED]).toContain(after.status);
  }
}

/** Statuses reached across all runs: proves the generators get past the first steps. */
const reached = new Set<OrderStatus>();

function run(start: OrderState, events: readonly OrderEvent[]): void {
  let state = deepFreeze(start);
  for (const event of events) {
    const result = transition(state, event);
    if (result.kind === 'ILLEGAL') {
      expect(result.illegal.from).toBe(state.status);
      expect(result.illegal.reason.length).toBeGreaterThan(0);
      continue;
    }
    if (result.kind === 'IGNORED') {
      expect(result.state).toBe(state);
      continue;
    }
    expect(result.from).toBe(state.status);
    expect(result.to).toBe(result.state.status);
    assertLegalState(result.state);
    assertLegalStep(state, result.state);
    state = deepFreeze(result.state);
    reached.add(state.status);
  }
}

describe('order state machine properties', () => {
  it('random event sequences from NEW never reach an illegal state', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(anyEvent, { maxLength: 60 }),
        (quantity, events) => {
          run(newOrderState(quantity), events);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('random broker events on a sent order never overfill and keep terminal states terminal', () => {
    const brokerOnly = anyEvent.filter(
      (e) => e.type !== 'RISK_APPROVED' && e.type !== 'RISK_DENIED',
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(brokerOnly, { maxLength: 80 }),
        (quantity, events) => {
          const approved = transition(newOrderState(quantity), { type: 'RISK_APPROVED' });
          if (approved.kind !== 'APPLIED') throw new Error('approval must apply');
          run(approved.state, [{ type: 'SENT' }, ...events]);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  afterAll(() => {
    expect([...reached].sort()).toEqual(
      Object.values(OrderStatus)
        .filter((s) => s !== 'NEW')
        .sort(),
    );
  });
});
