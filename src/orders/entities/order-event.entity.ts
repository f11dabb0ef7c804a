import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The order's event log and audit trail: one row per applied transition (seq 1 is the
 * creation), with the status before and after, what caused it and the event itself.
 */
@Entity({ name: 'order_events' })
@Index('uq_order_events_order_seq', ['orderId', 'seq'], { unique: true })
export class OrderEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'order_id', type: 'varchar', length: 36 })
  orderId!: string;

  @Column({ type: 'integer' })
  seq!: number;

  @Column({ type: 'varchar', length: 24 })
  type!: string;

  @Column({ name: 'from_status', type: 'varchar', length: 16, nullable: true })
  fromStatus!: string | null;

  @Column({ name: 'to_status', type: 'varchar', length: 16 })
  toStatus!: string;

  /** Who or what caused it: user, rms, broker, socket, reconciliation, lookup, recovery... */
  @Column({ type: 'varchar', length: 40 })
  cause!: string;

  /** JSON of the event. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: Date })
  at!: Date;
}
