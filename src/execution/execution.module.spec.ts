import type { ResolvedAppConfig } from '../config/app-config';
import type { DhanEndpoints } from '../dhan/dhan-endpoints';
import { chooseGateway } from './execution.module';

const config = (mode: 'paper' | 'live') => ({ execution: { mode } }) as ResolvedAppConfig;
const endpoints = (mode: 'simulator' | 'live') => ({ mode }) as DhanEndpoints;

describe('gateway choice', () => {
  it('the embedded simulator always gets the DhanHQ gateway, whatever EXECUTION_MODE says', () => {
    expect(chooseGateway(config('paper'), endpoints('simulator'))).toBe('dhan');
    expect(chooseGateway(config('live'), endpoints('simulator'))).toBe('dhan');
  });

  it('with live market data EXECUTION_MODE decides: live -> DhanHQ, paper -> paper', () => {
    expect(chooseGateway(config('live'), endpoints('live'))).toBe('dhan');
    expect(chooseGateway(config('paper'), endpoints('live'))).toBe('paper');
  });
});
