import { DEFAULT_RISK_LIMITS, validateRiskLimits } from './risk-limits';

describe('risk limits', () => {
  it('accepts the defaults', () => {
    expect(validateRiskLimits(DEFAULT_RISK_LIMITS)).toEqual([]);
  });

  it('names each bad limit', () => {
    const problems = validateRiskLimits({
      ...DEFAULT_RISK_LIMITS,
      maxOrderValuePaise: 10.5,
      rateWindowMs: 0,
      freezePolicy: 'MAYBE' as 'SLICE',
      margin: { ...DEFAULT_RISK_LIMITS.margin, futuresBps: -1 },
    });
    expect(problems).toEqual([
      'maxOrderValuePaise must be a whole number >= 0',
      'rateWindowMs must be above 0',
      'freezePolicy must be SLICE or DENY',
      'margin.futuresBps must be a whole number >= 0',
    ]);
  });
});
