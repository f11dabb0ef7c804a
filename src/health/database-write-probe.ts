import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** A verdict is reused this long, so a busy `/ready` costs at most one write per interval. */
const PROBE_CACHE_MS = 1_000;
/** How long the probe waits for the write lock before calling the database down. */
const PROBE_LOCK_WAIT_MS = 250;
const PROBE_STATEMENT_MS = 1_500;
/**
 * A probe queued behind a long write of the application's own (SQLite runs one transaction at a
 * time) is slowness, not a fault: while the last write went through this recently, a probe that
 * has not finished within the patience counts as up. A failed write is reported at once.
 */
const RECENT_SUCCESS_MS = 10_000;
const PATIENCE_MS = 1_000;

/**
 * Proves the database takes writes, not just reads: rewrites one row of `health_probe` in a
 * transaction with a short lock wait. A read-only, locked, full or unwritable database fails
 * it. One probe at a time; its verdict is cached briefly.
 */
@Injectable()
export class DatabaseWriteProbe {
  private readonly logger = new Logger(DatabaseWriteProbe.name);
  private inFlight: Promise<boolean> | undefined;
  private last: { at: number; ok: boolean } | undefined;

  constructor(private readonly dataSource: DataSource) {}

  check(): Promise<boolean> {
    if (this.last && Date.now() - this.last.at < PROBE_CACHE_MS) {
      return Promise.resolve(this.last.ok);
    }
    this.inFlight ??= this.probe()
      .then(
        () => true,
        (error: unknown) => {
          this.logger.warn({ msg: 'database write probe failed', err: error });
          return false;
        },
      )
      .then((ok) => {
        this.last = { at: Date.now(), ok };
        this.inFlight = undefined;
        return ok;
      });
    const last = this.last;
    if (last?.ok && Date.now() - last.at < RECENT_SUCCESS_MS) {
      let timer: NodeJS.Timeout | undefined;
      const patience = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), PATIENCE_MS);
      });
      return Promise.race([this.inFlight, patience]).finally(() => clearTimeout(timer));
    }
    return this.inFlight;
  }

  private probe(): Promise<void> {
    const sqlite = this.dataSource.options.type === 'better-sqlite3';
    return this.dataSource.transaction(async (manager) => {
      if (!sqlite) {
        await manager.query(`SET LOCAL lock_timeout = '${PROBE_LOCK_WAIT_MS}ms'`);
        await manager.query(`SET LOCAL statement_timeout = '${PROBE_STATEMENT_MS}ms'`);
        await write(manager);
        return;
      }
      // better-sqlite3 waits for a lock synchronously: keep this wait short, then restore.
      const [{ timeout }] = (await manager.query('PRAGMA busy_timeout')) as { timeout: number }[];
      await manager.query(`PRAGMA busy_timeout = ${PROBE_LOCK_WAIT_MS}`);
      try {
        await write(manager);
      } finally {
        await manager.query(`PRAGMA busy_timeout = ${Number(timeout)}`);
      }
    });
  }
}

function write(manager: EntityManager): Promise<unknown> {
  return manager.query(`UPDATE health_probe SET checked_at = CURRENT_TIMESTAMP WHERE id = 'ready'`);
}
