import type { Redis } from 'ioredis';
import type { ResolvedAppConfig } from '../config/app-config';
import { ReadinessRegistry } from '../health/readiness.registry';
import { ClusterRedis } from './cluster-redis';
import { connectTestRedis, describeWithRedis, uniqueKey } from './__tests__/test-redis';

const INSTANCES = 12;
const CHANNELS_EACH = 6;

function clusterRedis(): ClusterRedis {
  const config = {
    redis: { url: process.env.TEST_REDIS_URL, leaderLockTtlMs: 3_000 },
  } as unknown as ResolvedAppConfig;
  return new ClusterRedis(config, new ReadinessRegistry());
}

describeWithRedis('ClusterRedis subscriptions (real Redis)', () => {
  let probe: Redis;
  const instances: ClusterRedis[] = [];

  beforeAll(async () => {
    probe = await connectTestRedis();
  });

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.onApplicationShutdown()));
    await probe?.quit();
  });

  it('keeps every subscription asked for while the connection is still connecting, as an instance does at boot', async () => {
    const received = new Map<string, string[]>();
    const heard: Array<Promise<void>> = [];
    const channels: string[] = [];
    const asked: Array<Promise<void>> = [];
    for (let i = 0; i < INSTANCES; i++) {
      // As the relays do at boot: the first subscription makes the pub/sub connection, the
      // others come while it connects (its handshake takes a few milliseconds), one per ms.
      const instance = clusterRedis();
      instances.push(instance);
      for (let c = 0; c < CHANNELS_EACH; c++) {
        const channel = uniqueKey(`sub-${i}-${c}`);
        channels.push(channel);
        const messages: string[] = [];
        received.set(channel, messages);
        let hear!: () => void;
        heard.push(new Promise<void>((resolve) => (hear = resolve)));
        const subscribe = () =>
          instance.subscribe(channel, (message) => {
            messages.push(message);
            hear();
          });
        if (c === 0) subscribe();
        else
          asked.push(new Promise<void>((r) => setTimeout(() => r(subscribe()), c * 2 + (i % 3))));
      }
    }
    await Promise.all(asked);
    // Every channel gets its subscriber (bounded: a subscription lost never comes).
    const deadline = Date.now() + 15_000;
    let missing = channels;
    while (missing.length > 0 && Date.now() < deadline) {
      const counts = (await probe.pubsub('NUMSUB', ...channels)) as Array<string | number>;
      const subscribed = new Set<string>();
      for (let k = 0; k < counts.length; k += 2) {
        if (Number(counts[k + 1]) > 0) subscribed.add(String(counts[k]));
      }
      missing = channels.filter((c) => !subscribed.has(c));
      if (missing.length > 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(missing).toEqual([]);
    // And each hears what is published on it, once.
    for (const channel of channels) await probe.publish(channel, `to ${channel}`);
    await Promise.all(heard);
    for (const channel of channels) expect(received.get(channel)).toEqual([`to ${channel}`]);
  });
});
