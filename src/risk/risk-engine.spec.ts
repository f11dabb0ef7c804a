import { Test } from '@nestjs/testing';
import { PASS, RiskDenialCode, TradingState, deny } from './risk.types';
import { RISK_CHECKS, checkFunds, checkTradingState } from './risk-checks';
import { RISK_ENGINE_OPTIONS, RiskEngine } from './risk-engine';
import { NOW, aContext, anOrder, checkOnce } from './__tests__/factories';

describe('RiskEngine', () => {
  it('returns the first denial in check order', () => {
    const ctx = aContext({ userState: TradingState.HALTED, balancePaise: 0 });
    expect(checkOnce(anOrder({ quantity: 0 }), ctx)).toMatchObject({
      code: RiskDenialCode.TRADING_HALTED,
    });
  });

  it('runs trading state first and funds last', () => {
    expect(RISK_CHECKS[0]).toBe(checkTradingState);
    expect(RISK_CHECKS[RISK_CHECKS.length - 1]).toBe(checkFunds);
  });

  it('reserves nothing and records no rate when a check denies', () => {
    const calls: string[] = [];
    const engine = new RiskEngine({
      now: () => NOW,
      checks: [
        () => PASS,
        () => deny(RiskDenialCode.MAX_OPEN_ORDERS, 'no'),
        () => (calls.push('late'), PASS),
      ],
    });
    const ctx = aContext();
    expect(engine.check(anOrder(), ctx)).toMatchObject({
      pass: false,
      code: RiskDenialCode.MAX_OPEN_ORDERS,
    });
    expect(calls).toEqual([]);
    expect(ctx.funds.snapshot().reservedPaise).toBe(0);
  });

  it('can be built by Nest with or without options', async () => {
    const plain = await Test.createTestingModule({ providers: [RiskEngine] }).compile();
    expect(plain.get(RiskEngine).check(anOrder(), aContext()).pass).toBe(true);
    const configured = await Test.createTestingModule({
      providers: [RiskEngine, { provide: RISK_ENGINE_OPTIONS, useValue: { now: () => NOW } }],
    }).compile();
    expect(configured.get(RiskEngine).check(anOrder({ action: 'CANCEL' }), aContext()).pass).toBe(
      true,
    );
  });
});
