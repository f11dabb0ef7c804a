import type { OrderEntity } from './entities/order.entity';
import { KeptOrderRows } from './kept-order-rows';

function row(id: string, version: number): OrderEntity {
  return { id, version, status: 'PENDING' } as OrderEntity;
}

describe('KeptOrderRows', () => {
  it('keeps a new order and what each write commits', () => {
    const rows = new KeptOrderRows();
    rows.created(row('a', 1));
    expect(rows.get('a')?.version).toBe(1);
    rows.begin('a');
    expect(rows.get('a')).toBeUndefined(); // unknown while the write is open
    rows.end('a', row('a', 2));
    expect(rows.get('a')?.version).toBe(2);
  });

  it('keeps nothing after a write that failed or wrote nothing', () => {
    const rows = new KeptOrderRows();
    rows.created(row('a', 1));
    rows.begin('a');
    rows.end('a', undefined);
    expect(rows.get('a')).toBeUndefined();
  });

  it('keeps a read only when no write of the order began or ended since the read began', () => {
    const rows = new KeptOrderRows();
    // A read that began before a write and answers after it ended: its row is the old one.
    let ticket = rows.ticket();
    rows.begin('a');
    rows.end('a', row('a', 2));
    rows.read(ticket, row('a', 1));
    expect(rows.get('a')?.version).toBe(2);

    // ... and answers while a later write is open: not kept either.
    ticket = rows.ticket();
    rows.begin('a');
    rows.read(ticket, row('a', 2));
    expect(rows.get('a')).toBeUndefined();
    rows.end('a', row('a', 3));
    expect(rows.get('a')?.version).toBe(3);

    // A read begun after the last write is the database's row.
    rows.begin('b');
    rows.end('b', undefined);
    ticket = rows.ticket();
    rows.read(ticket, row('b', 5));
    expect(rows.get('b')?.version).toBe(5);
  });

  it('keeps no row while two writes of one order overlap, and the last one to end decides', () => {
    const rows = new KeptOrderRows();
    rows.created(row('a', 1));
    rows.begin('a'); // wins
    rows.begin('a'); // finds the version moved on
    rows.end('a', row('a', 2));
    expect(rows.get('a')).toBeUndefined();
    rows.end('a', undefined);
    expect(rows.get('a')).toBeUndefined(); // read again from the database
  });

  it('drops the least recently used beyond its capacity, never an order being written, and keeps no read older than what it dropped', () => {
    const rows = new KeptOrderRows(2);
    const early = rows.ticket();
    rows.created(row('a', 1));
    rows.begin('w'); // open write: never dropped
    rows.created(row('b', 1));
    expect(rows.size).toBe(2);
    expect(rows.get('a')).toBeUndefined(); // dropped, the oldest not being written
    rows.end('w', row('w', 2));
    expect(rows.get('w')?.version).toBe(2);
    // A read begun before 'a' was dropped may predate a write of it: not kept.
    rows.read(early, row('a', 1));
    expect(rows.get('a')).toBeUndefined();
    rows.read(rows.ticket(), row('a', 1));
    expect(rows.get('a')?.version).toBe(1);
  });

  it('forgets every row on clear, and reads begun before it', () => {
    const rows = new KeptOrderRows();
    rows.created(row('a', 1));
    const ticket = rows.ticket();
    rows.clear();
    expect(rows.get('a')).toBeUndefined();
    rows.read(ticket, row('a', 1));
    expect(rows.get('a')).toBeUndefined();
  });

  it('never keeps a row other than the last committed, over random interleavings', () => {
    // A model: one order, writes that commit in the order they began (or fail), reads that see
    // the committed version at some moment between their start and their answer.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 200; run++) {
      const rows = new KeptOrderRows(3);
      let committed = 1;
      rows.created(row('a', committed));
      const openWrites: Array<{ fails: boolean }> = [];
      const openReads: Array<{ ticket: number; sees: number }> = [];
      for (let step = 0; step < 60; step++) {
        const r = random();
        if (r < 0.2) {
          openWrites.push({ fails: random() < 0.3 });
          rows.begin('a');
        } else if (r < 0.4 && openWrites.length > 0) {
          const write = openWrites.shift()!;
          if (!write.fails) committed += 1;
          rows.end('a', write.fails ? undefined : row('a', committed));
        } else if (r < 0.6) {
          openReads.push({ ticket: rows.ticket(), sees: committed });
        } else if (r < 0.8 && openReads.length > 0) {
          const read = openReads.splice(Math.floor(random() * openReads.length), 1)[0];
          rows.read(read.ticket, row('a', read.sees));
        } else if (r < 0.9) {
          rows.created(row(`other-${step}`, 1)); // pressure on the capacity
        }
        const kept = rows.get('a');
        if (kept !== undefined) expect(kept.version).toBe(committed);
      }
    }
  });
});
