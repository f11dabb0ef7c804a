import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SendLimit } from './send-window';

/**
 * Takes one send in every window of a reserve, or says how long to wait. Per window two sorted
 * sets: `:c` the committed sends scored by the time they count from, `:p` the pending ones
 * (granted, not answered yet) scored by the time they lapse. Redis' own TIME is the clock, so
 * instances' clocks never meet. ARGV: member, pending lapse ms, poll ms, then limit and span
 * per window; KEYS: committed and pending set per window. Returns 0 (taken) or the wait in ms.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local member = ARGV[1]
local lapse = tonumber(ARGV[2])
local poll = tonumber(ARGV[3])
local n = #KEYS / 2
local wait = 0
for i = 1, n do
  local c, p = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, span = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', c, '-inf', now - span)
  redis.call('ZREMRANGEBYSCORE', p, '-inf', now)
  local nc, np = redis.call('ZCARD', c), redis.call('ZCARD', p)
  if nc + np >= limit then
    local leave = nc + np - limit + 1
    local w
    if leave <= nc then
      local e = redis.call('ZRANGE', c, leave - 1, leave - 1, 'WITHSCORES')
      w = tonumber(e[2]) + span - now
    else
      local e = redis.call('ZRANGE', p, 0, 0, 'WITHSCORES')
      w = math.min(poll, tonumber(e[2]) - now)
    end
    if w < 1 then w = 1 end
    if w > wait then wait = w end
  end
end
if wait > 0 then return math.ceil(wait) end
for i = 1, n do
  redis.call('ZADD', KEYS[2 * i], now + lapse, member)
  redis.call('PEXPIRE', KEYS[2 * i], math.ceil(lapse) + 1000)
end
return 0
`;

/**
 * Records sends: each entry is a member and either its age in ms (a send made that long ago:
 * it leaves the pending set and counts from then) or -1 (a send granted and not answered yet:
 * pending, lapsing after the bound). ARGV: entry count m, pending lapse ms, the span per window,
 * then m pairs (member, age). KEYS as RESERVE's.
 */
const RECORD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local m = tonumber(ARGV[1])
local lapse = tonumber(ARGV[2])
local n = #KEYS / 2
local base = 2 + n
for j = 1, m do
  local member = ARGV[base + 2 * j - 1]
  local age = tonumber(ARGV[base + 2 * j])
  for i = 1, n do
    local c, p = KEYS[2 * i - 1], KEYS[2 * i]
    local span = tonumber(ARGV[2 + i])
    if age < 0 then
      redis.call('ZADD', p, now + lapse, member)
      redis.call('PEXPIRE', p, math.ceil(lapse) + 1000)
    else
      redis.call('ZREM', p, member)
      if now - age > now - span then
        redis.call('ZADD', c, now - age, member)
        redis.call('PEXPIRE', c, math.ceil(span))
      end
    end
  end
end
return m
`;

/** A reserve that will not be sent: its pending entries go. ARGV: member. */
const RELEASE = `
for i = 1, #KEYS / 2 do redis.call('ZREM', KEYS[2 * i], ARGV[1]) end
return 1
`;

/**
 * An instance says it is alive: KEYS[1] the set of instances scored by their last word (Redis
 * TIME). ARGV: instance, live ms, since-age ms. Returns the live instances and how many of them
 * spoke within the last since-age ms.
 */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local live = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - live)
redis.call('PEXPIRE', KEYS[1], math.ceil(live) + 1000)
return { redis.call('ZCARD', KEYS[1]), redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[3]), '+inf') }
`;

class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** EVALSHA, loading the script on NOSCRIPT (a restarted Redis has lost it). */
  async run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

const SCRIPTS = {
  reserve: new Script(RESERVE),
  record: new Script(RECORD),
  release: new Script(RELEASE),
  heartbeat: new Script(HEARTBEAT),
};

