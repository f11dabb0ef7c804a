import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One dealer's alert on one instrument. */
@Entity({ name: 'alerts' })
@Index('ix_alerts_user', ['userId', 'createdAt'])
@Index('ix_alerts_status', ['status'])
export class AlertEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ type: 'varchar', length: 16 })
  segment!: string;

  @Column({ name: 'security_id', type: 'varchar', length: 20 })
  securityId!: string;

  /** AlertMetric. */
  @Column({ type: 'varchar', length: 16 })
  metric!: string;

  /** AlertCondition. */
  @Column({ type: 'varchar', length: 8 })
  condition!: string;

  @Column({ type: 'double precision' })
  level!: number;

  @Column({ name: 'rearm_band', type: 'double precision' })
  rearmBand!: number;

  /** AlertStatus. */
  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ type: 'boolean' })
  armed!: boolean;

  /** JSON of the AlertAction (an order or a basket) placed when it fires; null for none. */
  @Column({ type: 'text', nullable: true })
  action!: string | null;

  @Column({ name: 'fired_count', type: 'integer' })
  firedCount!: number;

  @Column({ name: 'last_fired_at', type: Date, nullable: true })
  lastFiredAt!: Date | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}

/** One firing of an alert, and the placement of its order or basket. */
@Entity({ name: 'alert_firings' })
@Index('ix_alert_firings_alert', ['alertId', 'firedAt'])
@Index('ix_alert_firings_action', ['actionStatus'])
export class AlertFiringEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'alert_id', type: 'varchar', length: 36 })
  alertId!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  /** The metric's value that fired it. */
  @Column({ type: 'double precision' })
  value!: number;

  @Column({ name: 'fired_at', type: Date })
  firedAt!: Date;

  /** AlertActionStatus. */
  @Column({ name: 'action_status', type: 'varchar', length: 16 })
  actionStatus!: string;

  @Column({ name: 'order_id', type: 'varchar', length: 36, nullable: true })
  orderId!: string | null;

  @Column({ name: 'basket_id', type: 'varchar', length: 36, nullable: true })
  basketId!: string | null;

  @Column({ type: 'varchar', length: 300, nullable: true })
  message!: string | null;
}
