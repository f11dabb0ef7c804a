import { RiskEngine } from '../risk-engine';
import { RiskDenialCode } from '../risk.types';
import { NOW, aContext, anOrder } from '../__tests__/factories';

describe('scenario: orders per user are limited in a sliding window, denied not queued', () => {
  function setup() {
    let now = NOW;
    const engine = new RiskEngine({ now: () => now });
    const ctx = () => aContext({ now, limits: { maxOrdersPerWindow: 3, rateWindowMs: 1_000 } });
    return { engine, ctx, advance: (ms: number) => (now += ms) };
  }

  it('denies the fourth order within one second with RATE_LIMIT', () => {
    const { engine, ctx, advance } = setup();
    for (let i = 0; i < 3; i++) {
      expect(engine.check(anOrder(), ctx()).pass).toBe(true);
      advance(100);
    }
    expect(engine.check(anOrder(), ctx())).toMatchObject({
      pass: false,
      code: RiskDenialCode.RATE_LIMIT,
    });
  });

  it('passes again once the oldest order leaves the window', () => {
    const { engine, ctx, advance } = setup();
    for (let i = 0; i < 3; i++) engine.check(anOrder(), ctx());
    advance(999);
    expect(engine.check(anOrder(), ctx()).pass).toBe(false);
    advance(1);
    expect(engine.check(anOrder(), ctx()).pass).toBe(true);
  });

  it('counts each user separately', () => {
    const { engine, ctx } = setup();
    for (let i = 0; i < 3; i++) engine.check(anOrder({ userId: 'a' }), ctx());
    expect(engine.check(anOrder({ userId: 'b' }), ctx()).pass).toBe(true);
    expect(engine.check(anOrder({ userId: 'a' }), ctx()).pass).toBe(false);
  });

  it('does not count denied orders against the window', () => {
    const { engine, ctx } = setup();
    for (let i = 0; i < 5; i++) engine.check(anOrder({ quantity: 0 }), ctx());
    expect(engine.check(anOrder(), ctx()).pass).toBe(true);
  });

  it('passes a cancel at the limit', () => {
    const { engine, ctx } = setup();
    for (let i = 0; i < 3; i++) engine.check(anOrder(), ctx());
    expect(engine.check(anOrder({ action: 'CANCEL' }), ctx()).pass).toBe(true);
  });
});