export interface SharedSendWindowsOptions {
  /** Key prefix of every window. */
  prefix: string;
  /** The allowance per exchange segment. */
  perSegment: readonly SendLimit[];
  /** The broker account's limits over all segments. */
  account: readonly SendLimit[];
  /** Added to every window, as the local windows do. */
  guardMs: number;
  /** A pending send lapses by itself after this long (its instance may have died). */
  pendingLapseMs: number;
  /** The wait a refused reserve returns while only pending sends fill a window. */
  pollMs: number;
}

/** A send to record: made `ageMs` ago, or (ageMs -1) granted and not answered yet. */
export interface RecordedSend {
  member: string;
  ageMs: number;
}

/**
 * The sliding send windows of the firm's order budget on Redis, one set for every instance
 * sharing the broker account: per segment and per account limit, each reserve, commit and
 * release atomic in one script on Redis' clock. Framework-free; the caller owns the connection.
 */
export class SharedSendWindows {
  private readonly accountKeys: string[];
  private readonly segmentKeys = new Map<string, string[]>();
  private readonly limits: SendLimit[];

  constructor(
    private readonly redis: Redis,
    private readonly options: SharedSendWindowsOptions,
  ) {
    this.accountKeys = options.account.flatMap((l, i) =>
      pair(`${options.prefix}:account:${i}:${l.intervalMs}`),
    );
    this.limits = [...options.perSegment, ...options.account];
  }

  /** 0 when one send of `segment` is taken (pending) under `member`, else the ms to wait. */
  async reserve(segment: string, member: string): Promise<number> {
    const args: Array<string | number> = [member, this.options.pendingLapseMs, this.options.pollMs];
    for (const l of this.limits) args.push(l.limit, l.intervalMs + this.options.guardMs);
    return Number(await SCRIPTS.reserve.run(this.redis, this.keys(segment), args));
  }

  /** The reserved send was made now: it counts from now in every window. */
  commit(segment: string, member: string): Promise<void> {
    return this.record(segment, [{ member, ageMs: 0 }]);
  }

  /** Sends this instance made or holds without Redis, told to it afterwards. */
  async record(segment: string, sends: readonly RecordedSend[]): Promise<void> {
    if (sends.length === 0) return;
    const args: Array<string | number> = [sends.length, this.options.pendingLapseMs];
    for (const l of this.limits) args.push(l.intervalMs + this.options.guardMs);
    for (const s of sends) args.push(s.member, Math.max(-1, s.ageMs));
    await SCRIPTS.record.run(this.redis, this.keys(segment), args);
  }

  /** The reserved send will not be made. */
  async release(segment: string, member: string): Promise<void> {
    await SCRIPTS.release.run(this.redis, this.keys(segment), [member]);
  }

  /**
   * `instance` is alive; returns the instances alive (heard within `liveMs`) and how many of
   * them were heard within the last `sinceMs`.
   */
  async heartbeat(
    instance: string,
    liveMs: number,
    sinceMs: number,
  ): Promise<{ live: number; recent: number }> {
    const [live, recent] = (await SCRIPTS.heartbeat.run(
      this.redis,
      [`${this.options.prefix}:instances`],
      [instance, liveMs, sinceMs],
    )) as [number, number];
    return { live: Number(live), recent: Number(recent) };
  }

  /** `instance` is closing: no longer counted. */
  async leave(instance: string): Promise<void> {
    await this.redis.zrem(`${this.options.prefix}:instances`, instance);
  }

  private keys(segment: string): string[] {
    let keys = this.segmentKeys.get(segment);
    if (keys === undefined) {
      keys = [
        ...this.options.perSegment.flatMap((l, i) =>
          pair(`${this.options.prefix}:segment:${segment}:${i}:${l.intervalMs}`),
        ),
        ...this.accountKeys,
      ];
      this.segmentKeys.set(segment, keys);
    }
    return keys;
  }
}

function pair(base: string): [string, string] {
  return [`${base}:c`, `${base}:p`];
}
