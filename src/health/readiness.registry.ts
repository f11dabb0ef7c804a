import { Injectable } from '@nestjs/common';

/** Resolves when the dependency is usable; rejects (or returns false) when it is not. */
export type ReadinessCheck = () => Promise<boolean | void>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'up' | 'down'>;
}

const CHECK_TIMEOUT_MS = 2_000;

/** Dependencies `/ready` waits for. Modules register theirs (database now; feed, Redis later). */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await this.run(check)] as const),
    );
    const checks: Record<string, 'up' | 'down'> = {};
    for (const [name, up] of entries) checks[name] = up ? 'up' : 'down';
    return { ready: entries.every(([, up]) => up), checks };
  }

  private async run(check: ReadinessCheck): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
    });
    try {
      return await Promise.race([check().then((result) => result !== false), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
