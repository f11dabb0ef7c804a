import { ReadinessRegistry } from './readiness.registry';

describe('ReadinessRegistry', () => {
  it('is ready with no checks and when every check passes', async () => {
    const registry = new ReadinessRegistry();
    expect(await registry.report()).toEqual({ ready: true, info: {}, checks: {}, details: {} });
    registry.register('database', async () => undefined);
    registry.register('feed', async () => true);
    expect(await registry.report()).toEqual({
      ready: true,
      info: {},
      checks: { database: 'up', feed: 'up' },
      details: {},
    });
  });

  it('is not ready when a check throws or answers false, and names it', async () => {
    const registry = new ReadinessRegistry();
    registry.register('database', async () => undefined);
    registry.register('redis', async () => {
      throw new Error('ECONNREFUSED');
    });
    registry.register('feed', async () => false);
    expect(await registry.report()).toEqual({
      ready: false,
      info: {},
      checks: { database: 'up', redis: 'down', feed: 'down' },
      details: { redis: { reason: 'ECONNREFUSED', since: null } },
    });
  });

  it('reports described facts under info without making them checks', async () => {
    const registry = new ReadinessRegistry();
    let role = 'FOLLOWER';
    registry.describe('role', () => role);
    expect(await registry.report()).toEqual({
      ready: true,
      info: { role: 'FOLLOWER' },
      checks: {},
      details: {},
    });
    role = 'LEADER';
    expect((await registry.report()).info).toEqual({ role: 'LEADER' });
  });

  it("carries a verdict's reason and since when", async () => {
    const registry = new ReadinessRegistry();
    registry.register('broker-token', async () => ({
      up: false,
      reason: 'DhanHQ refused the access token: feed disconnect 807',
      since: Date.UTC(2026, 11, 7, 3, 30),
    }));
    registry.register('feed', async () => ({ up: true }));
    expect(await registry.report()).toEqual({
      ready: false,
      info: {},
      checks: { 'broker-token': 'down', feed: 'up' },
      details: {
        'broker-token': {
          reason: 'DhanHQ refused the access token: feed disconnect 807',
          since: '2026-12-07T03:30:00.000Z',
        },
      },
    });
  });

  it('counts a check that never answers as down instead of hanging', async () => {
    jest.useFakeTimers();
    try {
      const registry = new ReadinessRegistry();
      registry.register('stuck', () => new Promise<void>(() => undefined));
      const report = registry.report();
      await jest.advanceTimersByTimeAsync(2_000);
      expect(await report).toEqual({
        ready: false,
        info: {},
        checks: { stuck: 'down' },
        details: { stuck: { reason: 'check timed out', since: null } },
      });
    } finally {
      jest.useRealTimers();
    }
  });
});
