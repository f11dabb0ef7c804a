import { AdminAccessRefusedEvent } from '../auth/auth.events';
import type { AuditLogService, AuditPayload } from './audit-log.service';
import { REFUSED_ACCESS_AUDIT, RefusedAccessAudit } from './refused-access-audit';

/** The two AuditLogService calls the auditor makes, over an array. */
class FakeAuditLog {
  readonly rows = new Map<string, { actor: string | null; payload: AuditPayload }>();
  private next = 0;
  async recordRefusal(actor: { id: string } | null, _action: string, payload: AuditPayload) {
    const id = `row-${(this.next += 1)}`;
    this.rows.set(id, { actor: actor?.id ?? null, payload });
    return id;
  }
  async updatePayload(id: string, payload: AuditPayload) {
    this.rows.get(id)!.payload = payload;
  }
}

const refused = (address: string, operation = 'Op', actor: { id: string } | null = null) =>
  new AdminAccessRefusedEvent(
    actor ? 'not an admin' : 'missing token',
    address,
    'http',
    operation,
    actor && { id: actor.id, username: actor.id },
  );

describe('RefusedAccessAudit', () => {
  let log: FakeAuditLog;
  let audit: RefusedAccessAudit;

  beforeEach(() => {
    log = new FakeAuditLog();
    audit = new RefusedAccessAudit(log as unknown as AuditLogService);
  });

  afterEach(async () => {
    await audit.onModuleDestroy();
  });

  it('writes the first refusal of a source at once and the count of the rest at the window end', async () => {
    for (let i = 0; i < 1000; i += 1) audit.onRefused(refused('198.51.100.7', `Op${i % 7}`));
    await Promise.resolve();
    expect(log.rows.size).toBe(1);
    expect([...log.rows.values()][0].payload).toMatchObject({ count: 1, operations: 'Op0' });
    await audit.onModuleDestroy();
    const [row] = [...log.rows.values()];
    expect(row.payload).toMatchObject({
      count: 1000,
      address: '198.51.100.7',
      operations: 'Op0, Op1, Op2, Op3, Op4',
    });
  });

  it('keeps sources apart, and bounds rows per window whatever the number of sources', async () => {
    audit.onRefused(refused('198.51.100.7', 'A', { id: 'user-1' }));
    audit.onRefused(refused('198.51.100.7', 'B'));
    await Promise.resolve();
    expect([...log.rows.values()].map((row) => row.actor)).toEqual(['user-1', null]);

    for (let i = 0; i < 10_000; i += 1)
      audit.onRefused(refused(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`));
    await audit.onModuleDestroy();
    expect(log.rows.size).toBe(REFUSED_ACCESS_AUDIT.maxRowsPerWindow + 1);
    const overflow = [...log.rows.values()].find(
      (row) => row.payload.reason === 'many sources (overflow)',
    );
    expect(overflow?.payload.count).toBe(10_000 - (REFUSED_ACCESS_AUDIT.maxRowsPerWindow - 2));
  });
});
