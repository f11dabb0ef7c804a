import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Flushes one file's data to the disk, off the event loop. */
export type SyncFile = (file: string) => Promise<void>;

/** What the flusher has done since it was made (read by /metrics). */
export interface WalFlushStats {
  /** fsyncs of the write-ahead log completed. */
  flushes: number;
  /** Durable commits that waited for one (several share one flush under load). */
  commits: number;
  /** Time spent in them, in seconds. */
  seconds: number;
}

/**
 * Makes SQLite commits durable without blocking the event loop, and in groups.
 *
 * better-sqlite3 runs statements on the event loop, so a commit at `synchronous = FULL` stops
 * every other piece of work (ticks, other dealers' orders) for as long as the disk takes to
 * flush. Instead, every commit is made at NORMAL (the WAL frames are written to the operating
 * system, not flushed), and a commit that must be durable waits for an fsync of the WAL file
 * in the thread pool. The WAL is one sequence: an fsync that starts after a commit has been
 * written flushes that commit and every one before it, so commits that ask while a flush is
 * running share the next one. A commit the database already checkpointed is durable too (the
 * checkpoint worker flushes the WAL before a checkpoint and the database file after it).
 *
 * `flush()` resolves once every commit written before the call is on the disk, and rejects if
 * the operating system reported a failed flush (the data must then be taken as not durable).
 */
export class WalFlusher {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private directorySynced = false;
  /** The log file, open while the database is (see syncOpen). */
  private walHandle: Promise<FileHandle> | undefined;
  private readonly sync: SyncFile;
  readonly stats: WalFlushStats = { flushes: 0, commits: 0, seconds: 0 };

  constructor(
    /** The database file; its log is `<file>-wal`. */
    private readonly databaseFile: string,
    sync?: SyncFile,
  ) {
    this.sync = sync ?? ((file) => this.syncOpen(file));
  }

  /** Closes the log file the flusher keeps open (after the database connection closed). */
  async close(): Promise<void> {
    const handle = this.walHandle;
    this.walHandle = undefined;
    if (handle) await (await handle.catch(() => undefined))?.close();
  }

  flush(): Promise<void> {
    this.stats.commits++;
    // A flush already started may have begun before the caller's commit was written: the
    // caller waits for the one after it, which every caller meanwhile shares.
    if (this.next !== undefined) return this.next;
    if (this.running === undefined) return this.start();
    const after = this.running.then(
      () => undefined,
      () => undefined,
    );
    this.next = after.then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<void> {
    const run = this.flushNow().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async flushNow(): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await this.sync(`${this.databaseFile}-wal`);
    } catch (e) {
      // No log file: everything was checkpointed into the database file (and flushed there).
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (!this.directorySynced) {
      // The log's entry in its folder, once: a file created since the last power cut.
      await this.sync(dirname(this.databaseFile));
      this.directorySynced = true;
    }
    this.stats.flushes++;
    this.stats.seconds += Number(process.hrtime.bigint() - started) / 1e9;
  }

  /**
   * Flushes through a handle kept open: one trip to the thread pool per flush instead of three.
   * SQLite keeps the log file (same inode: a checkpoint rewinds or truncates it, never
   * replaces it) while a connection is open; it deletes it when the last one closes. Another
   * file (the folder) is opened for the one flush.
   */
  private async syncOpen(file: string): Promise<void> {
    if (file !== `${this.databaseFile}-wal`) {
      const handle = await open(file, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      return;
    }
    this.walHandle ??= open(file, 'r');
    const opened = this.walHandle;
    try {
      // fdatasync, as SQLite itself flushes its log on Linux: the frames and what reading them
      // needs (the file's size when it grew), without the modification time's journal write.
      await (await opened).datasync();
    } catch (e) {
      // Opened again next time (a log not there yet, or a handle gone bad).
      if (this.walHandle === opened) this.walHandle = undefined;
      await opened.then((h) => h.close()).catch(() => undefined);
      throw e;
    }
  }
}
