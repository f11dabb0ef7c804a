import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import { Redis } from 'ioredis';
import { describeWithRedis } from './__tests__/test-redis';
import { LeaderElection } from './leader-election';

/** A free TCP port on 127.0.0.1 (for a Redis of this test's own). */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** redis-server (the one CI starts) on `port`, no persistence; resolves once it accepts. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return child;
}

// Runs with the Redis suites (TEST_REDIS_URL set: CI, where redis-server is installed), on a
// redis-server of its own that it can stop and start again.
describeWithRedis('LeaderElection across a Redis restart (own redis-server)', () => {
  let port: number;
  let redisProcess: ChildProcess | undefined;
  let client: Redis;
  let election: LeaderElection;
  let t = 0;

  beforeAll(async () => {
    port = await freePort();
    redisProcess = await startRedis(port);
    // As ClusterRedis connects: commands fail fast while Redis is away, reconnects forever.
    client = new Redis({
      port,
      host: '127.0.0.1',
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      retryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    election = new LeaderElection({
      redis: client,
      key: 'terminal:leader',
      ttlMs: 1_000,
      owner: 'a',
      intervalMs: 0,
      now: () => t,
    });
  });

  afterAll(async () => {
    await election?.stop();
    client?.disconnect();
    redisProcess?.kill('SIGKILL');
  });

  it('steps down when Redis is gone past the lease, and leads again once Redis is back', async () => {
    await election.start();
    expect(election.isLeader()).toBe(true);

    const exited = once(redisProcess!, 'exit');
    redisProcess!.kill('SIGKILL');
    await exited;
    // Rounds fail while Redis is away; the lease still runs, then it is over.
    t += 500;
    await election.tick();
    expect(election.isLeader()).toBe(true);
    const lost = once(election, 'lost');
    t += 1_000;
    await election.tick();
    expect(await lost).toEqual(['lease ran out']);
    expect(await election.confirm()).toBe(false);

    redisProcess = await startRedis(port);
    if (client.status !== 'ready') await once(client, 'ready');
    const acquired = once(election, 'acquired');
    await election.tick();
    // Redis lost its data: the counter starts again; the lock's value (owner and number) is
    // what the fencing check compares, so it still tells holders apart.
    expect(await acquired).toEqual([1]);
    expect(election.isLeader()).toBe(true);
    expect(await election.confirm()).toBe(true);
  }, 30_000);
});
