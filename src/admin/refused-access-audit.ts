import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { ADMIN_ACCESS_REFUSED, AdminAccessRefusedEvent } from '../auth/auth.events';
import { AuditLogService } from './audit-log.service';

export const REFUSED_ACCESS_AUDIT = {
  /** Refusals of one actor (or address), reason and transport in a window share one row. */
  windowMs: 60_000,
  /** Distinct rows per window; refusals beyond share one overflow row. */
  maxRowsPerWindow: 50,
  /** Operation names kept per row. */
  maxOperations: 5,
} as const;

export const REFUSED_ACCESS_ACTION = 'adminAccessRefused';

interface Pending {
  id: Promise<string | undefined>;
  event: AdminAccessRefusedEvent;
  count: number;
  operations: Set<string>;
  overflow: boolean;
}

/**
 * Writes refused admin attempts to the audit log with a bound an attacker cannot push: the
 * first refusal of an actor (or, without one, an address), reason and transport in a minute is written at
 * once; later ones only raise that row's count, written when the minute ends. At most
 * maxRowsPerWindow + 1 rows a minute, whatever the flood.
 */
@Injectable()
export class RefusedAccessAudit implements OnModuleDestroy {
  private readonly logger = new Logger(RefusedAccessAudit.name);
  private pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly audit: AuditLogService) {
    this.timer = setInterval(() => void this.flush(), REFUSED_ACCESS_AUDIT.windowMs);
    this.timer.unref();
  }

  @OnEvent(ADMIN_ACCESS_REFUSED)
  onRefused(event: AdminAccessRefusedEvent): void {
    let key = [event.actor?.id ?? event.address, event.reason, event.transport].join('\u0000');
    if (!this.pending.has(key) && this.pending.size >= REFUSED_ACCESS_AUDIT.maxRowsPerWindow) {
      key = 'overflow';
    }
    const entry = this.pending.get(key);
    if (entry) {
      entry.count += 1;
      if (event.operation !== null && entry.operations.size < REFUSED_ACCESS_AUDIT.maxOperations) {
        entry.operations.add(event.operation);
      }
      return;
    }
    const created: Pending = {
      event,
      count: 1,
      operations: new Set(event.operation === null ? [] : [event.operation]),
      id: Promise.resolve(undefined),
      overflow: key === 'overflow',
    };
    created.id = this.write(created);
    this.pending.set(key, created);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Ends the window: rows whose count grew get their final count. */
  private async flush(): Promise<void> {
    const ended = this.pending;
    this.pending = new Map();
    await Promise.all(
      [...ended.values()]
        .filter((entry) => entry.count > 1)
        .map(async (entry) => {
          const id = await entry.id;
          if (id === undefined) return;
          try {
            await this.audit.updatePayload(id, this.payload(entry));
          } catch (error) {
            this.logger.error({ msg: 'audit of refused admin access failed', err: error });
          }
        }),
    );
  }

  private async write(entry: Pending): Promise<string | undefined> {
    const { actor } = entry.event;
    try {
      return await this.audit.recordRefusal(actor, REFUSED_ACCESS_ACTION, this.payload(entry));
    } catch (error) {
      this.logger.error({ msg: 'audit of refused admin access failed', err: error });
      return undefined;
    }
  }

  private payload(entry: Pending) {
    return {
      reason: entry.overflow ? 'many sources (overflow)' : entry.event.reason,
      address: entry.overflow ? 'many' : entry.event.address,
      transport: entry.event.transport,
      operations: [...entry.operations].join(', ') || null,
      count: entry.count,
    };
  }
}
