import type { IssuedToken } from '@app/dhan';
import { BrokerToken } from './broker-token';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

function aToken(renew: jest.Mock<Promise<IssuedToken>>) {
  return new BrokerToken({
    token: 'day-token',
    source: 'environment',
    clientId: '1000000001',
    apiUrl: 'http://127.0.0.1:1/v2',
    authUrl: 'http://127.0.0.1:1',
    renewBeforeMs: 60_000,
    retryMs: 3_600_000,
    logger: silent,
    renew,
  });
}

describe('BrokerToken renewal gate (several instances: the leader alone renews)', () => {
  it('asks DhanHQ for nothing while the gate is shut, and renews once it opens', async () => {
    const renew = jest.fn(async () => ({ accessToken: 'renewed', expiresAt: Date.now() + 1e6 }));
    const token = aToken(renew);
    token.start();
    let leads = false;
    token.gateRenewal(() => leads);
    await token.renewNow();
    expect(renew).not.toHaveBeenCalled();
    expect(token.current()).toBe('day-token');

    leads = true;
    await token.renewNow();
    expect(renew).toHaveBeenCalledTimes(1);
    expect(token.current()).toBe('renewed');
    expect(token.status().source).toBe('renewal');
    token.stop();
  });
});
