import type { OrderEntity } from './entities/order.entity';

/** How many orders' rows are kept at most; the least recently used go first. */
export const KEPT_ROWS = 20_000;

interface Entry {
  /** The row as last committed, when known; undefined while a write is open or after one failed. */
  row: OrderEntity | undefined;
  /** The change counter when this order's entry last changed (a write began or ended). */
  changed: number;
  /** Writes of this order begun and not yet ended. */
  writing: number;
}

/**
 * The last committed row of each recently used order, on an instance that is the only writer
 * of its orders: most of a placement's steps read the row the step before wrote, and reading it
 * again (a statement, its 30 columns converted) was a large part of an order's CPU time.
 *
 * A row is kept only when it is known to be the database's: a write forgets the row when it
 * begins and keeps the one it committed when it ends, unless another write of the order began
 * meanwhile; a read keeps what it found only when no write of that order began or ended since the
 * read began (`ticket`), so a read that raced a write never puts back the row before it. The
 * optimistic version on every write (`WHERE version = ...`) still guards the database.
 */
export class KeptOrderRows {
  private readonly entries = new Map<string, Entry>();
  /** Counts every begin and end of a write. */
  private changes = 0;
  /** The largest `changed` of an entry dropped to bound the size: older reads are not kept. */
  private droppedUpTo = 0;

  constructor(private readonly capacity = KEPT_ROWS) {}

  /** The kept row of `id`, or undefined (read the database, with a `ticket` taken first). */
  get(id: string): OrderEntity | undefined {
    const entry = this.entries.get(id);
    if (entry?.row === undefined) return undefined;
    // Most recently used last, so the oldest are dropped first.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.row;
  }

  /** Taken before a read of the database; hand it to `read` with what the read found. */
  ticket(): number {
    return this.changes;
  }

  /** A read that began at `ticket` found `row`: kept unless a write of it began or ended since. */
  read(ticket: number, row: OrderEntity): void {
    const entry = this.entries.get(row.id);
    if (entry === undefined) {
      if (ticket < this.droppedUpTo) return;
      this.put(row.id, { row, changed: ticket, writing: 0 });
      return;
    }
    if (entry.writing > 0 || entry.changed > ticket) return;
    entry.row = row;
  }

  /** A write of `id` begins: its row is unknown until the write ends. */
  begin(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      this.put(id, { row: undefined, changed: ++this.changes, writing: 1 });
      return;
    }
    entry.row = undefined;
    entry.changed = ++this.changes;
    entry.writing += 1;
  }

  /**
   * The write of `id` ended: `row` is what it committed (undefined when it wrote nothing or its
   * outcome is unknown). Kept only when no other write of the order is open.
   */
  end(id: string, row: OrderEntity | undefined): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return; // never dropped while writing: see put
    entry.changed = ++this.changes;
    entry.writing -= 1;
    entry.row = entry.writing === 0 ? row : undefined;
  }

  /** A new order's first row, just committed (no write of it can have begun before). */
  created(row: OrderEntity): void {
    this.put(row.id, { row, changed: ++this.changes, writing: 0 });
  }

  /** Forgets every row; reads begun before are not kept. */
  clear(): void {
    this.entries.clear();
    this.droppedUpTo = ++this.changes;
  }

  get size(): number {
    return this.entries.size;
  }

  private put(id: string, entry: Entry): void {
    this.entries.set(id, entry);
    if (this.entries.size <= this.capacity) return;
    for (const [oldId, old] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      if (old.writing > 0) continue;
      this.entries.delete(oldId);
      if (old.changed > this.droppedUpTo) this.droppedUpTo = old.changed;
    }
  }
}
