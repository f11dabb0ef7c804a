import { Injectable } from '@nestjs/common';

/** A check's verdict with the why: what is missing and since when (epoch ms). */
export interface ReadinessVerdict {
  up: boolean;
  reason?: string;
  since?: number;
}

/** Resolves when the dependency is usable; rejects (or returns false) when it is not. */
export type ReadinessCheck = () => Promise<boolean | void | ReadinessVerdict>;

export interface ReadinessReport {
  ready: boolean;
  /** Facts about this instance (e.g. `role`: LEADER or FOLLOWER). */
  info: Record<string, string>;
  checks: Record<string, 'up' | 'down'>;
  /** For each part that is down and says why: the reason and, when known, since when. */
  details: Record<string, { reason: string; since: string | null }>;
}

const CHECK_TIMEOUT_MS = 2_000;

/** Dependencies `/ready` waits for. Modules register theirs (database now; feed, Redis later). */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly facts = new Map<string, () => string>();

  /** A fact `/ready` reports under `info` (not a check: it never makes the instance unready). */
  describe(name: string, fact: () => string): void {
    this.facts.set(name, fact);
  }

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await this.run(check)] as const),
    );
    const checks: Record<string, 'up' | 'down'> = {};
    const details: ReadinessReport['details'] = {};
    for (const [name, verdict] of entries) {
      checks[name] = verdict.up ? 'up' : 'down';
      if (!verdict.up && verdict.reason !== undefined) {
        details[name] = {
          reason: verdict.reason,
          since: verdict.since !== undefined ? new Date(verdict.since).toISOString() : null,
        };
      }
    }
    const info: Record<string, string> = {};
    for (const [name, fact] of this.facts) info[name] = fact();
    return { ready: entries.every(([, v]) => v.up), info, checks, details };
  }

  private async run(check: ReadinessCheck): Promise<ReadinessVerdict> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ReadinessVerdict>((resolve) => {
      timer = setTimeout(() => resolve({ up: false, reason: 'check timed out' }), CHECK_TIMEOUT_MS);
    });
    try {
      return await Promise.race([
        check().then((result) =>
          typeof result === 'object' && result !== null ? result : { up: result !== false },
        ),
        timeout,
      ]);
    } catch (err) {
      return { up: false, reason: err instanceof Error ? err.message : 'check failed' };
    } finally {
      clearTimeout(timer);
    }
  }
}
