import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import type { Principal } from '../common/graphql/graphql-context';
import { AuditLogEntity } from './entities/audit-log.entity';

export type AuditPayload = Record<string, string | number | boolean | null | undefined>;

const ANONYMOUS = '(anonymous)';
const SECRET_KEYS = /pass(word)?|secret|token|authorization/i;

/** Drops anything secret-looking so the audit trail never holds credentials. */
export function sanitizeAuditPayload(payload: AuditPayload): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    clean[key] = SECRET_KEYS.test(key) ? '[REDACTED]' : value;
  }
  return clean;
}

@Injectable()
export class AuditLogService {
  constructor(
    @InjectRepository(AuditLogEntity) private readonly entries: Repository<AuditLogEntity>,
    private readonly clock: Clock,
  ) {}

  async record(
    actor: Principal,
    action: string,
    target: string | null,
    payload: AuditPayload,
    /** The transaction of the audited change, so both commit or neither does. */
    manager?: EntityManager,
  ): Promise<void> {
    const entries = manager ? manager.getRepository(AuditLogEntity) : this.entries;
    await entries.insert({
      id: randomUUID(),
      actorId: actor.id,
      actorUsername: actor.username,
      action,
      target,
      payload: JSON.stringify(sanitizeAuditPayload(payload)),
      createdAt: this.clock.now(),
    });
  }

  /** A refused attempt: the actor when a user is known, else anonymous. Returns the row id. */
  async recordRefusal(
    actor: { id: string; username: string } | null,
    action: string,
    payload: AuditPayload,
  ): Promise<string> {
    const id = randomUUID();
    await this.entries.insert({
      id,
      actorId: actor?.id ?? null,
      actorUsername: actor?.username ?? ANONYMOUS,
      action,
      target: null,
      payload: JSON.stringify(sanitizeAuditPayload(payload)),
      createdAt: this.clock.now(),
    });
    return id;
  }

  async updatePayload(id: string, payload: AuditPayload): Promise<void> {
    await this.entries.update({ id }, { payload: JSON.stringify(sanitizeAuditPayload(payload)) });
  }

  latest(limit: number): Promise<AuditLogEntity[]> {
    return this.entries.find({ order: { createdAt: 'DESC', id: 'DESC' }, take: limit });
  }
}
