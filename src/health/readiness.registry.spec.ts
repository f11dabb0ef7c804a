import { ReadinessRegistry } from './readiness.registry';

describe('ReadinessRegistry', () => {
  it('is ready with no checks and when every check passes', async () => {
    const registry = new ReadinessRegistry();
    expect(await registry.report()).toEqual({ ready: true, checks: {} });
    registry.register('database', async () => undefined);
    registry.register('feed', async () => true);
    expect(await registry.report()).toEqual({
      ready: true,
      checks: { database: 'up', feed: 'up' },
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
      checks: { database: 'up', redis: 'down', feed: 'down' },
    });
  });

  it('counts a check that never answers as down instead of hanging', async () => {
    jest.useFakeTimers();
    try {
      const registry = new ReadinessRegistry();
      registry.register('stuck', () => new Promise<void>(() => undefined));
      const report = registry.report();
      await jest.advanceTimersByTimeAsync(2_000);
      expect(await report).toEqual({ ready: false, checks: { stuck: 'down' } });
    } finally {
      jest.useRealTimers();
    }
  });
});
