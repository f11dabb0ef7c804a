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
 * The worker: its own connection to the file. Every `pollMs` it reads how many frames the log
 * holds and how many are already copied, from the wal-index header in the -shm file (SQLite's
 * documented WAL format: mxFrame at byte 16, nBackfill at byte 96, native byte order), and runs
 * a PASSIVE checkpoint when `thresholdFrames` wait to be copied, or when some wait and the log
 * did not move for `idleMs`; and when asked. Plain JavaScript run with `eval`, so it works the
 * same from the build and from the TypeScript sources under test; better-sqlite3 is required by
 * the path the main thread resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const littleEndian = require('node:os').endianness() === 'LE';
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const header = Buffer.alloc(100);
let shm = -1;
const frames = () => {
  try {
    if (shm < 0) shm = fs.openSync(workerData.file + '-shm', 'r');
    if (fs.readSync(shm, header, 0, 100, 0) < 100) return undefined;
    const u32 = (at) => (littleEndian ? header.readUInt32LE(at) : header.readUInt32BE(at));
    return { log: u32(16), copied: u32(96) };
  } catch {
    return undefined;
  }
};
const checkpoint = () => {
  const started = process.hrtime.bigint();
  const [row] = db.pragma('wal_checkpoint(PASSIVE)');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { busy: row.busy, log: row.log, checkpointed: row.checkpointed, seconds };
};
let seen = -1;
let movedAt = Date.now();
const poll = () => {
  const now = Date.now();
  const f = frames();
  if (f !== undefined) {
    if (f.log !== seen) {
      seen = f.log;
      movedAt = now;
    }
    const waiting = f.log - f.copied;
    if (waiting <= 0) return;
    if (waiting < workerData.thresholdFrames && now - movedAt < workerData.idleMs) return;
  }
  try {
    parentPort.postMessage({ type: 'checkpointed', result: checkpoint() });
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String((e && e.message) || e) });
  }
};
const timer = setInterval(poll, workerData.pollMs);
parentPort.on('message', (m) => {
  if (m.type === 'now') {
    try {
      parentPort.postMessage({ type: 'checkpointed', result: checkpoint(), id: m.id });
    } catch (e) {
      parentPort.postMessage({ type: 'error', message: String((e && e.message) || e), id: m.id });
    }
  } else if (m.type === 'stop') {
    clearInterval(timer);
    if (shm >= 0) fs.closeSync(shm);
    db.close();
    parentPort.close();
  }
});
`;

/** When the worker checkpoints (see WORKER_SOURCE). */
export interface CheckpointPolicy {
  pollMs: number;
  thresholdFrames: number;
  idleMs: number;
}

/** SQLite's own automatic checkpoint size (1,000 pages), read ten times a second. */
export const DEFAULT_CHECKPOINT_POLICY: CheckpointPolicy = {
  pollMs: 100,
  thresholdFrames: 1_000,
  idleMs: 2_000,
};

/**
 * Moves SQLite's checkpoints off the event loop.
 *
 * In WAL mode the connection that commits copies the log into the database file once the log
 * passes 1,000 pages (an automatic checkpoint), with a flush of the log before and of the
 * database after, and the log's new header flushed when it starts again: on the order path (a
 * few dozen pages per order) that was every few dozen orders, 5-20 ms with the event loop
 * stopped. The app's connection has automatic checkpoints off (`wal_autocheckpoint = 0`) and
 * this worker thread, with its own connection, runs a PASSIVE checkpoint at the same size (see
 * CheckpointPolicy): it never blocks the app's reads or writes, and copies what no reader still
 * needs. What stays on the app's connection is the flush of the log's header when the next
 * commit starts the log again (SQLite's `synchronous = NORMAL` needs it: without it a power cut
 * could let stale frames of the old log be replayed), one small flush per 1,000 pages.
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

  constructor(file: string, policy: CheckpointPolicy = DEFAULT_CHECKPOINT_POLICY) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, ...policy, driver: require.resolve('better-sqlite3') },
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
