import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  CORRELATION_ID_MAX_LENGTH,
  CORRELATION_ID_PATTERN,
  correlationIdFor,
  orderIdFromCorrelationId,
} from './correlation-id';

describe('correlationId derivation', () => {
  it('is always valid for DhanHQ, deterministic and reversible for UUIDs', () => {
    fc.assert(
      fc.property(fc.uuid(), (uuid) => {
        const id = correlationIdFor(uuid);
        expect(id).toMatch(CORRELATION_ID_PATTERN);
        expect(id.length).toBeLessThanOrEqual(CORRELATION_ID_MAX_LENGTH);
        expect(correlationIdFor(uuid)).toBe(id);
        expect(orderIdFromCorrelationId(id)).toBe(uuid.toLowerCase());
      }),
      { numRuns: 5_000 },
    );
  });

  it('is valid and deterministic for any other string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (orderId) => {
        const id = correlationIdFor(orderId);
        expect(id).toMatch(CORRELATION_ID_PATTERN);
        expect(correlationIdFor(orderId)).toBe(id);
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives distinct ids for 100,000 distinct order ids', () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 50_000; i++) {
      const uuid = randomUUID();
      seen.set(correlationIdFor(uuid), uuid);
      seen.set(correlationIdFor(`order-${i}`), `order-${i}`);
    }
    expect(seen.size).toBe(100_000);
  });

  it('covers the extremes of the UUID range', () => {
    const zero = '00000000-0000-0000-0000-000000000000';
    const max = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
    expect(correlationIdFor(zero)).toBe('0'.repeat(22));
    expect(correlationIdFor(max)).toHaveLength(22);
    expect(orderIdFromCorrelationId(correlationIdFor(max))).toBe(max);
    expect(orderIdFromCorrelationId('not-a-uuid-form')).toBeUndefined();
  });
});
