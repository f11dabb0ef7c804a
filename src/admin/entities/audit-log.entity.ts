import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One admin action. `payload` is JSON of the request without secrets. */
@Entity({ name: 'audit_log' })
export class AuditLogEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'actor_id', type: 'varchar', length: 36, nullable: true })
  actorId!: string | null;

  @Column({ name: 'actor_username', type: 'varchar', length: 64 })
  actorUsername!: string;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  target!: string | null;

  @Column({ type: 'text' })
  payload!: string;

  @Index('idx_audit_log_created_at')
  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
