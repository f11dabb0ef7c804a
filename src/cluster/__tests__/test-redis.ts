import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Suites that need Redis run when TEST_REDIS_URL is set (CI sets it) and are skipped only when
 * it is not; set but unreachable, connecting fails the suite.
 */
export const describeWithRedis = process.env.TEST_REDIS_URL ? describe : describe.skip;

/** A connected client on TEST_REDIS_URL; rejects (fails the suite) if it does not answer. */
export async function connectTestRedis(): Promise<Redis> {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set');
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5_000,
  });
  redis.on('error', () => undefined);
  await redis.connect();
  await redis.ping();
  return redis;
}

/** A key no other test or run uses. */
export function uniqueKey(name: string): string {
  return `test:${name}:${randomBytes(6).toString('hex')}`;
}
