import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  And,
  LessThan,
  MoreThanOrEqual,
  Repository,
  type EntityManager,
  type FindOptionsWhere,
} from 'typeorm';
import { Clock } from '../common/clock';
import type { Principal } from '../common/graphql/graphql-context';
import { AuditLogEntity } from './entities/audit-log.entity';

export type AuditValue =
  string | number | boolean | null | undefined | AuditValue[] | { [key: string]: AuditValue };
export type AuditPayload = Record<string, AuditValue>;

/** What the audit log can be filtered by (`to` exclusive). */
export interface AuditSearch {
  actor?: string;
  action?: string;
  target?: string;
  from?: Date;
  to?: Date;
}

const ANONYMOUS = '(anonymous)';
const SECRET_KEYS = /pass(word)?|secret|token|authorization/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Drops anything secret-looking, at any depth, so the audit trail never holds credentials
 * (before/after snapshots are nested objects).
 */
export function sanitizeAuditPayload(payload: AuditPayload): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    clean[key] = SECRET_KEYS.test(key) ? '[REDACTED]' : sanitizeValue(value);
  }
  return clean;
}

function sanitizeValue(value: AuditValue): unknown {
  if (Array.isArray(value)) return value.map(sanitizeValue);
  if (value !== null && typeof value === 'object') return sanitizeAuditPayload(value);
  return value;
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

  /** Newest first; `actor` matches the actor's id or username. */
  search(filter: AuditSearch, page: { limit: number; offset: number }): Promise<AuditLogEntity[]> {
    const base: FindOptionsWhere<AuditLogEntity> = {};
    if (filter.action !== undefined) base.action = filter.action;
    if (filter.target !== undefined) base.target = filter.target;
    if (filter.from && filter.to) {
      base.createdAt = And(MoreThanOrEqual(filter.from), LessThan(filter.to));
    } else if (filter.from) base.createdAt = MoreThanOrEqual(filter.from);
    else if (filter.to) base.createdAt = LessThan(filter.to);
    const actor = filter.actor;
    const where =
      actor === undefined
        ? base
        : UUID.test(actor)
          ? [
              { ...base, actorId: actor },
              { ...base, actorUsername: actor },
            ]
          : { ...base, actorUsername: actor };
    return this.entries.find({
      where,
      order: { createdAt: 'DESC', id: 'DESC' },
      take: page.limit,
      skip: page.offset,
    });
  }
}
