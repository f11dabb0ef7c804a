import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The routing record: what execution sent to which gateway, written before the request leaves
 * so that a crash never loses it. `brokerOrderId` is null until the broker names the order.
 */
@Entity({ name: 'execution_orders' })
@Index('uq_execution_orders_correlation', ['correlationId'], { unique: true })
@Index('ix_execution_orders_broker', ['brokerOrderId'])
export class ExecutionOrderEntity {
  /** Our order id (the OMS's). */
  @PrimaryColumn({ name: 'order_id', type: 'varchar', length: 36 })
  orderId!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ type: 'varchar', length: 16 })
  segment!: string;

  @Column({ name: 'security_id', type: 'varchar', length: 20 })
  securityId!: string;

  @Column({ type: 'varchar', length: 4 })
  side!: string;

  @Column({ name: 'product_type', type: 'varchar', length: 12 })
  productType!: string;

  @Column({ type: 'integer' })
  quantity!: number;

  @Column({ name: 'correlation_id', type: 'varchar', length: 25 })
  correlationId!: string;

  /** 'dhan' or 'paper'. */
  @Column({ type: 'varchar', length: 8 })
  gateway!: string;

  @Column({ name: 'broker_order_id', type: 'varchar', length: 40, nullable: true })
  brokerOrderId!: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
