import { Worker } from 'node:worker_threads';

/** What the checkpointer has done (read by /metrics). */
export interface CheckpointStats {
  /** Checkpoints that copied log frames into the database file. */
  checkpoints: number;
  /** Time spent in them (disk writes and flushes, in the worker thread), seconds. */
  seconds: number;
  /** Frames copied. */
  frames: number;
}

/** One checkpoint's outcome, as SQLite reports it. */
export interface CheckpointResult {
  /** 1 when another connection held a lock it needed (it copies what it can). */
  busy: number;
  /** Frames in the log, and frames of it now in the database file. */
  log: number;
  checkpointed: number;
}

/*
 * The worker: its own connection to the file, a PASSIVE checkpoint every `intervalMs` and when
 * asked. Plain JavaScript run with `eval`, so it works the same from the build and from the
 * TypeScript sources under test; better-sqlite3 is required by the path the main thread
 * resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const checkpoint = () => {
  const started = process.hrtime.bigint();
  const [row] = db.pragma('wal_checkpoint(PASSIVE)');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { busy: row.busy, log: row.log, checkpointed: row.checkpointed, seconds };
};
let last = { log: 0, checkpointed: 0 };
const tick = () => {
  try {
    const result = checkpoint();
    if (result.log !== last.log || result.checkpointed !== last.checkpointed) {
      parentPort.postMessage({ type: 'checkpointed', result });
    }
    last = result;
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String(e && e.message || e) });
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m.type === 'now') {
    try {
      const result = checkpoint();
      last = result;
      parentPort.postMessage({ type: 'checkpointed', result, id: m.id });
    } catch (e) {
      parentPort.postMessage({ type: 'error', message: String(e && e.message || e), id: m.id });
    }
  } else if (m.type === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

/**
 * Moves SQLite's checkpoints off the event loop.
 *
 * In WAL mode the connection that commits copies the log into the database file once the log
 * passes 1,000 pages (an automatic checkpoint), with a flush of the log before and of the
 * database after: on the order path (a few dozen pages per order) that was every few dozen
 * orders, 5-20 ms with the event loop stopped. The app's connection has automatic checkpoints
 * off (`wal_autocheckpoint = 0`) and this worker thread, with its own connection, runs a
 * PASSIVE checkpoint every `intervalMs`: it never blocks the app's reads or writes, copies what
 * no reader still needs, and SQLite starts the log from its beginning again at the next commit
 * once all of it is copied. Idle, a checkpoint finds nothing to copy and costs microseconds.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (r: CheckpointResult) => void; reject: (e: Error) => void }
  >();
  private readonly listeners = new Set<(r: CheckpointResult) => void>();
  private stopped: Promise<void> | undefined;
  private exited = false;
  readonly stats: CheckpointStats = { checkpoints: 0, seconds: 0, frames: 0 };
  /** The last error the worker reported (a checkpoint that failed), if any. */
  lastError: string | undefined;

  constructor(file: string, intervalMs: number) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, intervalMs, driver: require.resolve('better-sqlite3') },
    });
    // The checkpointer never keeps the process alive on its own.
    this.worker.unref();
    this.worker.on(
      'message',
      (m: {
        type: string;
        result?: CheckpointResult & { seconds: number };
        id?: number;
        message?: string;
      }) => {
        const pending = m.id === undefined ? undefined : this.waiting.get(m.id);
        if (m.id !== undefined) this.waiting.delete(m.id);
        if (m.type === 'error') {
          this.lastError = m.message;
          pending?.reject(new Error(`checkpoint failed: ${m.message}`));
          return;
        }
        const result = m.result!;
        const copied = result.checkpointed;
        if (copied > 0) {
          this.stats.checkpoints++;
          this.stats.frames += copied;
        }
        this.stats.seconds += result.seconds;
        const outcome = { busy: result.busy, log: result.log, checkpointed: copied };
        pending?.resolve(outcome);
        for (const listener of this.listeners) listener(outcome);
      },
    );
    this.worker.once('exit', () => {
      this.exited = true;
      for (const p of this.waiting.values()) p.reject(new Error('the checkpointer stopped'));
      this.waiting.clear();
    });
    this.worker.on('error', (e) => {
      this.lastError = e.message;
      for (const p of this.waiting.values()) p.reject(e);
      this.waiting.clear();
    });
  }

  /** A checkpoint now (tests, and operators' tools), resolved with SQLite's figures. */
  checkpointNow(): Promise<CheckpointResult> {
    if (this.exited) return Promise.reject(new Error('the checkpointer stopped'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'now', id });
    });
  }

  /** Called with each checkpoint that found something new in the log. */
  onCheckpoint(listener: (r: CheckpointResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the worker and closes its connection (before the app's own connection closes). */
  stop(): Promise<void> {
    this.stopped ??= this.exited
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.worker.once('exit', () => resolve());
          this.worker.postMessage({ type: 'stop' });
        });
    return this.stopped;
  }
}
